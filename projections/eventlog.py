"""What the read side needs of the ledger: its event log, not a write-side application.

`projections/` and `audit/` read stored events (the recorder), decode them into domain events
(the mapper) and judge duties as of a day (`today`); `FundLedger` satisfies this, and so does
anything else that holds an event store, so a read-only edge never needs the write side.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper


class EventLog(Protocol):
    """The stored events of one ledger, in notification order."""

    @property
    def recorder(self) -> ApplicationRecorder:
        """Reads notifications (position, stream, version, topic, state) in order."""

    @property
    def mapper(self) -> Mapper[UUID]:
        """Turns a stored event into its domain event."""

    def today(self) -> dt.date:
        """The day duties and deadlines are judged on."""
