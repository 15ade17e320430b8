"""Findings of the log checks, and the bounded list that collects them (standard library only:
the offline verifier uses it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FINDINGS_MAX = 100  # as audit.chains: a report lists this many; the first is what matters


@dataclass(frozen=True)
class LogFinding:
    """One broken place in the log: a leaf, a node, a checkpoint, a key, a held checkpoint."""

    check: str  # leaves | nodes | checkpoints | cosignatures | keys | held | bundle | statements
    place: str
    problem_zh: str
    problem_en: str
    leaf_index: int | None = None
    stream_id: str = ""
    version: int | None = None

    def describe(self) -> str:
        where = ""
        if self.stream_id:
            where = f" (stream {self.stream_id} version {self.version})"
        return f"{self.place}{where}: {self.problem_en} / {self.problem_zh}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "log", **asdict(self), "description": self.describe()}


@dataclass
class Findings:
    """Findings in the order found, at most FINDINGS_MAX kept; the count is exact."""

    items: list[LogFinding] = field(default_factory=list)
    count: int = 0
    checks: set[str] = field(default_factory=set)

    def add(self, finding: LogFinding) -> None:
        self.count += 1
        self.checks.add(finding.check)
        if len(self.items) < FINDINGS_MAX:
            self.items.append(finding)

    def __bool__(self) -> bool:
        return self.count > 0
