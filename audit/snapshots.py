"""Verification of stored snapshots: each one must be the state its stream's events produce.

Whatever the snapshot key (the verifier needs none): every stored snapshot row is held
against the aggregate replayed from the stored events up to the snapshot's version, by the
canonical encoding of the state (`ledger.snapshots.canonical_state`). A snapshot that differs,
that is not a snapshot of a ledger aggregate, or whose version has no event is a finding naming
the county and the version. The ledger itself never uses a snapshot that fails its tag (see
`ledger.snapshots`); this check shows an auditor that none was planted, whoever planted it.

The replay runs the ledger's own aggregate code: a snapshot is a cache of exactly that code's
output, so that is what it must equal. Memory: one stream's events at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import EventSourcingError, Snapshot
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic

from audit.db import Cursor, EventRow, LogDB, stream_id_of
from ledger.county import CountyFund
from ledger.events import ChainedEvent
from ledger.programme import Programme
from ledger.snapshots import SNAPSHOT_TOPIC, canonical_state

CHECK = "snapshots"
SQLITE_SNAPSHOTS_TABLE = "stored_snapshots"  # the library's fixed name on SQLite
AGGREGATES = (CountyFund, Programme)
# What a forged or broken stream can raise while the ledger's code replays it.
REPLAY_ERRORS = (EventSourcingError, ValueError, KeyError, TypeError, AttributeError,
                 RecursionError)


def _event_topics() -> frozenset[str]:
    return frozenset(get_topic(c) for agg in AGGREGATES for c in vars(agg).values()
                     if isinstance(c, type) and issubclass(c, ChainedEvent))


EVENT_TOPICS = _event_topics()
AGGREGATE_TOPICS = frozenset(get_topic(c) for c in AGGREGATES)


def _mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def snapshots_table(db: LogDB) -> str:
    return db.events_table.replace("_events", "_snapshots") if db.postgres \
        else SQLITE_SNAPSHOTS_TABLE


def _has_table(db: LogDB, cur: Cursor, table: str) -> bool:
    if db.postgres:
        return bool(cur.scalar("SELECT to_regclass(?) IS NOT NULL", [table]))
    return cur.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                   [table]) is not None


def check_snapshots(db: LogDB, cur: Cursor, report: Any) -> int:
    """Add a finding to `report` (an `audit.verify.LogReport`) for every stored snapshot that
    is not the replayed state; the number of snapshots checked."""
    table = snapshots_table(db)
    if not _has_table(db, cur, table):
        return 0
    versions: dict[str, list[int]] = {}
    for originator_id, version in cur.all(
            f"SELECT originator_id, originator_version FROM {table} "
            "ORDER BY originator_id, originator_version"):
        versions.setdefault(stream_id_of(originator_id), []).append(int(version))
    mapper = _mapper()
    for sid, wanted in versions.items():
        _check_stream(db, cur, report, mapper, table, sid, wanted)
    count = sum(len(v) for v in versions.values())
    if count:
        report.notes.append(f"{count} snapshots held against the state replayed from the events "
                            f"/ {count} 个快照已与事件重放的状态核对")
    return count


def _check_stream(db: LogDB, cur: Cursor, report: Any, mapper: Mapper[UUID], table: str,
                  sid: str, wanted: list[int]) -> None:
    events = db.stream_events(cur, sid)
    pending = list(wanted)
    agg: Any = None
    try:
        for agg in _replay(mapper, events):
            while pending and pending[0] == agg.version:
                _compare(db, cur, report, mapper, table, sid, agg, pending.pop(0))
            if not pending:
                return
    except REPLAY_ERRORS as e:
        for version in pending:
            _add(report, sid, version, agg,
                 f"快照之前的事件无法重放（{type(e).__name__}），快照无法证明",
                 f"the events before it do not replay ({type(e).__name__}: {e}), so the "
                 "snapshot cannot be proved")
        return
    last = agg.version if agg is not None else 0
    for version in pending:
        _add(report, sid, version, agg, f"该版本没有事件（流只有 {last} 个事件）：快照是伪造的",
             f"no event has this version (the stream has {last} events): the snapshot was "
             "planted")


def _replay(mapper: Mapper[UUID], events: Iterable[EventRow]) -> Iterable[Any]:
    """The aggregate after each stored event, replayed by the ledger's code."""
    agg: Any = None
    for row in events:
        if row.topic not in EVENT_TOPICS:
            raise ValueError(f"version {row.originator_version} has topic {row.topic!r}, "
                             "not a ledger event")
        event: Any = mapper.to_domain_event(StoredEvent(
            originator_id=UUID(stream_id_of(row.originator_id)),
            originator_version=row.originator_version, topic=row.topic, state=row.state))
        agg = event.mutate(agg)
        yield agg


def _compare(db: LogDB, cur: Cursor, report: Any, mapper: Mapper[UUID], table: str, sid: str,
             agg: Any, version: int) -> None:
    key: Any = sid if db.postgres else UUID(sid).hex
    row = cur.one(f"SELECT topic, state FROM {table} WHERE originator_id = ? AND "
                  "originator_version = ?", [key, version])
    assert row is not None  # listed in this same snapshot of the store
    expected = Snapshot.take(agg)
    try:
        doc = mapper.transcoder.decode(bytes(row[1]))
        if _older_layout(doc, expected):
            report.notes.append(
                f"snapshot of stream {sid} at version {version} has an earlier state layout: "
                f"the ledger ignores it / 流 {sid} 版本 {version} 的快照为旧的状态格式，账本不使用")
            return
        same = (row[0] == SNAPSHOT_TOPIC and isinstance(doc, dict)
                and doc.get("topic") == expected.topic
                and isinstance(doc.get("state"), dict)
                and canonical_state(doc["state"]) == canonical_state(expected.state))
    except (ValueError, TypeError, KeyError, RecursionError):
        same = False
    if not same:
        _add(report, sid, version, agg, "快照与事件重放得到的状态不符（快照被篡改或伪造）",
             "the snapshot is not the state that replaying the events gives (poisoned or "
             "planted)")


def _older_layout(doc: Any, expected: Any) -> bool:
    """A snapshot of the right aggregate whose state has an earlier `class_version` than the
    code's: written before an upgrade, and never read by the ledger (`ledger.snapshots`), so
    not evidence of anything; it cannot be compared with a replay by today's code."""
    if not (isinstance(doc, dict) and doc.get("topic") == expected.topic
            and isinstance(doc.get("state"), dict)):
        return False
    stored = doc["state"].get("class_version", 1)
    return isinstance(stored, int) and stored < expected.state.get("class_version", 1)


def _add(report: Any, sid: str, version: int, agg: Any, zh: str, en: str) -> None:
    county = getattr(agg, "county_code", None)
    programme = getattr(agg, "programme", None)
    if county:
        place = f"snapshot of county {county} ({programme}) at version {version}"
    elif programme:
        place = f"snapshot of programme {programme} at version {version}"
    else:
        place = f"snapshot of stream {sid} at version {version}"
    report.add(CHECK, place, zh, en, stream_id=sid, version=version)
