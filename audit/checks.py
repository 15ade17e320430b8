"""The checks both verifiers share: the online one (`fundledger verify`: `audit.verify`,
`audit.chains`) and the offline one (`fundledger-verify`: `audit.offline`).

One `Finding` type and the bounded list that collects them, the report fields both verifiers
fill, and the judgements both make of what they read: a chain link, an event beside its
Merkle leaf, a key history, the witnesses' cosignatures, a checkpoint held outside. Each reads
plain values its caller decoded (signatures are checked by `audit.cpcheck`), so that this
module needs the standard library alone (orjson, where installed, only parses faster: `loads`):
the offline verifier imports it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

FINDINGS_MAX = 100  # a report lists this many; the first is what matters, the count is exact
Problem = tuple[str, str]  # (Chinese, English)
loads: Callable[[bytes], Any]
try:
    import orjson

    # On every document both parse, orjson gives the same value as the standard parser (the
    # last of duplicate keys wins in both); where it refuses one the standard parser takes
    # (NaN, huge integers, lone surrogates) the place is reported, never passed.
    loads = orjson.loads
except ImportError:  # pragma: no cover - the standard library parser is the fallback
    loads = json.loads


@dataclass(frozen=True)
class Finding:
    """One broken place: an event, a leaf, a node, a checkpoint, a key, a rule, a file."""

    # chains | leaves | events | nodes | checkpoints | cosignatures | witnesses | keys | held
    # | proofs | bundle | statements | rules | reconciliation
    check: str
    place: str
    problem_zh: str
    problem_en: str
    leaf_index: int | None = None
    stream_id: str = ""
    version: int | None = None
    position: int | None = None  # the event's place in the store's global order, where read

    def describe(self) -> str:
        where = [f"stream {self.stream_id} version {self.version}"] if self.stream_id else []
        if self.position is not None:
            where.append(f"position {self.position}")
        said = f" ({', '.join(where)})" if where else ""
        return f"{self.place}{said}: {self.problem_en} / {self.problem_zh}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "chain" if self.check == "chains" else "log", **asdict(self),
                "description": self.describe()}


@dataclass
class Findings:
    """Findings in the order found, at most FINDINGS_MAX kept; the count is exact."""

    items: list[Finding] = field(default_factory=list)
    count: int = 0
    checks: set[str] = field(default_factory=set)

    def add(self, finding: Finding) -> None:
        self.count += 1
        self.checks.add(finding.check)
        if len(self.items) < FINDINGS_MAX:
            self.items.append(finding)

    def merge(self, items: Iterable[Finding], count: int) -> None:
        """Findings collected elsewhere (another process, the rule audit), `count` in all."""
        kept = 0
        for finding in items:
            self.add(finding)
            kept += 1
        self.count += count - kept

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass(kw_only=True)
class Report:
    """What both verifiers report beside their own figures: the log's keys, the held
    checkpoint, notes on what was not checked, and the findings."""

    origin: str = ""
    keys: list[str] = field(default_factory=list)
    keys_trusted: bool | None = None
    held: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)

    def add(self, check: str, place: str, zh: str, en: str, **where: Any) -> None:
        self.findings.add(Finding(check, place, zh, en, **where))


# ---- events and leaves ------------------------------------------------------------------------

CONTENT_CHANGED: Problem = ("事件内容与其哈希不符（内容被改动）",
                            "the event's content does not match its hash (content was changed)")
HASH_NOT_LEAF: Problem = ("事件的哈希与其 Merkle 叶子不符（内容被改动）",
                          "the event's hash does not match its Merkle leaf (content was changed)")
LEAF_WITHOUT_EVENT: Problem = ("叶子没有对应的事件（事件被删除）",
                               "the leaf has no event (events were deleted)")


def link_problems(version: int, prev_hash: str, head: tuple[int, str]) -> list[Problem]:
    """What breaks the link of an event (its version and prev_hash) to its stream's `head`
    (the version and hash of the stream's event before it; 0 and the genesis hash at first)."""
    problems = []
    if version != head[0] + 1:
        problems.append((f"版本不连续：应为 {head[0] + 1}，实为 {version}"
                         "（事件被删除、插入或重排）",
                         f"version gap: expected {head[0] + 1}, found {version} (an event was "
                         "deleted, inserted or reordered)"))
    if prev_hash != head[1]:
        problems.append(("prev_hash 与前一事件的哈希不符",
                         "prev_hash does not match the previous event's hash"))
    return problems


def leaf_problem(index: int, expected_index: int | None, leaf_of: tuple[str, int],
                 event_of: tuple[str, int], hashes: tuple[str, str | None]) -> Problem | None:
    """What is wrong with a leaf (its index, and the stream and version it names) beside the
    event read at its place (`event_of`); `hashes` are the leaf's and the event's (None: the
    event is unreadable). `expected_index` None: leaves of a scoped bundle, not consecutive."""
    if expected_index is not None and index != expected_index:
        return (f"叶子序号应为 {expected_index}，实为 {index}（叶子被删除或插入）",
                f"the leaf index should be {expected_index}, found {index} (leaves deleted "
                "or inserted)")
    if leaf_of != event_of:
        return (f"叶子属于流 {leaf_of[0]} 版本 {leaf_of[1]}，不是同一位置的事件"
                "（事件被删除、插入或重排）",
                f"the leaf is of stream {leaf_of[0]} version {leaf_of[1]}, not of the event at "
                "its place (events deleted, inserted or reordered)")
    if hashes[1] is None or hashes[0] != hashes[1]:
        return HASH_NOT_LEAF
    return None


# ---- keys, checkpoints, witnesses, the held checkpoint ----------------------------------------

ROOT_MISMATCH: Problem = ("重算的 Merkle 根与签名的检查点不符",
                          "the recomputed Merkle root does not match the signed checkpoint")
NO_KEY_NOTE = ("log key not checked against a key held outside (give --key VKEY) "
               "/ 未用外部持有的公钥核对日志密钥")
NO_HELD_NOTE = "no checkpoint held outside was given (--since FILE) / 未提供外部持有的检查点"


def judge_keys(r: Report, problems: Iterable[Problem], keys: list[str],
               endorsed: bool | None) -> None:
    """The key history's problems; whether a trusted key endorses it (None: no key given)."""
    r.keys, r.keys_trusted = keys, endorsed
    for zh, en in problems:
        r.add("keys", "key history", zh, en)
    if endorsed is False:
        r.add("keys", "key history", "密钥历史中没有所给的可信密钥（密钥被替换？）",
              "the key history does not hold the trusted key given (were the keys replaced?)")
    elif endorsed is None and keys:
        r.notes.append(NO_KEY_NOTE)


def checkpoint_unverified(r: Report, place: str, error: Exception) -> None:
    r.add("checkpoints", place, f"检查点签名无效：{error}",
          f"the checkpoint does not verify: {error}")


def witnessed(r: Report, latest: dict[str, Any] | None, place: str,
              missing: Callable[[list[Any]], Iterable[Problem]]) -> None:
    """The witnesses held outside (`--witness`) must have cosigned the latest checkpoint
    (`latest`, with its verified "cosignatures"); `missing` names those who did not."""
    if latest is None:
        r.add("witnesses", "latest checkpoint", "没有已验证的检查点，指定的见证人无从副署",
              "no verified checkpoint, so none carries the named witnesses' cosignatures")
        return
    for zh, en in missing(latest["cosignatures"]):
        r.add("witnesses", place, zh, en)


def held_unverified(r: Report, error: Exception) -> None:
    r.add("held", "held checkpoint", f"外部持有的检查点无法用日志的密钥验证：{error}",
          f"the held checkpoint does not verify with the log's keys: {error}")


def held_result(r: Report, size: int, root: str, consistent: bool) -> None:
    """The held checkpoint (of `size` leaves and `root`, as the report writes roots) is or is
    not the log's state at that size."""
    r.held = {"size": size, "root": root, "consistent": consistent}
    if not consistent:
        r.add("held", f"held checkpoint (size {size})",
              "与外部持有的检查点不一致（历史被改写或分叉）",
              "not consistent with the held checkpoint (history rewritten or forked)")
