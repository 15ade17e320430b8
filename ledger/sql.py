"""Store infrastructure in one home, for everything that reads or writes the store beside the
event-store library (the read models in `projections.db`, the Merkle log in `audit.db`): the
events tables' names, the timeouts, and a cursor that takes `?` placeholders on both stores.
The advisory-lock keys are declared in `ledger.locks`, with what each guards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

# The library's fixed name on SQLite; on PostgreSQL it names the table after the application
# (`FundLedger.name.lower() + "_events"`: a test holds the two equal).
SQLITE_EVENTS_TABLE = "stored_events"
PG_EVENTS_TABLE = "fundledger_events"
# How long a writer waits for SQLite's one write lock before it reports the store busy.
SQLITE_LOCK_TIMEOUT_S = 30
# The read models' catch-up may wait behind a whole import's transaction: twice as long.
SQLITE_VIEWS_LOCK_TIMEOUT_S = 60
POSTGRES_CONNECT_TIMEOUT_S = 5
Row = tuple[Any, ...]


class QmarkCursor:
    """A DB-API cursor (sqlite3 or psycopg) that takes `?` placeholders on both stores."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw, self.postgres = raw, postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Self:
        self.raw.execute(self._sql(sql), params)
        return self

    def fetchall(self) -> list[Row]:
        return [tuple(r) for r in self.raw.fetchall()]

    def fetchone(self) -> Row | None:
        row = self.raw.fetchone()
        return None if row is None else tuple(row)

    @property
    def rowcount(self) -> int:
        return int(self.raw.rowcount)
