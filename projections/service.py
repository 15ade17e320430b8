"""`Views`: the read models of one ledger, the one object the edges use.

Opening it creates the tables (idempotently). A read first makes the views reach the position
the reader needs — after its own write (read-your-writes), or the head of the log for a
short-lived process — by catching up synchronously under the writer lock, so a process needs no
background follower to read exactly; `follow()` starts one to keep the lag low for everyone.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projections import history as H
from projections import model as M
from projections import report, rollup, schema, source
from projections.db import ViewDB
from projections.eventlog import EventLog
from projections.follower import POLL_INTERVAL_S, Follower
from projections.runner import Progress, Runner


@dataclass(frozen=True)
class ProjectionState:
    name: str
    feeds: tuple[str, ...]
    tables: tuple[str, ...]
    position: int
    head: int
    lag_events: int
    updated_at: str


@dataclass(frozen=True)
class Rebuilt:
    events: int
    position: int
    seconds: float

    @property
    def events_per_s(self) -> int:
        return int(self.events / self.seconds) if self.seconds > 0 else 0


class Views:
    """Catch up, wait, rebuild and read the views of an event log (a `FundLedger`, or any
    `EventLog`)."""

    def __init__(self, app: EventLog, clock: Callable[[], dt.date] | None = None,
                 after_rows: Callable[[int], None] | None = None) -> None:
        self.app = app
        self.clock: Callable[[], dt.date] = (
            clock if clock is not None else app.today)
        self.db = ViewDB(app.recorder)
        self.runner = Runner(app, self.db, after_rows=after_rows)
        self.runner.ensure()

    # ---- keeping up ---------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event recorded so far; the position reached."""
        return self.runner.catch_up(progress=progress)

    def wait(self, position: int | None) -> None:
        """Return once every view has applied the event at `position` (a write's position)."""
        if position is None or min(self.runner.positions().values()) >= position:
            return
        self.runner.catch_up(until=position)

    def rebuild(self, progress: Progress | None = None) -> Rebuilt:
        """Drop every view and replay the whole log into it."""
        started = time.perf_counter()
        position = self.runner.rebuild(progress=progress)
        seconds = time.perf_counter() - started
        with self.db.read() as cur:
            events = self._event_count(cur)
        return Rebuilt(events, position, round(seconds, 3))

    def _event_count(self, cur: Any) -> int:
        row = cur.execute(f"SELECT COUNT(*) FROM {self.db.events_table}").fetchone()
        return int(row[0]) if row else 0

    def follow(self, poll_interval_s: float = POLL_INTERVAL_S, listen: bool = True) -> Follower:
        """Start a background follower (stop it with `.stop()`)."""
        return Follower(self.runner, self.db, poll_interval_s, listen).start()

    def status(self) -> list[ProjectionState]:
        head = self.db.head_position()
        with self.db.read() as cur:
            rows = schema.tracking(cur)
        states = []
        for p in schema.PROJECTIONS:
            position, _, updated = rows.get(p.name, (0, 0, ""))
            states.append(ProjectionState(p.name, p.feeds, p.tables, position, head,
                                          max(head - position, 0), updated))
        return states

    # ---- reading ------------------------------------------------------------------------

    def _prepare(self, as_of: M.AsOf, after: int | None, fresh: bool) -> None:
        if fresh:
            self.catch_up()
        self.wait(max(after or 0, as_of.position or 0) or None)

    def county(self, programme: str, county: str, year: int | None = None,
               as_of: M.AsOf = M.CURRENT, after: int | None = None,
               fresh: bool = False) -> report.CountyStatus:
        """A county's status. `after`: a position the reader wrote (waited for); `fresh`:
        catch up with the whole log first (for short-lived processes)."""
        self._prepare(as_of, after, fresh)
        with self.db.read() as cur:
            return report.county_status(cur, programme, county, self.clock(), as_of, year)

    def summary(self, programme: str, city: str | None = None, year: int | None = None,
                as_of: M.AsOf = M.CURRENT, after: int | None = None,
                fresh: bool = False) -> rollup.Summary:
        self._prepare(as_of, after, fresh)
        with self.db.read() as cur:
            return rollup.summary(cur, programme, self.clock(), as_of, city, year)

    def balances(self, programme: str, county: str,
                 as_of: M.AsOf = M.CURRENT) -> tuple[Any, list[Any]]:
        """The balance read alone: county money and per-category balances to date (one
        statement once the county's record and the rules are remembered)."""
        with self.db.read(snapshot=False) as cur:
            return report.balances_only(cur, programme, county, as_of)

    def history(self, query: H.HistoryQuery, cursor: str | None = None,
                limit: int = H.HISTORY_PAGE_DEFAULT_EVENTS) -> H.HistoryPage:
        """A page of stored events (`projections.history`): read from the log, not the views,
        so it needs no catching up."""
        with self.db.read() as cur:
            return H.history_page(cur, self.db.events_table, self.app.mapper.to_domain_event,
                                  query, cursor, limit)

    def inconsistencies(self) -> list[source.Inconsistency]:
        """Every stored event the views left out (and flagged its county for), in log order."""
        with self.db.read() as cur:
            names = [str(r[0]) for r in cur.execute(
                f"SELECT programme FROM {schema.PROGRAMMES} ORDER BY programme").fetchall()]
            found = {f.position: f for name in names or [""]
                     for f in source.inconsistencies(cur, name, M.CURRENT)}
        return [found[p] for p in sorted(found)]

    def close(self) -> None:
        self.db.close()
