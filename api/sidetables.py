"""Tables the edges keep beside the ledger, in its own store (tokens, idempotency records):
one transaction per use, the table made only by whoever writes it first.

A one-shot command opens a connection per use. A server process shares one small pool of
PostgreSQL connections among its side tables (`side_pool`): opening a PostgreSQL connection
forks a backend, and doing it three or four times per request was most of a write's time under
load (docs/performance.md, the HTTP API). SQLite connections are cheap and never pooled.

The server's PostgreSQL role may read a table without being allowed to create it: reading a
table that was never made yields no cursor (`None`), never a `CREATE`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

from ledger.sql import POSTGRES_CONNECT_TIMEOUT_S, SQLITE_LOCK_TIMEOUT_S, QmarkCursor
from ledger.stores import POSTGRES_POOL_SIZE, store_env


def _pg_params(env: dict[str, str]) -> dict[str, Any]:
    return {"dbname": env["POSTGRES_DBNAME"], "host": env["POSTGRES_HOST"],
            "port": env["POSTGRES_PORT"], "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"] or None,
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}


def side_pool(url: str) -> Any | None:
    """A pool of connections for the side tables of one long-lived process on PostgreSQL
    (close it when the process stops); None on SQLite."""
    env = store_env(url)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return None
    from psycopg_pool import ConnectionPool

    # Waiting for a free connection is bounded like connecting is: then the store is
    # unavailable (PoolTimeout is an OperationalError, answered 503).
    return ConnectionPool(kwargs=_pg_params(env), min_size=1, max_size=POSTGRES_POOL_SIZE,
                          timeout=POSTGRES_CONNECT_TIMEOUT_S, open=True,
                          name="fundledger-side-tables")


class SideTable:
    """One table of the store; subclasses name it and give its `CREATE TABLE IF NOT EXISTS`."""

    table: ClassVar[str]
    schema: ClassVar[str]

    def __init__(self, url: str, pool: Any | None = None) -> None:
        self._env = store_env(url)
        self.postgres = self._env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
        self._pool = pool  # from side_pool(url), or None: a connection per use
        self._ready = False

    @contextmanager
    def cursor(self, create: bool = False) -> Iterator[QmarkCursor | None]:
        """A cursor in one transaction, committed when the block ends; None when the table
        was never made and `create` is not asked."""
        with self._connection() as conn:
            cur = QmarkCursor(conn.cursor(), self.postgres)
            if not self._ready:
                if create:
                    self._create(conn, cur)
                elif not self._exists(cur):
                    yield None
                    return
            yield cur
            conn.commit()
            self._ready = True  # only now: a failed `_exists` check proves nothing

    def _create(self, conn: Any, cur: QmarkCursor) -> None:
        """CREATE TABLE IF NOT EXISTS. On PostgreSQL two processes doing it at once collide in
        the catalog once the first commits (a unique violation on pg_type, or "type ... already
        exists"): the table then exists, and the loser goes on. The CREATE is committed on its
        own, so a block that fails after it leaves the table made."""
        if not self.postgres:
            cur.execute(self.schema)
            return
        from psycopg import errors

        with suppress(errors.UniqueViolation, errors.DuplicateTable, errors.DuplicateObject), \
                conn.transaction():
            cur.execute(self.schema)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled connection (rolled back if the block fails), or a new one closed after."""
        if self._pool is not None:
            with self._pool.connection() as conn:
                yield conn
            return
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    def _exists(self, cur: QmarkCursor) -> bool:
        if self.postgres:
            return cur.execute("SELECT to_regclass(?)", (self.table,)).fetchone() != (None,)
        return cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (self.table,)).fetchone() is not None

    def _connect(self) -> Any:
        e = self._env
        if self.postgres:
            import psycopg

            return psycopg.connect(**_pg_params(e))
        path = Path(e["SQLITE_DBNAME"]).absolute()
        # mode=rw: these tables are kept beside a ledger; never create an empty file for them.
        return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=SQLITE_LOCK_TIMEOUT_S)
