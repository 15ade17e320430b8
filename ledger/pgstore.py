"""The PostgreSQL events recorder of the ledger: eventsourcing's, with two changes.

1. Large inserts are sent in plain (not pipelined) mode. With psycopg 3.3's pipeline mode, one
   insert of ~20,000 events (an import file) deadlocked: the client waited to read while the
   server waited for the rest of the statement. A plain transaction keeps the library's
   guarantees (table lock, one transaction, conflicts raised as IntegrityError). Small inserts
   keep the pipeline: it saves three round trips per single-entry write.
2. Creating the table also installs the append-only triggers: UPDATE, DELETE and TRUNCATE on
   the events table are refused for the application's role.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from ledger.locks import INSTALL_LOCK_KEY
from ledger.stores import APPEND_ONLY_SQL

CREATE_ATTEMPTS = 3
PIPELINE_MAX_EVENTS = 500  # the demo's 400-entry imports went through the pipeline unharmed


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """Events recorder for `fundledger_events`: plain-mode inserts, append-only table."""

    def create_table(self) -> None:
        # Composite types are created outside that transaction, with no IF NOT EXISTS: two
        # processes creating one together can collide on pg_type; the retry finds it there.
        for attempt in range(CREATE_ATTEMPTS):
            try:
                super().create_table()
                return
            except IntegrityError:
                if attempt == CREATE_ATTEMPTS - 1:
                    raise

    def _create_table(self, curs: Any) -> None:
        # The library's one transaction that creates the table and its indexes: one process at
        # a time (two starting together failed with "tuple concurrently updated"), and the
        # append-only triggers in the same transaction.
        curs.execute(f"SELECT pg_advisory_xact_lock({INSTALL_LOCK_KEY})")
        super()._create_table(curs)
        curs.execute(APPEND_ONLY_SQL.replace("{table}", self.events_table_name))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if len(stored_events) <= PIPELINE_MAX_EVENTS:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
