"""What a bundle's manifest claims, held against what the bundle holds and proves.

The manifest is not signed: each of its fields is either checked here (or by the checks of
audit.offline) or left out of the report. A full bundle without `until` holds every leaf up to
its checkpoint; an `until` bundle holds only events recorded before the date's end, and — when
it stops before its checkpoint — proves with the first event it leaves out (`boundary.json`,
with an inclusion proof) that it stops where the date ends; a scoped bundle's programme and
county are those of its events. Standard library and `cryptography` only.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from itertools import zip_longest

from audit import formats as FMT
from audit.checkpoint import Checkpoint
from audit.merkle import leaf_hash, verify_inclusion
from audit.offline.bundle import BundleReport, _Bundle, _event, _loads
from audit.statements import StatementBuilder


def check_claims(b: _Bundle, builder: StatementBuilder, latest: Checkpoint | None) -> None:
    """Every claim of the manifest that the events can confirm: findings where they do not."""
    r, m = b.report, b.manifest
    if m.get("origin") != r.origin:
        r.add("bundle", f"{FMT.MANIFEST} origin",
              f"清单的 origin {m.get('origin')!r} 不是日志密钥与检查点的 {r.origin!r}",
              f"the manifest's origin {m.get('origin')!r} is not the log's {r.origin!r} "
              "(its keys and checkpoints)")
    _scope(r, builder)
    if latest is None:
        return
    until = _until(r)
    k = r.prefix_size
    if k > latest.size:
        if not r.scope.get("full"):  # a full bundle's prefix is checked with its leaves
            r.add("bundle", f"{FMT.MANIFEST} prefix_size", "前缀大于检查点",
                  "the prefix exceeds the checkpoint")
        return
    if until is None and k != latest.size:
        r.add("bundle", f"{FMT.MANIFEST} prefix_size",
              f"包只含日志的前 {k} 个叶子，检查点有 {latest.size} 个，且未声明 until："
              "包被截短",
              f"the bundle holds the log's first {k} leaves of the checkpoint's {latest.size} "
              "and states no `until` date: it was cut short")
    if until is not None:
        cutoff = FMT.until_cutoff(until)
        _before(b, cutoff, k)
        if k < latest.size:
            _boundary(b, cutoff, k, latest)


def _scope(r: BundleReport, builder: StatementBuilder) -> None:
    """A bundle that names a programme or county holds only the streams of that scope (a full
    bundle may name one, when the scope is the whole log); a scoped bundle names one."""
    scope = r.scope
    programme, county = scope.get("programme"), scope.get("county")
    if programme is None and county is None:
        if scope.get("full"):
            return
        r.add("bundle", f"{FMT.MANIFEST} scope", "部分包未指定项目或县",
              "a scoped bundle names neither a programme nor a county")
        return
    found = sorted({(c.programme, c.code) for c in builder.counties.values()})
    wrong = [(p, c) for p, c in found if (programme is not None and p != programme)
             or (county is not None and c != county)]
    if wrong:
        held = ", ".join(f"{p} {c}" for p, c in found) or "none"
        r.add("bundle", f"{FMT.MANIFEST} scope",
              f"清单声明项目 {programme or '-'} 县 {county or '-'}，而包中事件属于：{held}",
              f"the manifest states programme {programme or '-'} county {county or '-'}, but "
              f"the bundle's events are of: {held}")
        r.scope_confirmed = False
        return
    if programme is None and not found:
        return  # a county not admitted by the `until` date: its programme cannot be told
    stated = {programme} if programme is not None else {p for p, _ in found}
    extra = sorted(set(builder.rules) - stated)
    if extra:
        r.add("bundle", f"{FMT.MANIFEST} scope",
              f"包中含范围之外的项目流：{', '.join(extra)}",
              f"the bundle holds the stream of a programme outside its scope: {', '.join(extra)}")
        r.scope_confirmed = False


def _until(r: BundleReport) -> dt.date | None:
    value = r.scope.get("until")
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        r.add("bundle", f"{FMT.MANIFEST} scope", f"until 不是日期：{value!r}",
              f"`until` is not a date: {value!r}")
        return None


def _pairs(b: _Bundle) -> Iterator[tuple[bytes | None, bytes | None]]:
    with (b.dir / FMT.EVENTS).open("rb") as events, (b.dir / FMT.LEAVES).open("rb") as leaves:
        yield from zip_longest(events, leaves)


def _before(b: _Bundle, cutoff: str, k: int) -> None:
    """Every event was recorded before the cutoff, at a place before the prefix's end (a second
    read of the files, only for `until` bundles; unreadable lines are the event checks')."""
    r, late, beyond = b.report, 0, 0
    if not (b.dir / FMT.EVENTS).exists() or not (b.dir / FMT.LEAVES).exists():
        return
    for line, leaf_line in _pairs(b):
        try:
            if line is not None and str(_loads(line)["timestamp"]) >= cutoff:
                late += 1
            if leaf_line is not None and int(_loads(leaf_line)["leaf_index"]) >= k:
                beyond += 1
        except (ValueError, TypeError, KeyError):
            continue
    if late:
        r.add("bundle", f"{FMT.MANIFEST} scope",
              f"{late} 个事件记录于 until 日期之后（{cutoff} 起）",
              f"{late} events were recorded after the `until` date (at or after {cutoff})")
    if beyond:
        r.add("bundle", f"{FMT.MANIFEST} prefix_size",
              f"{beyond} 个叶子不在声明的前 {k} 个之内",
              f"{beyond} leaves lie beyond the stated prefix of {k}")


def _boundary(b: _Bundle, cutoff: str, k: int, latest: Checkpoint) -> None:
    """The first event left out is leaf k of the checkpoint, recorded at or after the cutoff."""
    r, place = b.report, FMT.BOUNDARY
    try:
        if not (b.dir / FMT.BOUNDARY).is_file():
            raise KeyError(FMT.BOUNDARY)
        doc = json.loads(b.read(FMT.BOUNDARY))
        line = json.dumps(doc["event"], ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()
        event, h = _event(BundleReport(""), 0, line)
        proof = [base64.b64decode(p, validate=True) for p in doc["inclusion_proof"]]
        index = doc["leaf_index"]
        proven = event is not None and h == doc.get("event_hash") and index == k and \
            verify_inclusion(leaf_hash(bytes.fromhex(h)), k, latest.size, proof, latest.root)
    except (ValueError, TypeError, KeyError):
        event, proven = None, False
    if not proven or event is None:
        r.add("bundle", place,
              f"包止于第 {k} 个叶子（早于检查点的 {latest.size} 个），但没有证明其后第一个事件"
              "在日志中该位置",
              f"the bundle stops at leaf {k}, before the checkpoint's {latest.size}, without "
              "proving the first event left out at that place of the log")
    elif str(event["timestamp"]) < cutoff:
        r.add("bundle", place,
              f"第 {k} 个叶子的事件记录于 until 日期之内（{event['timestamp']}）：包被截短",
              f"the event at leaf {k} was recorded within the `until` date "
              f"({event['timestamp']}): the bundle was cut short")
