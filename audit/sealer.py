"""Sealing: every stored event, in notification order, becomes the next leaf of the log, once.

A page of events is read and appended in one transaction under the log's lock, so however many
sealers run, each event is appended exactly once and a crash leaves whole pages. The sealer
recomputes each event's hash and checks its link to the stream's last sealed event: it never
seals a broken event. Leaf index = number of leaves before it; notification ids may have gaps.

`follow` is the sealing loop (`fundledger seal --follow`, or any long-running edge): seal what
is new, sign a checkpoint every so often, until stopped; one process per store at a time,
elected by the store's sealer lock (`LogDB.sealer_lock`).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import log
from audit.chains import decode_row
from audit.db import Cursor, EventRow, LogDB, stream_id_of
from audit.errors import SealerRunning, SealRefused
from audit.log import Leaf
from audit.merkle import leaf_hash, new_nodes_for_append
from audit.signing import sign_latest
from ledger.chain import GENESIS_HASH, event_hash

SEAL_PAGE_EVENTS = 2000
FOLLOW_INTERVAL_S = 0.1  # the loop's poll when nothing was new
SIGN_EVERY_S = 10.0  # the loop signs at most one checkpoint per this many seconds


class _Nodes:
    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        self.nodes = nodes

    def node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


@dataclass
class _Page:
    rows: list[EventRow]
    size: int
    leaves: list[Leaf]
    nodes: list[tuple[int, int, bytes]]
    refusal: dict[str, object] | None = None  # SealRefused's details, less `sealed`


def seal(db: LogDB, page: int = SEAL_PAGE_EVENTS) -> int:
    """Append every stored event not yet sealed; return how many were sealed.

    Raises SealRefused at the first event that does not match its hash or chain (those
    before it stay sealed).
    """
    db.ensure_log()
    total = 0
    while True:
        with db.write() as cur:
            p = _read_page(db, cur, page)
            _append(cur, p)
            log.insert_leaves(cur, p.leaves)
            log.insert_nodes(cur, p.nodes)
        total += len(p.leaves)
        if p.refusal is not None:
            raise SealRefused.of("event", **p.refusal, sealed=total)
        if len(p.rows) < page:
            return total


def _read_page(db: LogDB, cur: Cursor, page: int) -> _Page:
    size, last_nid = log.tail(cur)
    # One statement, one snapshot: with the library's table lock on insert, the events
    # visible in it form a prefix of the notification order (gaps are rolled-back ids).
    rows = list(islice(db.all_events(cur, last_nid, page), page))
    return _Page(rows, size, [], [])


def _append(cur: Cursor, p: _Page) -> None:
    if not p.rows:
        return
    reader = _Nodes(log.frontier(cur, p.size))
    heads: dict[str, tuple[int, str]] = {}
    size = p.size
    for row in p.rows:
        sid = stream_id_of(row.originator_id)
        if sid not in heads:
            head = log.stream_head(cur, sid)
            heads[sid] = (head[0], head[1].hex()) if head else (0, GENESIS_HASH)
        problem, recomputed = _check(row, sid, heads[sid])
        if problem is not None:
            p.refusal = {"stream": sid, "version": row.originator_version,
                         "notification": row.id, "problem": problem}
            return
        digest = bytes.fromhex(recomputed)
        for level, index, h in new_nodes_for_append(size, leaf_hash(digest), reader):
            reader.nodes[(level, index)] = h
            if level:
                p.nodes.append((level, index, h))
        p.leaves.append(Leaf(size, row.id, sid, row.originator_version, digest))
        heads[sid] = (row.originator_version, recomputed)
        size += 1


def _check(row: EventRow, sid: str, head: tuple[int, str]) -> tuple[str | None, str]:
    """(what is wrong or None, the recomputed hash)."""
    try:
        event_type, timestamp, prev_hash, stored_hash, data = decode_row(row)
    except ValueError as e:
        return str(e), ""
    if row.originator_version != head[0] + 1:
        return (f"version {row.originator_version} does not follow the last sealed version "
                f"{head[0]} of its stream"), ""
    if prev_hash != head[1]:
        return "prev_hash does not match the previous event's hash", ""
    recomputed = event_hash(sid, row.originator_version, event_type, timestamp, prev_hash, data)
    if recomputed != stored_hash:
        return "the event's content does not match its hash", ""
    return None, recomputed


@dataclass
class Loop:
    """The sealing loop's settings: poll for new events every `interval_s` when nothing was
    new; sign a checkpoint (with `key`, a key file's (name, key)) at most every `sign_every_s`
    and once more on stopping, when anything was sealed since the last signature."""

    key: tuple[str, Ed25519PrivateKey] | None = None
    sign_every_s: float = SIGN_EVERY_S
    interval_s: float = FOLLOW_INTERVAL_S
    sealed: int = 0
    unsigned: int = 0
    signed_at: float | None = None  # monotonic seconds; None: not yet, so sign at once

    def sign(self, db: LogDB, now: float, final: bool = False) -> None:
        """Sign what was sealed since the last signature, if it is time (or `final`)."""
        if self.key is not None and self.unsigned and \
                (final or self.signed_at is None or now - self.signed_at >= self.sign_every_s):
            sign_latest(db, *self.key)
            self.signed_at, self.unsigned = now, 0


def follow(db: LogDB, should_stop: Callable[[], bool], loop: Loop | None = None,
           on_round: Callable[[int], None] | None = None) -> Loop:
    """Seal (and sign) until `should_stop()`, as the store's one sealing loop; SealerRunning
    if another process runs it. Returns the loop with what it did."""
    loop = loop if loop is not None else Loop()
    with db.sealer_lock() as elected:
        if not elected:
            raise SealerRunning.of()
        while not should_stop():
            sealed = seal(db)
            loop.sealed += sealed
            loop.unsigned += sealed
            loop.sign(db, time.monotonic())
            if on_round is not None:
                on_round(sealed)
            if sealed == 0:
                time.sleep(loop.interval_s)
        loop.sign(db, time.monotonic(), final=True)
    return loop


def until_signalled() -> Callable[[], bool]:
    """A stop flag raised by SIGINT or SIGTERM (the loop ends after its current round)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop.is_set
