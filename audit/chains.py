"""Verification of the per-stream hash chains, from stored rows.

It reads what is stored (never a cache, never the application's event classes): each row's
stream id, version, topic and JSON state; it recomputes every hash with `ledger.chain` and
checks every link. Memory holds one (version, hash) pair per stream, not the log.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from audit.checks import CONTENT_CHANGED, FINDINGS_MAX, Finding, Problem, link_problems
from ledger.chain import GENESIS_HASH, NON_DATA_FIELDS, event_hash, format_timestamp

PAGE_EVENTS = 2000
# Keys the event-store library adds to a stored state that are not event fields.
LIBRARY_KEYS = frozenset({"class_version"})


class StoredRow(Protocol):
    id: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes


@dataclass
class ChainReport:
    events: int = 0
    streams: int = 0
    findings: list[Finding] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.findings


def iter_rows(recorder: Any, page: int = PAGE_EVENTS) -> Iterator[StoredRow]:
    """Every stored event in global (notification) order, read in pages."""
    start = 1
    while True:
        rows = recorder.select_notifications(start, page)
        if not rows:
            return
        yield from rows
        start = rows[-1].id + 1


def decode_row(row: StoredRow) -> tuple[str, str, str, str, dict[str, Any]]:
    """(type, timestamp, prev_hash, event_hash, data) of a stored row; ValueError if malformed."""
    try:
        state = json.loads(row.state)
        ts = state["timestamp"]
        if not isinstance(ts, dict) or ts.get("_type_") != "datetime_iso":
            raise ValueError("timestamp is not an encoded datetime")
        when = dt.datetime.fromisoformat(ts["_data_"])
        if when.isoformat() != ts["_data_"]:  # only the form the library writes is accepted
            raise ValueError("timestamp is not in its stored canonical form")
        timestamp = format_timestamp(when)
        data = {k: v for k, v in state.items() if k not in NON_DATA_FIELDS | LIBRARY_KEYS}
        event_type = row.topic.split(":", 1)[1]
        # The library's pointer to the aggregate class is not hashed; it must agree with the
        # (hashed) type, or the stream would be rebuilt as another class.
        if "originator_topic" in state and state["originator_topic"] != row.topic.rsplit(".", 1)[0]:
            raise ValueError("originator_topic does not match the event's type")
        return event_type, timestamp, state["prev_hash"], state["event_hash"], data
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise ValueError(f"undecodable stored event: {e}") from None


def _label(data: dict[str, Any]) -> str:
    if "county_code" in data and "programme" in data:
        return f"county {data['county_code']} of {data['programme']}"
    if "programme" in data:
        return f"programme {data['programme']}"
    return ""


# Called with (stream id, version, type, data) of every decodable event: the rule audit's feed.
Observer = Callable[[str, int, str, dict[str, Any]], None]


def verify_chains(rows: Iterable[StoredRow], observe: Observer | None = None) -> ChainReport:
    """Recompute every hash and link; report broken places in log order. Each decoded event is
    also passed to `observe`, so that the rule audit needs no second parse."""
    report = ChainReport()
    heads: dict[str, tuple[int, str]] = {}
    for row in rows:
        report.events += 1
        sid = str(UUID(str(row.originator_id))) if not isinstance(row.originator_id, UUID) \
            else str(row.originator_id)
        last_version, last_hash = heads.get(sid, (0, GENESIS_HASH))
        problems, stored_hash = _check_row(row, sid, last_version, last_hash, report, observe)
        for zh, en in problems:
            if len(report.findings) < FINDINGS_MAX:
                report.findings.append(Finding(
                    "chains", report.labels.get(sid) or "event", zh, en, stream_id=sid,
                    version=row.originator_version, position=row.id))
        heads[sid] = (row.originator_version, stored_hash)
    report.streams = len(heads)
    return report


def _check_row(
    row: StoredRow, sid: str, last_version: int, last_hash: str, report: ChainReport,
    observe: Observer | None = None,
) -> tuple[list[Problem], str]:
    """The problems of one row, and its stored hash (the next link's expected prev_hash)."""
    try:
        event_type, timestamp, prev_hash, stored_hash, data = decode_row(row)
    except ValueError as e:
        gap = link_problems(row.originator_version, last_hash, (last_version, last_hash))
        return [*gap, ("存储的事件无法解码", str(e))], ""
    if row.originator_version == 1:
        report.labels[sid] = _label(data)
    if observe is not None:
        observe(sid, row.originator_version, event_type, data)
    problems = link_problems(row.originator_version, prev_hash, (last_version, last_hash))
    recomputed = event_hash(sid, row.originator_version, event_type, timestamp, prev_hash, data)
    if recomputed != stored_hash:
        problems.append(CONTENT_CHANGED)
    return problems, stored_hash
