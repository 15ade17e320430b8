"""A large full bundle checked by two processes at once (standard library only).

The checks split into two halves that need nothing of each other until the end:

- the log's integrity, in a second process: every event line hashed, parsed, held to its
  canonical encoding and its chain link, its leaf line compared, the tree rebuilt, and both
  files' SHA-256s (`audit.offline.events._scan`, as in a single process);
- the meaning of the events, in this process: each line parsed again and given to the
  statements and the rule audit, which keep per-county state in log order.

Nothing crosses between the two per event: the second process sends back only its counts,
findings, roots and digests. Each half reads the file itself (the second read comes from the
page cache); together they use two cores for what one did in turn.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit import formats as FMT
from audit.checks import Finding
from audit.offline.bundle import DOC_KEYS, READ_BLOCK_BYTES, BundleReport, _lines, _loads
from ledger.chain import HASH_FORMAT

if TYPE_CHECKING:
    from audit.offline.bundle import _Bundle
    from audit.ruleaudit import RuleAudit
    from audit.statements import StatementBuilder

# Below this size of events.jsonl, starting a second process costs more than it saves.
PARALLEL_MIN_BYTES = 32 << 20
EVENT_BYTES_MIN = 100  # no event line is shorter: a bound on the number of events


@dataclass
class _Integrity:
    """What the second process sends back."""

    findings: list[Finding] = field(default_factory=list)
    count: int = 0
    events: int = 0
    leaves: int = 0
    streams: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    rss_kb: int = 0
    cpu_seconds: float = 0.0
    error: str = ""


class _Digested:
    """A digest computed in the other process, read as `hashlib` objects are."""

    def __init__(self, hex_digest: str) -> None:
        self._hex = hex_digest

    def hexdigest(self) -> str:
        return self._hex


def _integrity(directory: str, wanted: list[int], conn: Any) -> None:
    """The second process: the log's checks over both files; the result sent down `conn`."""
    from audit.offline.events import _scan

    started, out = time.process_time(), _Integrity()
    try:
        r = BundleReport(directory)
        digests = {name: hashlib.sha256() for name in (FMT.EVENTS, FMT.LEAVES)}
        base = Path(directory)
        out.roots = _scan(r, _lines(base / FMT.EVENTS, digests[FMT.EVENTS]),
                          _lines(base / FMT.LEAVES, digests[FMT.LEAVES]), set(wanted), None,
                          None)
        out.findings, out.count = r.findings.items, r.findings.count
        out.events, out.leaves, out.streams = r.events, r.leaves, r.streams
        out.digests = {name: d.hexdigest() for name, d in digests.items()}
    except Exception as e:  # the process's top level: the verifier reports it
        out.error = repr(e)
    out.rss_kb, out.cpu_seconds = _peak_rss_kb(), time.process_time() - started
    conn.send(out)
    conn.close()


def _peak_rss_kb() -> int:
    try:
        import resource
    except ImportError:  # not on every platform: then not reported
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _meaning(path: Path, builder: StatementBuilder, rules: RuleAudit) -> None:
    """This process's half: every event document to the statements and the rule audit."""
    add, audit, loads, keys = builder.add, rules.add, _loads, DOC_KEYS
    with path.open("rb", buffering=READ_BLOCK_BYTES) as f:
        for line in f:
            try:
                doc = loads(line)
            except ValueError:
                continue  # the other process reports the line
            if type(doc) is dict and doc.keys() == keys and type(doc["data"]) is dict and \
                    doc["hash_format"] == HASH_FORMAT:
                add(doc)
                audit(doc["stream_id"], doc["version"], doc["type"], doc["data"])


def _context() -> Any:
    import multiprocessing  # only for large bundles: a small one is checked in one process

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _scan_parallel(b: _Bundle, builder: StatementBuilder, wanted: set[int],
                   rules: RuleAudit) -> dict[int, bytes]:
    started, ctx = time.process_time(), _context()
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_integrity, args=(str(b.dir), sorted(wanted), send),
                         daemon=True)
    worker.start()
    send.close()
    stated = b.manifest.get("events")  # checked later; here only a size for the entry table
    if type(stated) is int:
        rules.expect(min(stated, (b.dir / FMT.EVENTS).stat().st_size // EVENT_BYTES_MIN))
    try:
        _meaning(b.dir / FMT.EVENTS, builder, rules)
        try:
            got: _Integrity = receive.recv()
        except EOFError:
            raise OSError("the second checking process ended without a result") from None
    finally:
        receive.close()
        worker.join()
    if got.error:
        raise OSError(f"the second checking process failed: {got.error}")
    r = b.report
    r.events, r.leaves, r.streams = got.events, got.leaves, got.streams
    r.findings.merge(got.findings, got.count)
    for name, hex_digest in got.digests.items():
        b.digests[name] = _Digested(hex_digest)
    r.notes.append(f"checked by two processes: hashes, links and leaves {got.cpu_seconds:.1f} "
                   f"s CPU (peak RSS {got.rss_kb // 1024} MB), statements and rule audit "
                   f"{time.process_time() - started:.1f} s CPU / 由两个进程并行校验")
    return got.roots
