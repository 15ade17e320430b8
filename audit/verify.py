"""Full verification of a store: chains, leaves, nodes, roots, checkpoints, keys, witnesses.

One pass in one snapshot, in pages. Each stored event goes through `audit.chains.verify_chains`
(its hash recomputed, its link checked) and its stored hash is held against the leaf at the same
place in the log: together, leaf = stored hash = recomputed hash. The tree is rebuilt leaf by
leaf (a compact range); every stored node and every checkpoint root is held against it, and so
is a checkpoint held outside (`held`). Memory: per-stream heads, one page, O(log n) tree hashes
and one root per checkpoint size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from audit import log
from audit.chains import ChainReport, StoredRow, verify_chains
from audit.checkpoint import Checkpoint
from audit.checks import (
    LEAF_WITHOUT_EVENT,
    NO_HELD_NOTE,
    ROOT_MISMATCH,
    Report,
    checkpoint_unverified,
    held_result,
    held_unverified,
    judge_keys,
    leaf_problem,
    loads,
    witnessed,
)
from audit.compact import CompactRange
from audit.cpcheck import (
    CosignatureEntry,
    body_of,
    check_checkpoint,
    check_cosignatures,
    missing_cosigners,
)
from audit.db import CHECKPOINTS, LEAVES, NODES, Cursor, LogDB, stream_id_of
from audit.keyhistory import KeyHistory, check_history, endorsed_by
from audit.merkle import leaf_hash, node_hash
from audit.note import NoteError, VerifierKey
from audit.ruleaudit import RuleAudit
from audit.snapshots import check_snapshots

PAGE_ROWS = 5000  # keyset pages, where a store is read in pages


@dataclass
class LogReport(Report):
    """What the log checks found, beside the chain report (the fields both verifiers report
    are `audit.checks.Report`'s)."""

    sealed: bool = False
    leaves: int = 0
    unsealed: int = 0
    checkpoints: int = 0
    latest: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The log's part of `fundledger verify --json` (findings are listed beside it)."""
        return {"sealed": self.sealed, "leaves": self.leaves, "unsealed": self.unsealed,
                "origin": self.origin, "keys": self.keys, "keys_trusted": self.keys_trusted,
                "checkpoints": self.checkpoints, "latest": self.latest, "held": self.held,
                "notes": self.notes, "checks_failed": sorted(self.findings.checks)}


@dataclass
class StoreReport:
    """What verifying a store found: the chains' report and the log's, as one document."""

    chain: ChainReport
    log: LogReport

    @property
    def intact(self) -> bool:
        return self.chain.intact and not self.log.findings

    def descriptions(self) -> list[str]:
        """Every finding kept, chains first, each in one line of both languages."""
        return [f.describe() for f in self.chain.findings] + \
            [f.describe() for f in self.log.findings.items]

    def to_dict(self) -> dict[str, Any]:
        return {"intact": self.intact, "events": self.chain.events,
                "streams": self.chain.streams,
                "findings": [{"kind": "chain", **f.__dict__, "description": f.describe()}
                             for f in self.chain.findings]
                + [f.to_dict() for f in self.log.findings.items],
                "log": self.log.to_dict()}


def _check_nodes(cur: Cursor, report: LogReport, size: int) -> None:
    """Every stored node is the hash of its two stored children (level 1: of two leaves), and
    each level holds exactly the complete subtrees of a tree of `size` leaves. With the leaves
    checked against the events, every node is then right, by induction up the levels."""
    counts = {int(level): (int(n), int(top)) for level, n, top in cur.all(
        f"SELECT level, COUNT(*), MAX(idx) FROM {NODES} GROUP BY level")}
    for level in sorted(set(counts) | set(range(1, size.bit_length()))):
        want = size >> level
        n, top = counts.get(level, (0, -1))
        if (n, top) != (want, want - 1):
            report.add("nodes", f"nodes of level {level}",
                       f"该层存储了 {n} 个节点，应为 {want} 个",
                       f"{n} nodes are stored at this level where a tree of {size} leaves has "
                       f"{want}")
        if n:
            _check_level(cur, report, level, top)


def _check_level(cur: Cursor, report: LogReport, level: int, top: int) -> None:
    if level == 1:
        kids = (f"{LEAVES} a ON a.leaf_index = 2 * p.idx", f"{LEAVES} b ON b.leaf_index = "
                "2 * p.idx + 1", "event_hash")
    else:
        kids = (f"{NODES} a ON a.level = p.level - 1 AND a.idx = 2 * p.idx",
                f"{NODES} b ON b.level = p.level - 1 AND b.idx = 2 * p.idx + 1", "hash")
    tables = f"{NODES} p LEFT JOIN {kids[0]} LEFT JOIN {kids[1]}"
    columns = [("p.idx", "int"), ("p.hash", "bytes"), (f"a.{kids[2]}", "bytes"),
               (f"b.{kids[2]}", "bytes")]
    for idx, h, a, b in cur.stream(columns, tables, f"p.level = {int(level)}", span=(0, top)):
        if a is None or b is None:
            ok = False
        elif level == 1:
            ok = node_hash(leaf_hash(bytes(a)), leaf_hash(bytes(b))) == bytes(h)
        else:
            ok = node_hash(bytes(a), bytes(b)) == bytes(h)
        if not ok:
            report.add("nodes", f"node level {level} index {idx}", "存储的节点与其下的子节点不符",
                       "the stored node does not match the children below it")


def _stored_hash(row: StoredRow) -> str | None:
    """The event hash a row claims, as `verify_chains` reads it (parsed by `checks.loads`)."""
    try:
        value = loads(row.state)["event_hash"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _check_leaf(report: LogReport, i: int, leaf: log.LeafRow, sid: str, version: int,
                stored: str | None) -> None:
    index, leaf_sid, leaf_version, event_hash = leaf
    problem = leaf_problem(index, i, (leaf_sid, leaf_version), (sid, version),
                           (event_hash.hex(), stored))
    if problem is not None:
        report.add("leaves", f"leaf {i}", *problem, leaf_index=i, stream_id=sid,
                   version=version)


def _keys(cur: Cursor, report: LogReport, trusted: Sequence[VerifierKey]) -> KeyHistory:
    origin, records = log.key_records(cur)
    history, problems = check_history(records)
    report.origin = history.origin or origin
    judge_keys(report, problems, [k.vkey() for k in history.keys],
               endorsed_by(history, trusted) if trusted else None)
    return history


def verify_store(
    db: LogDB, trusted_keys: Sequence[VerifierKey] = (),
    trusted_witnesses: Sequence[VerifierKey] = (), held_note: str | None = None,
    page: int = PAGE_ROWS, quorum: int | None = None,
) -> tuple[ChainReport, LogReport]:
    """Verify everything stored; the chain report (of `verify_chains`) and the log report.

    Every witness in `trusted_witnesses` (or `quorum` of them) must have cosigned the latest
    checkpoint: a witness that refused (a fork) or whose cosignature was removed is a finding."""
    report = LogReport()
    rules = RuleAudit()  # the hard rules re-checked as the events pass
    with db.snapshot() as cur:
        check_snapshots(db, cur, report)  # every stored snapshot against the replayed state
        if not db.has_events(cur):
            _witnessed(report, trusted_witnesses, quorum)
            return verify_chains(()), report
        if not db.has_log(cur):
            _witnessed(report, trusted_witnesses, quorum)
            chain = verify_chains(db.events_after(cur, 0, page), rules.add)
            rules.finish(report.findings)
            report.unsealed = chain.events
            report.notes.append("the log was never sealed: no leaf, no checkpoint verified "
                                "/ 日志尚未封存")
            if held_note is not None:
                report.add("held", "held checkpoint", "存储中没有日志，无法核对外部持有的检查点",
                           "the store has no log to hold the held checkpoint against")
            return chain, report
        report.sealed = True
        history = _keys(cur, report, trusted_keys)
        held = _held_body(report, held_note)
        sizes = {int(s) for (s,) in cur.all(f"SELECT DISTINCT size FROM {CHECKPOINTS}")}
        if held is not None:
            sizes.add(held.size)
        scan = _Scan(cur, report, sizes)
        chain = verify_chains(scan.tap(db.all_events(cur)), rules.add)
        scan.finish()
        rules.finish(report.findings)
        # Signed facts first: their findings say most about what happened.
        _checkpoints(cur, report, history, scan.roots, trusted_witnesses)
        _witnessed(report, trusted_witnesses, quorum)
        if held_note is not None and held is not None:
            _check_held(report, history, trusted_keys, held_note, scan.roots)
        _check_nodes(cur, report, report.leaves)
    return chain, report


class _Scan:
    """Events beside leaves: each row passes through to `verify_chains`, then meets its leaf."""

    def __init__(self, leaves_cur: Cursor, report: LogReport, sizes: set[int]) -> None:
        self.report, self.sizes, self.tree = report, sizes, CompactRange()
        self.roots: dict[int, bytes] = {0: self.tree.root()} if 0 in sizes else {}
        self.leaves = log.stream_leaves(leaves_cur)

    def tap(self, rows: Iterable[StoredRow]) -> Iterator[StoredRow]:
        leaves, push, sizes = self.leaves, self.tree.push_event_hash, self.sizes
        for i, row in enumerate(rows):
            yield row  # verify_chains checks it before asking for the next
            leaf = next(leaves, None)
            if leaf is None:
                self.report.unsealed += 1
                continue
            sid, stored = stream_id_of(row.originator_id), _stored_hash(row)
            if leaf[0] != i or leaf[1] != sid or leaf[2] != row.originator_version or \
                    stored is None or leaf[3].hex() != stored:
                _check_leaf(self.report, i, leaf, sid, row.originator_version, stored)
            push(leaf[3])
            if i + 1 in sizes:
                self.roots[i + 1] = self.tree.root()

    def finish(self) -> None:
        for index, sid, version, event_hash in self.leaves:
            self.report.add("leaves", f"leaf {index}", *LEAF_WITHOUT_EVENT, leaf_index=index,
                            stream_id=sid, version=version)
            self.tree.push_event_hash(event_hash)
            if self.tree.size in self.sizes:
                self.roots[self.tree.size] = self.tree.root()
        self.report.leaves = self.tree.size


def _checkpoints(cur: Cursor, report: LogReport, history: KeyHistory, roots: dict[int, bytes],
                 witnesses: Sequence[VerifierKey]) -> None:
    last_size = -1
    for cp in log.iter_checkpoints(cur):
        report.checkpoints += 1
        place = f"checkpoint #{cp.seq} (size {cp.size})"
        try:
            body = check_checkpoint(cp.note, history)
        except NoteError as e:
            checkpoint_unverified(report, place, e)
            continue
        if (body.size, body.root) != (cp.size, cp.root):
            report.add("checkpoints", place, "检查点的签名内容与其记录不符",
                       "the signed checkpoint differs from its stored size and root")
        if cp.size < last_size:
            report.add("checkpoints", place, "检查点大小倒退", "a later checkpoint is smaller")
        last_size = max(last_size, cp.size)
        if cp.size > report.leaves:
            report.add("checkpoints", place,
                       f"检查点覆盖 {cp.size} 个叶子，日志只有 {report.leaves} 个"
                       "（最新事件被删除？）",
                       f"the signed checkpoint covers {cp.size} leaves but the log has only "
                       f"{report.leaves} (newest events or leaves deleted)")
        elif roots.get(cp.size) != body.root:
            report.add("checkpoints", place, *ROOT_MISMATCH)
        _cosignatures(cur, report, cp, witnesses)


def _cosignatures(cur: Cursor, report: LogReport, cp: log.StoredCheckpoint,
            witnesses: Sequence[VerifierKey]) -> None:
    entries = [CosignatureEntry(c.witness, c.vkey, c.line) for c in log.cosignatures(cur, cp.seq)]
    done, problems = check_cosignatures(cp.note, entries, witnesses)
    for zh, en in problems:
        report.add("cosignatures", f"checkpoint #{cp.seq} (size {cp.size})", zh, en)
    if report.latest is None or cp.size >= report.latest["size"]:
        report.latest = {"seq": cp.seq, "size": cp.size, "root": body_of(cp.note).root.hex(),
                         "key_id": cp.key_id, "note": cp.note, "cosignatures": done}


def _witnessed(report: LogReport, witnesses: Sequence[VerifierKey], quorum: int | None) -> None:
    """The witnesses held outside (`--witness`) must have cosigned the latest checkpoint."""
    if witnesses:
        latest = report.latest
        place = f"checkpoint #{latest['seq']} (size {latest['size']})" if latest else ""
        witnessed(report, latest, place,
                  lambda cosigned: missing_cosigners(cosigned, witnesses, quorum))


def _held_body(report: LogReport, note: str | None) -> Checkpoint | None:
    if note is None:
        report.notes.append(NO_HELD_NOTE)
        return None
    try:
        return body_of(note)
    except NoteError as e:
        report.add("held", "held checkpoint", f"外部持有的检查点格式错误：{e}",
                   f"the held checkpoint is malformed: {e}")
        return None


def _check_held(report: LogReport, history: KeyHistory, trusted: Sequence[VerifierKey],
                note: str, roots: dict[int, bytes]) -> None:
    try:
        cp = check_checkpoint(note, history, trusted)
    except NoteError as e:
        held_unverified(report, e)
        return
    if cp.size > report.leaves:
        report.held = {"size": cp.size, "root": cp.root.hex(), "consistent": False}
        report.add("held", f"held checkpoint (size {cp.size})",
                   f"日志只有 {report.leaves} 个叶子，少于外部持有的检查点（事件被删除）",
                   f"the log has {report.leaves} leaves, fewer than the held checkpoint "
                   "(events were deleted)")
    else:
        held_result(report, cp.size, cp.root.hex(), roots.get(cp.size) == cp.root)
