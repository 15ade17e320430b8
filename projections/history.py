"""History: the stored events of a programme, a county, a project, an entry or an actor, in log
order, a page at a time — what `fundledger history` shows and the HTTP edge will serve.

It reads the event log itself (the events table of the store, decoded by the ledger's mapper),
not the views: history is the record, and it must show every event as stored. A page is read
in one snapshot; its cursor is the last log position examined, so the next page starts after it
and a concurrent append (always at a higher position) neither shifts nor repeats a page. A page
stops at `limit` events or after `SCAN_MAX_ROWS` rows examined, whichever is first: a rare actor
costs a bounded read per page, and the cursor says where to go on.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.chain import format_timestamp
from ledger.county import county_stream_id
from ledger.errors import (
    InvalidField,
    UnknownCounty,
    UnknownEntry,
    UnknownProgramme,
    UnknownProject,
)
from ledger.events import event_data
from ledger.programme import programme_stream_id
from projections.db import Cursor

HISTORY_PAGE_MAX_EVENTS = 1000  # the most events one page returns
HISTORY_PAGE_DEFAULT_EVENTS = 200
SCAN_BATCH_ROWS = 2000  # rows read per statement
SCAN_MAX_ROWS = 50_000  # rows examined per page at most (a page may then be short)
CURSOR_VERSION = "h1"
AMOUNT_KEYS = ("amount_fen", "budget_fen", "new_budget_fen", "allocation_fen", "limit_fen")
# Stored event class → the command kind that records it (the edges name kinds in Chinese).
EVENT_KINDS = {
    "Opened": "open_programme", "CountyAdmitted": "admit_county", "FundOpened": "admit_county",
    "AppropriationReceived": "appropriation", "BatchDecided": "batch_decision",
    "ProjectRegistered": "project", "BudgetAdjusted": "budget_adjustment",
    "DisbursementRecorded": "disbursement", "ExpenditureRecorded": "expenditure",
    "EntryReversed": "reversal", "RatioExceptionApproved": "ratio_exception",
    "FundsRecovered": "recovery", "YearClosed": "year_close",
    "MonthlyReportSubmitted": "monthly_report", "TypicalCaseReported": "typical_case",
    "AcceptanceRecorded": "acceptance", "AcceptanceConfirmed": "acceptance_confirmation",
}
Decode = Callable[[StoredEvent], Any]


@dataclass(frozen=True)
class HistoryQuery:
    """Which events: a programme's stream, or a county's (optionally one project or entry);
    `actor` (who acted or imported) over every stream of the programme unless a county is
    given; `since`/`until` bound the business date (inclusive)."""

    programme: str
    county: str | None = None
    project: str | None = None
    entry: str | None = None
    actor: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def fingerprint(self) -> str:
        """Ties a cursor to its query: a cursor of another query is refused, not misread."""
        text = "\x1f".join("" if v is None else str(v) for v in asdict(self).values())
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass(frozen=True)
class HistoryEvent:
    """One stored event as history shows it. `signed_amount_fen` is negative for a reversal
    (it takes money back); `amount_fen` is the amount as stored."""

    position: int
    stream_id: str
    county_code: str  # "" for the programme's own stream
    version: int
    type: str
    kind: str
    business_date: str | None
    actor_id: str | None
    actor_role: str | None
    imported_by_id: str | None
    imported_by_role: str | None
    timestamp: str
    entry_id: str
    project_code: str
    target_entry_id: str | None
    reason: str | None
    amount_fen: int | None
    signed_amount_fen: int | None
    event_hash: str
    prev_hash: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["actor"] = f"{self.actor_id} ({self.actor_role})"
        doc["imported_by"] = (f"{self.imported_by_id} ({self.imported_by_role})"
                              if self.imported_by_id is not None else None)
        return doc


@dataclass(frozen=True)
class HistoryPage:
    stream_ids: tuple[str, ...]
    events: list[HistoryEvent]
    next_cursor: str | None  # None: nothing after this page (as of its snapshot)


def encode_cursor(query: HistoryQuery, position: int) -> str:
    raw = f"{CURSOR_VERSION}:{position}:{query.fingerprint()}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(query: HistoryQuery, cursor: str | None) -> int:
    """The position a cursor continues after (0 without one); a bad cursor is refused."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, position, fingerprint = base64.urlsafe_b64decode(
            padded.encode("ascii")).decode("ascii").split(":")
        if version == CURSOR_VERSION and fingerprint == query.fingerprint() and \
                position.isdigit():
            return int(position)
    except (ValueError, UnicodeError, binascii.Error):
        pass
    raise InvalidField("游标无效：须为同一查询上一页给出的游标",
                       "invalid cursor: give the cursor the previous page of the same query "
                       "printed", "cursor")


