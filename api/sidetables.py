"""Tables the edges keep beside the ledger, in its own store (tokens, idempotency records):
one connection per use, one transaction, the table made only by whoever writes it first.

The server's PostgreSQL role may read a table without being allowed to create it: reading a
table that was never made yields no cursor (`None`), never a `CREATE`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from ledger.sql import POSTGRES_CONNECT_TIMEOUT_S, SQLITE_LOCK_TIMEOUT_S, QmarkCursor
from ledger.stores import store_env


class SideTable:
    """One table of the store; subclasses name it and give its `CREATE TABLE IF NOT EXISTS`."""

    table: ClassVar[str]
    schema: ClassVar[str]

    def __init__(self, url: str) -> None:
        self._env = store_env(url)
        self.postgres = self._env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
        self._ready = False

    @contextmanager
    def cursor(self, create: bool = False) -> Iterator[QmarkCursor | None]:
        """A cursor in one transaction, committed when the block ends; None when the table
        was never made and `create` is not asked."""
        conn = self._connect()
        try:
            cur = QmarkCursor(conn.cursor(), self.postgres)
            if not self._ready:
                if create:
                    cur.execute(self.schema)
                elif not self._exists(cur):
                    yield None
                    return
                self._ready = True
            yield cur
            conn.commit()
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

            return psycopg.connect(dbname=e["POSTGRES_DBNAME"], host=e["POSTGRES_HOST"],
                                   port=e["POSTGRES_PORT"], user=e["POSTGRES_USER"],
                                   password=e["POSTGRES_PASSWORD"] or None,
                                   connect_timeout=POSTGRES_CONNECT_TIMEOUT_S)
        path = Path(e["SQLITE_DBNAME"]).absolute()
        # mode=rw: these tables are kept beside a ledger; never create an empty file for them.
        return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=SQLITE_LOCK_TIMEOUT_S)
