"""The read models' database: the same file or database as the event store, reached through one
small interface for SQLite and PostgreSQL.

Write transactions are exclusive between processes (SQLite `BEGIN IMMEDIATE`, PostgreSQL a
transaction-scoped advisory lock), so two catch-ups never interleave; the compare-and-set on
the tracking row (see `projections.runner`) keeps exactly-once even without the lock. Reads run in
one snapshot (SQLite WAL read transaction, PostgreSQL REPEATABLE READ) so that a read never
mixes two positions of the views.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger.locks import VIEWS_LOCK_KEY
from ledger.sql import SQLITE_EVENTS_TABLE, SQLITE_VIEWS_LOCK_TIMEOUT_S, QmarkCursor, Row

# A write refused by a unique key: the views' rows would repeat what the log says once.
# (PostgreSQL: the event store's connections raise the library's IntegrityError.)
UNIQUE_VIOLATIONS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError, psycopg.IntegrityError, IntegrityError)


class Cursor(QmarkCursor):
    """A cursor that takes `?` placeholders on both stores.

    `memo` is its ViewDB's cache of rows that never change once written (a programme's rules,
    a county's record): facts of the log, so a rebuild writes them back identical.
    """

    def __init__(self, raw: Any, postgres: bool, memo: dict[Any, Any] | None = None) -> None:
        super().__init__(raw, postgres)
        self.memo: dict[Any, Any] = {} if memo is None else memo

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.raw.executemany(self._sql(sql), rows)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        """Insert rows; on PostgreSQL by COPY, several times faster than INSERTs in bulk."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            with self.raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


class ViewDB:
    """Connections to the store that holds both the events and the views."""

    def __init__(self, recorder: Any) -> None:
        self.postgres = isinstance(recorder, PostgresApplicationRecorder)
        if not self.postgres and not isinstance(recorder, SQLiteApplicationRecorder):
            raise TypeError(f"views need a SQLite or PostgreSQL event store, not {recorder!r}")
        self.recorder = recorder
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self.memo: dict[Any, Any] = {}
        if self.postgres:
            self.events_table = str(recorder.events_table_name)
            self.channel = str(recorder.channel_name)
        else:
            self.events_table, self.channel = SQLITE_EVENTS_TABLE, ""
            self.sqlite_path = str(recorder.datastore.pool.db_name)

    # ---- SQLite: one connection per thread, so that transactions never interleave ---------

    def _sqlite_conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.sqlite_path, isolation_level=None,
                                   timeout=SQLITE_VIEWS_LOCK_TIMEOUT_S, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
            self._opened.append(conn)
        return conn

    @contextmanager
    def _sqlite_txn(self, begin: str) -> Iterator[Cursor]:
        conn = self._sqlite_conn()
        cur = conn.cursor()
        cur.execute(begin)
        try:
            yield Cursor(cur, postgres=False, memo=self.memo)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    # ---- PostgreSQL: connections from the event store's pool ------------------------------

    @contextmanager
    def _pg_txn(self, write: bool) -> Iterator[Cursor]:
        from psycopg.rows import tuple_row

        with self.recorder.datastore.get_connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=tuple_row)
            if write:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (VIEWS_LOCK_KEY,))
            else:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield Cursor(cur, postgres=True, memo=self.memo)

    @contextmanager
    def _pg_statement(self) -> Iterator[Cursor]:
        from psycopg.rows import tuple_row

        with self.recorder.datastore.get_connection() as conn:  # autocommit: one statement
            yield Cursor(conn.cursor(row_factory=tuple_row), postgres=True, memo=self.memo)

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        """A transaction that no other writer of the views runs beside; commits on success."""
        if self.postgres:
            with self._pg_txn(write=True) as cur:
                yield cur
        else:
            with self._sqlite_txn("BEGIN IMMEDIATE") as cur:
                yield cur

    @contextmanager
    def read(self, snapshot: bool = True) -> Iterator[Cursor]:
        """A read-only snapshot of the views; `snapshot=False` for a reader that issues one
        statement (itself atomic), which saves PostgreSQL three round trips."""
        if self.postgres:
            with self._pg_txn(write=False) if snapshot else self._pg_statement() as cur:
                yield cur
        else:
            with self._sqlite_txn("BEGIN") as cur:
                yield cur

    def head_position(self) -> int:
        """The newest notification id in the event log (0 when empty)."""
        return int(self.recorder.max_notification_id() or 0)

    def close(self) -> None:
        for conn in self._opened:
            conn.close()
        self._opened.clear()
        self._local = threading.local()