def check_limit(limit: int) -> int:
    if not 1 <= limit <= HISTORY_PAGE_MAX_EVENTS:
        raise InvalidField(f"每页条数须在 1 至 {HISTORY_PAGE_MAX_EVENTS} 之间（给出 {limit}）",
                           f"the page size must be 1..{HISTORY_PAGE_MAX_EVENTS} (got {limit})",
                           "limit", limit=limit, max_events=HISTORY_PAGE_MAX_EVENTS)
    return limit


def history_page(cur: Cursor, events_table: str, decode: Decode, query: HistoryQuery,
                 cursor: str | None = None,
                 limit: int = HISTORY_PAGE_DEFAULT_EVENTS) -> HistoryPage:
    """One page of the query's events after `cursor`, read in the snapshot of `cur`."""
    check_limit(limit)
    after = decode_cursor(query, cursor)
    reader = _Reader(cur, events_table, decode)
    streams = _streams(reader, query)
    ids = tuple(streams)
    projects = _EntryProjects(reader, ids[0]) if query.project else None
    found: list[HistoryEvent] = []
    last, examined, more = after, 0, False
    for position, event in reader.rows(ids, after):
        last, examined = position, examined + 1
        item = _item(position, streams[event.originator_id], event)
        if _selected(item, query, projects):
            found.append(item)
        if len(found) == limit or examined == SCAN_MAX_ROWS:
            more = True
            break
    if not found and not more and after == 0:
        _unknown_reference(query)
    return HistoryPage(tuple(str(s) for s in ids), found,
                       encode_cursor(query, last) if more else None)


def _unknown_reference(query: HistoryQuery) -> None:
    """A whole history that is empty for a named project or entry, with no dates to narrow it:
    the county never recorded it (a reviewer is told so, not shown an empty table)."""
    if query.since is not None or query.until is not None or query.county is None:
        return
    if query.entry is not None:
        raise UnknownEntry.of("entry", entry=query.entry, county=query.county)
    if query.project is not None:
        raise UnknownProject.of("project", project_code=query.project,
                                county_code=query.county)


class _Reader:
    """The events table read in keyset batches, decoded by the ledger's mapper."""

    def __init__(self, cur: Cursor, table: str, decode: Decode) -> None:
        self.cur, self.table, self.decode = cur, table, decode
        self.nid = "notification_id" if cur.postgres else "rowid"

    def _key(self, stream: UUID) -> Any:
        return stream if self.cur.postgres else stream.hex  # SQLite stores 32 hex digits

    def rows(self, streams: tuple[UUID, ...], after: int,
             until: int | None = None) -> Iterator[tuple[int, Any]]:
        marks = ", ".join("?" * len(streams))
        bound = f" AND {self.nid} <= {int(until)}" if until is not None else ""
        sql = (f"SELECT {self.nid}, originator_id, originator_version, topic, state "
               f"FROM {self.table} WHERE {self.nid} > ?{bound} AND originator_id IN ({marks}) "
               f"ORDER BY {self.nid} LIMIT {SCAN_BATCH_ROWS}")
        keys = [self._key(s) for s in streams]
        while True:
            batch = self.cur.execute(sql, [after, *keys]).fetchall()
            for nid, originator_id, version, topic, state in batch:
                stored = StoredEvent(UUID(str(originator_id)), int(version), str(topic),
                                     bytes(state))
                yield int(nid), self.decode(stored)
            if len(batch) < SCAN_BATCH_ROWS:
                return
            after = int(batch[-1][0])


