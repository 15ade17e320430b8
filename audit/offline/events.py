"""The bundle's events, leaves and proofs, read once in lockstep (see audit.offline.bundle).

A full bundle's leaves are folded into the tree as they come (a compact range), giving the
root at every checkpoint size; a scoped bundle's events each carry an inclusion proof against
the latest checkpoint, whose size is taken from the signed checkpoint alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from itertools import zip_longest
from typing import Any

from audit import formats as FMT
from audit.checkpoint import Checkpoint
from audit.checks import LEAF_WITHOUT_EVENT, leaf_problem, link_problems
from audit.compact import RUN_LEAVES, CompactRange
from audit.merkle import EMPTY_ROOT, leaf_hash, verify_inclusion
from audit.offline.bundle import (
    _STRICT_INTEGERS,
    DOC_KEYS,
    BundleReport,
    _Bundle,
    _encode,
    _event,
    _flat,
    _in_subset,
    _loads,
)
from audit.offline.parallel import PARALLEL_MIN_BYTES, _scan_parallel
from audit.ruleaudit import RuleAudit
from audit.statements import StatementBuilder
from ledger.chain import GENESIS_HASH, HASH_FORMAT

Consumer = Callable[[dict[str, Any]], None]
_LEAF_KEYS = frozenset({"event_hash", "leaf_index", "stream_id", "version"})
# The leaf line an event's leaf must be, byte for byte (as audit.formats.leaf_line writes it).
_LEAF_LINE = b'{"event_hash":"%s","leaf_index":%d,"stream_id":"%s","version":%d}'


def _leaf(r: BundleReport, i: int, line: bytes) -> dict[str, Any] | None:
    try:
        leaf = _loads(line)
        if not isinstance(leaf, dict) or leaf.keys() != _LEAF_KEYS:
            raise ValueError("not a leaf line")
        if len(leaf["event_hash"]) != 64:
            raise ValueError("the event hash is not 32 bytes")
        leaf["raw"] = bytes.fromhex(leaf["event_hash"])
        return leaf
    except (ValueError, TypeError) as e:
        r.add("leaves", f"leaf line {i + 1}", f"叶子行无效：{e}", f"the leaf line is invalid: {e}")
        return None


def _leaf_mismatch(r: BundleReport, i: int, leaf: dict[str, Any], doc: dict[str, Any] | None,
                   h: str, expect_index: int | None) -> None:
    index, leaf_of = leaf["leaf_index"], (leaf["stream_id"], leaf["version"])
    if doc is None and (expect_index is None or index == expect_index):
        return  # the unreadable event is reported by the event checks
    event_of = (doc["stream_id"], doc["version"]) if doc is not None else leaf_of
    problem = leaf_problem(index, expect_index, leaf_of, event_of, (leaf["event_hash"], h))
    if problem is not None:
        r.add("leaves", f"leaf line {i + 1}", *problem, leaf_index=index,
              stream_id=leaf_of[0], version=leaf_of[1])


def _chain(r: BundleReport, heads: dict[str, tuple[int, str]], i: int, doc: dict[str, Any],
           h: str) -> None:
    sid = doc["stream_id"]
    for problem in link_problems(doc["version"], doc["prev_hash"],
                                 heads.get(sid, (0, GENESIS_HASH))):
        r.add("chains", f"event line {i + 1}", *problem, stream_id=sid, version=doc["version"])
    heads[sid] = (doc["version"], h)


def scan_full(b: _Bundle, builder: StatementBuilder, wanted: set[int],
              rules: RuleAudit | None = None) -> dict[int, bytes]:
    """Events beside leaves 0..k-1; the roots at the wanted sizes (and at the end, key -1).

    A large bundle is checked by two processes at once (`_scan_parallel`); a small one, where
    starting a process costs more than it saves, by this one.
    """
    events = b.dir / FMT.EVENTS
    if rules is not None and events.exists() and (b.dir / FMT.LEAVES).exists() and \
            events.stat().st_size >= PARALLEL_MIN_BYTES:
        return _scan_parallel(b, builder, wanted, rules)
    return _scan(b.report, b.stream(FMT.EVENTS), b.stream(FMT.LEAVES), wanted, builder.add,
                 rules.add_doc if rules is not None else None)


class _Folder:
    """Event hashes waiting to be folded into the tree (`CompactRange.push_event_hashes`), up
    to the next multiple of RUN_LEAVES or wanted size; the roots at the wanted sizes."""

    def __init__(self, wanted: set[int]) -> None:
        self.tree, self.wanted, self.ahead = CompactRange(), wanted, sorted(wanted)
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT} if 0 in wanted else {}
        self.waiting: list[bytes] = []
        self.room = self._room()

    def _room(self) -> int:
        """How many leaves may wait before the next fold."""
        size = self.tree.size
        room = RUN_LEAVES - (size & (RUN_LEAVES - 1))
        for want in self.ahead:
            if want > size:
                return min(room, want - size)
        return room

    def fold(self) -> None:
        tree = self.tree
        tree.push_event_hashes(self.waiting)
        self.waiting.clear()
        if tree.size in self.wanted:
            self.roots[tree.size] = tree.root()
        self.room = self._room()


def _scan(r: BundleReport, events: Iterator[bytes], leaves: Iterator[bytes], wanted: set[int],
         add: Consumer | None, audit: Consumer | None) -> dict[int, bytes]:
    """The hot loop of the verifier: a regular event costs one SHA-256, one parse, one check
    of the schema subset, one canonical re-encoding compared with its line, a look at its chain
    link and one comparison of its leaf line with the line it must be, all written out here;
    its leaf waits to be folded into the tree with others (`_Folder`). Anything irregular falls
    to `_one`, the slower checks that name what is wrong. Each valid event is also given to
    `add` (the statements) and `audit` (the rule audit), where given."""
    folder, heads = _Folder(wanted), dict[str, tuple[int, str]]()
    waiting, sha, loads, encode = folder.waiting, hashlib.sha256, _loads, _encode
    keys, genesis, leaf_of = DOC_KEYS, (0, GENESIS_HASH), _LEAF_LINE
    subset = _flat if _STRICT_INTEGERS else _in_subset
    counted = 0
    for i, (line, leaf_line) in enumerate(zip_longest(events, leaves)):
        if line is not None and leaf_line is not None:
            digest = sha(line).digest()
            h = digest.hex()
            try:
                doc = loads(line)
                regular = type(doc) is dict and doc.keys() == keys and \
                    doc["hash_format"] == HASH_FORMAT and type(data := doc["data"]) is dict \
                    and subset(data) and encode(doc) == line
            except (ValueError, TypeError):
                regular = False
            if regular:
                sid, version = doc["stream_id"], doc["version"]
                head = heads.get(sid, genesis)
                if type(sid) is str and type(version) is int and version == head[0] + 1 and \
                        doc["prev_hash"] == head[1] and \
                        leaf_line == leaf_of % (h.encode(), i, sid.encode(), version):
                    heads[sid] = (version, h)
                    if add is not None:
                        add(doc)
                    if audit is not None:
                        audit(doc)
                    counted += 1
                    waiting.append(digest)
                    if len(waiting) == folder.room:
                        folder.fold()
                    continue
        folder.fold()
        _one(r, i, line, leaf_line, heads, folder.tree, folder.roots, wanted, add, audit)
        folder.fold()  # the slow path pushed a leaf (or not): the room to the next stop anew
    folder.fold()
    r.events, r.leaves, r.streams = r.events + counted, r.leaves + counted, len(heads)
    folder.roots[-1] = folder.tree.root()
    return folder.roots


def _one(r: BundleReport, i: int, line: bytes | None, leaf_line: bytes | None,
         heads: dict[str, tuple[int, str]], tree: CompactRange, roots: dict[int, bytes],
         wanted: set[int], add: Consumer | None, audit: Consumer | None) -> None:
    """An event and its leaf that the hot loop found irregular, checked by the checks that
    name what is wrong (the tree holds every leaf before it)."""
    doc, h = None, ""
    if line is not None:
        r.events += 1
        doc, h = _event(r, i, line)
        if doc is not None:
            sid, version = doc["stream_id"], doc["version"]
            _chain(r, heads, i, doc, h)
            if add is not None:
                add(doc)
            if audit is not None:
                audit(doc)
            if type(sid) is str and type(version) is int and \
                    leaf_line == _LEAF_LINE % (h.encode(), i, sid.encode(), version):
                r.leaves += 1
                tree.push_event_hash(bytes.fromhex(h))
                if tree.size in wanted:
                    roots[tree.size] = tree.root()
                return
    _irregular_leaf(r, i, line, leaf_line, doc, h, tree, roots, wanted)


def _irregular_leaf(r: BundleReport, i: int, line: bytes | None, leaf_line: bytes | None,
                    doc: dict[str, Any] | None, h: str, tree: CompactRange,
                    roots: dict[int, bytes], wanted: set[int]) -> None:
    if leaf_line is None:
        r.add("leaves", f"event line {i + 1}", "事件没有叶子", "the event has no leaf")
        return
    leaf = _leaf(r, i, leaf_line)
    if leaf is None:
        return
    r.leaves += 1
    if line is None:
        r.add("events", f"leaf {i}", *LEAF_WITHOUT_EVENT)
    else:
        _leaf_mismatch(r, i, leaf, doc, h, i)
    tree.push_event_hash(leaf["raw"])
    if tree.size in wanted:
        roots[tree.size] = tree.root()


def scan_scoped(b: _Bundle, builder: StatementBuilder, latest: Checkpoint,
                rules: RuleAudit | None = None) -> None:
    """Events beside their leaves and inclusion proofs against the latest checkpoint."""
    r, last = b.report, -1
    heads: dict[str, tuple[int, str]] = {}
    triples = zip_longest(b.stream(FMT.EVENTS), b.stream(FMT.LEAVES), b.stream(FMT.PROOFS))
    for i, (line, leaf_line, proof_line) in enumerate(triples):
        if line is None or leaf_line is None or proof_line is None:
            r.add("bundle", f"line {i + 1}", "事件、叶子与证明的行数不等",
                  "the event, leaf and proof files have different numbers of lines")
            return
        r.events += 1
        doc, h = _event(r, i, line)
        if doc is not None:
            _chain(r, heads, i, doc, h)
            builder.add(doc)
            if rules is not None:
                rules.add_doc(doc)
        leaf = _leaf(r, i, leaf_line)
        if leaf is None:
            continue
        r.leaves += 1
        if leaf["leaf_index"] <= last:
            r.add("leaves", f"leaf line {i + 1}", "叶子不按日志顺序",
                  "the leaves are out of log order")
        last = max(last, leaf["leaf_index"])
        _leaf_mismatch(r, i, leaf, doc, h, None)
        _inclusion(r, leaf, proof_line, latest)
    r.streams = len(heads)


def _inclusion(r: BundleReport, leaf: dict[str, Any], line: bytes, latest: Checkpoint) -> None:
    index = leaf["leaf_index"]
    try:
        doc = json.loads(line)
        proof = [base64.b64decode(p, validate=True) for p in doc["inclusion_proof"]]
        ok = doc["leaf_index"] == index and verify_inclusion(
            leaf_hash(leaf["raw"]), index, latest.size, proof, latest.root)
    except (ValueError, TypeError, KeyError):
        ok = False
    if not ok:
        r.add("proofs", f"leaf {index}", "包含证明失败：该事件不在已签名的检查点中",
              "the inclusion proof fails: the event is not in the signed checkpoint",
              leaf_index=index, stream_id=leaf["stream_id"], version=leaf["version"])


def statements(b: _Bundle, builder: StatementBuilder) -> None:
    """Finish the recomputed statements and hold them against statements.json."""
    r = b.report
    if builder.needs_second_pass:
        with (b.dir / FMT.EVENTS).open("rb") as f:
            for line in f:
                if builder.wants(line):
                    try:
                        builder.resolve(json.loads(line))
                    except ValueError:
                        continue  # an unreadable line is reported by the event checks
    mine = builder.result()
    if builder.skipped:
        r.add("statements", "events", f"{builder.skipped} 个事件无法计入报表",
              f"{builder.skipped} events could not be accounted for in the statements")
    try:
        theirs = json.loads(b.read(FMT.STATEMENTS) or b"null")
    except ValueError:
        theirs = None
    diffs = list(_diff("statements", theirs, mine))
    r.statements = {"counties": len(mine["counties"]), "balances": len(mine["balances"]),
                    "compliance": len(mine["compliance"]), "execution": len(mine["execution"]),
                    "identical": not diffs, "recomputed": mine}
    for path, stated, recomputed in diffs[:20]:
        r.add("statements", path, f"报表为 {stated}，重算为 {recomputed}",
              f"the bundle states {stated}, recomputed {recomputed}")


def _diff(path: str, a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from _diff(f"{path}.{key}", a.get(key), b.get(key))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(f"{path}[{i}]", x, y)
    elif a != b or type(a) is not type(b):
        yield path, json.dumps(a, ensure_ascii=False)[:80], json.dumps(b, ensure_ascii=False)[:80]
