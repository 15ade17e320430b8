"""The projection runner: follows the global event order and applies each event to the views
exactly once.

One batch is one transaction: under the views' writer lock it reads each projection's position,
reads the next events of the log after the lowest of them, writes every row they produce, and
moves each projection's position with a compare-and-set. A crash anywhere before the commit
leaves nothing of the batch; the next run starts from the committed positions, so no event is
skipped or applied twice. Rebuild drops the tables and replays from position 0.

An inconsistent log (changed outside the ledger) fails narrowly: an event that contradicts the
events before it — a duplicate entry id, a reversal of an entry never recorded, an event that
cannot be decoded — is left out and its county flagged in `fundledger_view_inconsistent`; the
views go on. A batch whose write hits a unique key is rolled back and redone carefully, each
event checked first (`Translator.check_unique`), so the normal path pays nothing for it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.utils import TopicError

from ledger.errors import StoreInconsistent
from projections import schema
from projections.db import UNIQUE_VIOLATIONS, Cursor, ViewDB
from projections.eventlog import EventLog
from projections.schema import COUNTIES, PROJECTIONS, TRACKING, ProjectionSpec
from projections.translate import Lookups, Translator
from projections.writer import write_flags, write_milestones, write_money

BATCH_EVENTS = 1000  # per transaction when following the log: short write locks
REBUILD_BATCH_EVENTS = 5000  # per transaction when replaying: fewer commits
Progress = Callable[[int, int], None]  # (position reached, head of the log)


class ViewsMoved(RuntimeError):
    """A projection's position changed under a batch that held the writer lock: the batch was
    rolled back (it would otherwise have applied events twice)."""


class Runner:
    """Catches the views up with the event log of one application."""

    def __init__(self, app: EventLog, db: ViewDB,
                 after_rows: Callable[[int], None] | None = None) -> None:
        """`after_rows(n)` runs after the n-th batch's rows are written and before its
        positions are committed: a hook for fault drills."""
        self.app, self.db = app, db
        self.lookups = Lookups()
        self.after_rows = after_rows
        self.batches = 0
        self._lock = threading.Lock()  # one catch-up per runner; other runners wait in the DB

    # ---- the tables ---------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the views' tables; drop and recreate those of another schema version."""
        with self.db.write() as cur:
            current = schema.tracking(cur, create=True)
            for projection in PROJECTIONS:
                found = current.get(projection.name)
                if found is not None and found[1] != schema.SCHEMA_VERSION:
                    schema.drop(cur, projection)
                schema.create(cur, projection)

    def drop(self, projections: tuple[ProjectionSpec, ...] = PROJECTIONS) -> None:
        with self.db.write() as cur:
            for projection in projections:
                schema.drop(cur, projection)
                schema.create(cur, projection)

    def positions(self) -> dict[str, int]:
        with self.db.read() as cur:
            return {name: row[0] for name, row in schema.tracking(cur).items()}

    # ---- catching up --------------------------------------------------------------------

    def catch_up(self, until: int | None = None, batch_events: int = BATCH_EVENTS,
                 progress: Progress | None = None) -> int:
        """Apply the events recorded so far; stop early once every projection is at `until`.

        Returns the lowest position of the projections afterwards.
        """
        with self._lock:
            head = self.db.head_position() if progress is not None else 0
            while True:
                reached = self._apply_batch_or_carefully(batch_events, until)
                if reached is None:
                    break
                if progress is not None:
                    progress(reached, max(head, reached))
            return min(self.positions().values())

    def rebuild(self, projections: tuple[ProjectionSpec, ...] = PROJECTIONS,
                progress: Progress | None = None) -> int:
        """Drop the projections' tables and replay the whole log into them."""
        self.drop(projections)
        position = self.catch_up(batch_events=REBUILD_BATCH_EVENTS, progress=progress)
        with self.db.write() as cur:  # fresh planner statistics for the reloaded tables
            for projection in projections:
                for table in projection.tables:
                    cur.execute(f"ANALYZE {table}")
        return position

    def _apply_batch_or_carefully(self, limit: int, until: int | None) -> int | None:
        try:
            return self._apply_batch(limit, until)
        except UNIQUE_VIOLATIONS:
            self.lookups = Lookups()  # the failed batch may have taught it what it then undid
        try:
            return self._apply_batch(limit, until, careful=True)
        except UNIQUE_VIOLATIONS as e:
            raise StoreInconsistent(
                f"读模型无法应用存储的事件（{e}）：存储可能已被改动，请运行 fundledger verify",
                f"the views cannot apply the stored events ({e}): the store may have been "
                "changed; run `fundledger verify`") from None

    def _apply_batch(self, limit: int, until: int | None, careful: bool = False) -> int | None:
        """One transaction; the position reached, or None when there was nothing to do."""
        with self.db.write() as cur:
            positions = {name: row[0] for name, row in schema.tracking(cur).items()}
            start = min(positions.values())
            if until is not None and start >= until:
                return None
            notifications = self.app.recorder.select_notifications(
                start, limit, inclusive_of_start=False)
            if not notifications:
                return None
            if not self.lookups.streams:
                self.lookups.load_streams(cur, COUNTIES)
            translator = Translator(cur, self.lookups, careful)
            money, milestones = positions["money"], positions["milestones"]
            for notification in notifications:
                try:
                    self._translate(translator, notification, money, milestones)
                except StoreInconsistent as e:
                    translator.flag(notification.originator_id, notification.originator_version,
                                    notification.id, e)
            write_money(cur, translator.money)
            write_milestones(cur, translator.milestones)
            write_flags(cur, translator.flags)
            self.batches += 1
            if self.after_rows is not None:
                self.after_rows(self.batches)
            last = int(notifications[-1].id)
            for name, position in positions.items():
                if last > position:
                    _advance(cur, name, position, last)
            return last


    def _translate(self, translator: Translator, notification: Any, money: int,
                   milestones: int) -> None:
        """One event into the batch's rows; StoreInconsistent (nothing added) if it cannot be."""
        try:
            event = self.app.mapper.to_domain_event(notification)
        except (ValueError, TopicError) as e:
            raise StoreInconsistent(
                f"存储的事件无法解码（{type(e).__name__}）：存储可能已被改动，请运行 fundledger "
                "verify", f"a stored event cannot be decoded ({type(e).__name__}): the store "
                "may have been changed; run `fundledger verify`") from None
        if translator.careful and notification.id > money:
            translator.check_unique(event)
        translator.lookups.observe(translator.cur, event)
        if notification.id > money:
            translator.money_event(event, notification.id)
        if notification.id > milestones:
            translator.milestone_event(event, notification.id)


def _advance(cur: Cursor, name: str, old: int, new: int) -> None:
    """Compare-and-set: the position moves only from the value this batch started from."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cur.execute(f"UPDATE {TRACKING} SET position = ?, updated_at = ? "
                "WHERE view_name = ? AND position = ?", (new, now, name, old))
    if cur.rowcount != 1:
        raise ViewsMoved(f"projection {name} moved from {old} during a batch; rolled back")
