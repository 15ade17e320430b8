"""The audit log's own access to the store: one connection, on SQLite or PostgreSQL, chosen
by the same store URL as the ledger.

It reads the events table directly (never the application's cache or event classes) and owns
the log's tables. Writes run under one lock (a PostgreSQL advisory lock; SQLite's write lock
taken by BEGIN IMMEDIATE); reads run in one snapshot, so a verifier never sees a half-sealed
page. SQL is written with `?` placeholders and translated for psycopg.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Self
from uuid import UUID

from audit.schema import CHECKPOINTS, COSIGNATURES, KEYS, LEAVES, NODES, schema_statements
from audit.streams import STREAM_PAGE_ROWS, PageQuery, prefetched, unframe
from ledger.errors import StoreUnavailable
from ledger.locks import LOG_LOCK_KEY, SEALER_LOCK_KEY
from ledger.sql import (
    PG_EVENTS_TABLE,
    POSTGRES_CONNECT_TIMEOUT_S,
    SQLITE_EVENTS_TABLE,
    SQLITE_LOCK_TIMEOUT_S,
    QmarkCursor,
)
from ledger.stores import store_env

__all__ = ["CHECKPOINTS", "COSIGNATURES", "KEYS", "LEAVES", "NODES", "Cursor", "EventRow",
           "LogDB", "StoreMissing", "stream_id_of"]
SQLITE_SEALER_LOCK_SUFFIX = ".sealer-lock"  # SQLite has no advisory locks: a file's flock

class StoreMissing(StoreUnavailable):
    """The store named by the URL does not exist (a SQLite file that was never created): a
    usage error, like the CLI's own check for a ledger file."""

    code = "STORE_MISSING"
    template_zh = ("账本文件不存在：{path}；请先运行 `fundledger init` 或 `fundledger demo`，"
                   "或给出 --db")
    template_en = ("no ledger at {path}: run `fundledger init` or `fundledger demo` first, "
                   "or give --db")