def _streams(reader: _Reader, query: HistoryQuery) -> dict[UUID, str]:
    """The query's streams and their county codes: the county's, or the programme's (and with
    `actor`, every county the programme admitted, known from its own stream)."""
    programme = programme_stream_id(query.programme)
    admitted = [event_data(e).get("county_code") for _, e in reader.rows((programme,), 0)]
    if not admitted:
        raise UnknownProgramme(f"项目 {query.programme} 尚未开设",
                               f"programme {query.programme} was never opened", "programme")
    if query.county is not None:
        if query.county not in admitted:
            raise UnknownCounty(f"县 {query.county} 未纳入项目 {query.programme}",
                                f"county {query.county} is not admitted to {query.programme}",
                                "county")
        return {county_stream_id(query.programme, query.county): query.county}
    counties = {county_stream_id(query.programme, c): str(c)
                for c in admitted if c and query.actor is not None}
    return {programme: "", **counties}


class _EntryProjects:
    """A county's entry → project, for a reversal (which names only its target entry)."""

    def __init__(self, reader: _Reader, stream: UUID) -> None:
        self.reader, self.stream = reader, stream
        self.known: dict[str, str] = {}
        self.read_to = 0

    def project_of(self, entry_id: str, position: int) -> str | None:
        if entry_id not in self.known and self.read_to < position:
            # A target precedes its reversal: read the stream up to the reversal, once.
            for nid, event in self.reader.rows((self.stream,), self.read_to, until=position):
                data = event_data(event)
                if data.get("entry_id") and data.get("project_code"):
                    self.known[data["entry_id"]] = data["project_code"]
                self.read_to = nid
        return self.known.get(entry_id)


def _item(position: int, county: str, event: Any) -> HistoryEvent:
    data = event_data(event)
    name = type(event).__name__
    amount = next((data[k] for k in AMOUNT_KEYS if k in data), None)
    amount = amount if isinstance(amount, int) else None
    signed = -amount if amount is not None and name == "EntryReversed" else amount
    return HistoryEvent(
        position, str(event.originator_id), county, event.originator_version, name,
        EVENT_KINDS.get(name, ""), data.get("business_date"), data.get("actor_id"),
        data.get("actor_role"), data.get("imported_by_id"), data.get("imported_by_role"),
        format_timestamp(event.timestamp), data.get("entry_id", ""),
        data.get("project_code", ""), data.get("target_entry_id"), data.get("reason"),
        amount, signed, event.event_hash, event.prev_hash, data)


def _selected(item: HistoryEvent, query: HistoryQuery,
              projects: _EntryProjects | None) -> bool:
    if query.actor is not None and query.actor not in (item.actor_id, item.imported_by_id):
        return False
    if not _in_dates(item.business_date, query):
        return False
    if query.entry is not None:
        return query.entry in (item.entry_id, item.target_entry_id)
    if query.project is not None and projects is not None:
        target = item.target_entry_id
        return query.project == item.project_code or (
            target is not None and projects.project_of(target, item.position) == query.project)
    return True


def _in_dates(day: object, query: HistoryQuery) -> bool:
    """Business dates are stored as YYYY-MM-DD, so text order is date order; an event without
    one (none of the ledger's) is outside any range."""
    if query.since is None and query.until is None:
        return True
    if not isinstance(day, str):
        return False
    return ((query.since is None or day >= query.since.isoformat())
            and (query.until is None or day <= query.until.isoformat()))