class Cursor(QmarkCursor):
    """A cursor in one transaction; `?` placeholders on both stores."""

    def __init__(self, raw: Any, postgres: bool,
                 sibling: Callable[[], Any] | None = None) -> None:
        super().__init__(raw, postgres)
        self._sibling = sibling  # PostgreSQL: a new psycopg cursor in this same snapshot

    def stream(self, columns: Sequence[tuple[str, str]], tables: str, where: str = "TRUE",
               key: int = 0, page: int = STREAM_PAGE_ROWS,
               span: tuple[int, int] | None = None) -> Iterator[tuple[Any, ...]]:
        """Every row of `SELECT <columns> FROM <tables> WHERE <where>` in the order of the
        unique integer column `columns[key]`, with constant memory (see `audit.streams`).

        `columns` are (SQL expression, kind) pairs, kind one of int, uuid, text, bytes; `span`
        = (first, last) for a key dense in that range. On PostgreSQL the next page is fetched
        by a second connection in the same snapshot while this one's rows are used.
        """
        if not self.postgres:
            exprs = ", ".join(expr for expr, _ in columns)
            sql = f"SELECT {exprs} FROM {tables} WHERE {where} ORDER BY {columns[key][0]}"
            cursor = self.raw.connection.cursor()
            try:
                # Not `yield from`: that closes the cursor when the generator is dropped, which
                # may be after the connection closed (an error mid-stream), and Python then
                # prints the failed close as a traceback.
                for row in cursor.execute(sql):  # noqa: UP028 - see above
                    yield row
            finally:
                with suppress(sqlite3.ProgrammingError):  # the connection closed first
                    cursor.close()
            return
        query = PageQuery(columns, tables, where, key, page, span)
        pages = (prefetched(query.pages(self._sibling())) if self._sibling is not None
                 else query.pages(self.raw))
        for count, blob in pages:
            yield from unframe(blob, count, query.kinds)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Self:
        # No parameters: no placeholder parsing (PL/pgSQL bodies hold a literal '%').
        args = tuple(params) if params or not self.postgres else None
        if self.postgres:
            # Binary results: hashes come back as bytes without bytea text unescaping.
            self.raw.execute(self._sql(sql), args, binary=True)
        else:
            self.raw.execute(sql, args)
        return self

    def insert(self, table: str, columns: Sequence[tuple[str, str]],
               rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows: one statement of arrays on PostgreSQL (psycopg's executemany
        costs a round of Python work per row), executemany on SQLite.

        `columns` are (name, PostgreSQL type) pairs.
        """
        if not rows:
            return
        names = ", ".join(name for name, _ in columns)
        if not self.postgres:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        arrays = ", ".join(f"%s::{pg_type}[]" for _, pg_type in columns)
        self.raw.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",
                         [list(col) for col in zip(*rows, strict=True)])

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, params).raw.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.execute(sql, params).raw.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def paged(self, sql: str, params: Sequence[Any], start: Any, page: int,
              key: int = 0) -> Iterator[tuple[Any, ...]]:
        """Keyset pagination: `sql` ends in `> ? ORDER BY <key> LIMIT ?` (params precede)."""
        while True:
            rows = self.all(sql, [*params, start, page])
            yield from rows
            if len(rows) < page:
                return
            start = rows[-1][key]


class LogDB:
    """The log's connection to one store."""

    def __init__(self, url: str) -> None:
        env = store_env(url)
        self.url = url
        self.postgres = env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
        self.events_table = PG_EVENTS_TABLE if self.postgres else SQLITE_EVENTS_TABLE
        self.nid = "notification_id" if self.postgres else "rowid"
        self._env = env
        self._conn: Any = None
        self._log_ready = False  # the log's tables are known to exist

    # ---- connection ------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._conn is not None:
            return self._conn
        if self.postgres:
            import psycopg

            self._conn = psycopg.connect(**self._pg_args(), autocommit=True)
        else:
            path = self._env["SQLITE_DBNAME"]
            if not Path(path).exists():
                raise StoreMissing.of("db", path=path)
            # mode=rw: never create an empty file where a ledger was expected.
            self._conn = sqlite3.connect(f"file:{Path(path).absolute()}?mode=rw", uri=True,
                                         isolation_level=None, timeout=SQLITE_LOCK_TIMEOUT_S,
                                         check_same_thread=False)
        return self._conn

    def _pg_args(self) -> dict[str, Any]:
        e = self._env
        return {"dbname": e["POSTGRES_DBNAME"], "host": e["POSTGRES_HOST"],
                "port": e["POSTGRES_PORT"], "user": e["POSTGRES_USER"],
                "password": e["POSTGRES_PASSWORD"] or None,
                "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> LogDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Cursor]:
        raw = self._connect().cursor()
        raw.execute(begin)
        try:
            yield Cursor(raw, self.postgres)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        else:
            raw.execute("COMMIT")
        finally:
            raw.close()

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        """A write transaction holding the log's lock: one writer of the log at a time."""
        if self.postgres:
            with self._transaction("BEGIN") as cur:
                cur.execute(f"SELECT pg_advisory_xact_lock({LOG_LOCK_KEY})")
                yield cur
        else:
            with self._transaction("BEGIN IMMEDIATE") as cur:
                yield cur

    @contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        """A read-only transaction: every statement in it sees the same committed state (on
        PostgreSQL also the second connections its streams read ahead with)."""
        if not self.postgres:
            with self._transaction("BEGIN") as cur:
                yield cur
            return
        begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        siblings: list[Any] = []
        exported: list[str] = []
        with self._transaction(begin) as cur:

            def sibling() -> Any:
                import psycopg
                from psycopg import sql

                if not exported:
                    exported.append(str(cur.scalar("SELECT pg_export_snapshot()")))
                conn = psycopg.connect(**self._pg_args(), autocommit=True)
                siblings.append(conn)
                raw = conn.cursor()
                raw.execute(begin)
                raw.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(
                    sql.Literal(exported[0])))  # SET takes no bound parameters
                return raw

            cur._sibling = sibling
            try:
                yield cur
            finally:
                for conn in siblings:
                    conn.close()

    @contextmanager
    def sealer_lock(self) -> Iterator[bool]:
        """Whether this process got the store's one sealing loop, held until the block ends:
        on PostgreSQL a session advisory lock on this connection, on SQLite an exclusive
        flock of a file beside the store (never of the store itself: closing another
        descriptor of it would drop SQLite's own locks)."""
        if self.postgres:
            conn = self._connect()
            got = bool(conn.execute("SELECT pg_try_advisory_lock(%s)",
                                    (SEALER_LOCK_KEY,)).fetchone()[0])
            try:
                yield got
            finally:
                if got and not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (SEALER_LOCK_KEY,))
            return
        self._connect()  # StoreMissing before a lock file is made beside nothing
        path = self._env["SQLITE_DBNAME"] + SQLITE_SEALER_LOCK_SUFFIX
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
            except BlockingIOError:
                got = False
            yield got
        finally:
            os.close(fd)  # releases the flock

    # ---- schema ----------------------------------------------------------------------------

    def has_log(self, cur: Cursor) -> bool:
        """Whether the log's tables exist (a ledger that was never sealed has none)."""
        if self.postgres:
            return bool(cur.scalar("SELECT to_regclass(?) IS NOT NULL", [KEYS]))
        return cur.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                       [KEYS]) is not None

    def has_events(self, cur: Cursor) -> bool:
        if self.postgres:
            return bool(cur.scalar("SELECT to_regclass(?) IS NOT NULL", [self.events_table]))
        return cur.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                       [self.events_table]) is not None

    def ensure_log(self) -> None:
        """Create the log's tables (append-only on PostgreSQL and SQLite) if they are missing."""
        if self._log_ready:
            return
        with self.write() as cur:
            if self.has_log(cur):
                self._log_ready = True
                return
            for statement in schema_statements(self.postgres):
                cur.execute(statement)
        self._log_ready = True

    # ---- events ----------------------------------------------------------------------------

    def event_columns(self) -> str:
        return f"{self.nid}, originator_id, originator_version, topic, state"

    def events_after(self, cur: Cursor, after: int, page: int) -> Iterator[EventRow]:
        """Stored events with notification id > `after`, in order, read in pages."""
        sql = (f"SELECT {self.event_columns()} FROM {self.events_table} WHERE {self.nid} > ? "
               f"ORDER BY {self.nid} LIMIT ?")
        for row in cur.paged(sql, [], after, page):
            yield EventRow(*row)

    def all_events(self, cur: Cursor, after: int = 0,
                   page: int = STREAM_PAGE_ROWS) -> Iterator[EventRow]:
        """The stored events with notification id > `after`, in order, streamed."""
        # The uuid as text: PostgreSQL's own hyphenated lower-case form, cheaper to decode.
        columns = [(self.nid, "int"), ("originator_id::text" if self.postgres else
                                       "originator_id", "text"),
                   ("originator_version", "int"), ("topic", "text"), ("state", "bytes")]
        for row in cur.stream(columns, self.events_table, f"{self.nid} > {int(after)}", 0, page):
            yield EventRow(*row)

    def stream_events(self, cur: Cursor, stream_id: str) -> list[EventRow]:
        """Every stored event of one stream, by version."""
        key: Any = stream_id if self.postgres else UUID(stream_id).hex
        rows = cur.all(f"SELECT {self.event_columns()} FROM {self.events_table} "
                       "WHERE originator_id = ? ORDER BY originator_version", [key])
        return [EventRow(*r) for r in rows]


class EventRow:
    """One stored event as read from the events table (the `audit.chains.StoredRow` shape)."""

    __slots__ = ("id", "originator_id", "originator_version", "state", "topic")

    def __init__(self, nid: int, originator_id: Any, version: int, topic: str,
                 state: Any) -> None:
        self.id = nid
        self.originator_id = originator_id
        self.originator_version = version
        self.topic = topic
        # A state retyped TEXT behind the library's back is read as its UTF-8 bytes: the chain
        # and the hash then judge its content (bytes() of a str is a TypeError, an internal
        # error instead of a finding).
        self.state = (state.encode("utf-8", "surrogateescape") if isinstance(state, str)
                      else bytes(state))


_STREAM_IDS: dict[Any, str] = {}
_STREAM_IDS_MAX = 100_000  # a bounded memo: streams are few, but a cap costs nothing


def stream_id_of(originator_id: Any) -> str:
    """The canonical text form of a stored originator id (SQLite stores 32 hex digits)."""
    sid = _STREAM_IDS.get(originator_id)
    if sid is None:
        sid = str(originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id)))
        if len(_STREAM_IDS) < _STREAM_IDS_MAX:
            _STREAM_IDS[originator_id] = sid
    return sid
