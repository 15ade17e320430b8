"""`fundledger-verify`: the offline verifier of audit bundles and receipts.

It imports nothing of the ledger but its canonical encoding (`ledger.chain`), and otherwise
only the standard library, `cryptography` and the audit modules that need no more (a test
holds this). Exit 0: verified; 1: a check failed, each finding names its place; 2: unreadable.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audit import formats as FMT
from audit.checks import (
    NO_HELD_NOTE,
    ROOT_MISMATCH,
    held_result,
    held_unverified,
    witnessed,
)
from audit.cpcheck import check_checkpoint, missing_cosigners, read_held, required_witnesses
from audit.note import NoteError, VerifierKey, parse_vkey
from audit.offline.bundle import (
    BundleReport,
    BundleUnreadable,
    _Bundle,
    _Checkpoints,
    _checkpoints,
    _consistent,
    _history,
)
from audit.offline.events import scan_full, scan_scoped, statements
from audit.offline.receipt import verify_receipt
from audit.offline.scope import check_claims
from audit.ruleaudit import RuleAudit
from audit.statements import StatementBuilder

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def verify_bundle(
    directory: Path, trusted_keys: Sequence[VerifierKey] = (),
    trusted_witnesses: Sequence[VerifierKey] = (), held_note: str | None = None,
    quorum: int | None = None,
) -> BundleReport:
    """Verify a bundle directory; the report lists what was checked and every finding.

    Every witness in `trusted_witnesses` (or `quorum` of them) must have cosigned the
    bundle's checkpoint."""
    r = BundleReport(str(directory))
    b = _Bundle(directory, r)
    m = b.manifest
    r.scope, r.prefix_size = dict(m.get("scope") or {}), int(m.get("prefix_size", 0))
    history, witnesses = _history(b, trusted_keys)
    cps = _checkpoints(b, history, witnesses, trusted_witnesses)
    _witnessed(r, trusted_witnesses, quorum)
    builder, rules = StatementBuilder(), RuleAudit()
    builder.entry_project = rules.entry_project  # fed the same events: one memory of entries
    held = _held(r, history, trusted_keys, held_note)
    if cps.latest is not None and r.scope.get("full"):
        _full(b, cps, builder, held, rules)
    elif cps.latest is not None:
        scan_scoped(b, builder, cps.latest, rules)
        _held_by_proofs(r, cps, held)
        r.notes.append("a scoped bundle proves that each of its events is in the signed log, not "
                       "that no event of its scope was left out / 部分包证明其中每个事件都在"
                       "签名日志中，但不能证明范围内没有遗漏的事件")
    elif r.scope.get("full"):  # no valid checkpoint (reported): still check what can be
        scan_full(b, builder, set(), rules)
    rules.finish(r.findings)
    b.finish_streams()
    statements(b, builder)
    if (r.events, r.streams) != (m.get("events"), m.get("streams")):
        r.add("bundle", FMT.MANIFEST, "清单中的事件数或流数与包内不符",
              f"the manifest states {m.get('events')} events in {m.get('streams')} streams; "
              f"the bundle holds {r.events} in {r.streams}")
    check_claims(b, builder, cps.latest)
    b.finish_files()
    return r


def _witnessed(r: BundleReport, witnesses: Sequence[VerifierKey], quorum: int | None) -> None:
    """The witnesses held outside (`--witness`) must have cosigned the bundle's checkpoint."""
    if witnesses:
        latest = r.checkpoint
        witnessed(r, latest, f"checkpoint (size {latest['size']})" if latest else "",
                  lambda cosigned: missing_cosigners(cosigned, witnesses, quorum))


def _full(b: _Bundle, cps: _Checkpoints, builder: StatementBuilder, held: Any,
          rules: RuleAudit) -> None:
    r, latest, k = b.report, cps.latest, b.report.prefix_size
    assert latest is not None
    wanted = {s for s in cps.by_size if s <= k} | ({held.size} if held is not None else set())
    roots = scan_full(b, builder, wanted, rules)
    if (r.events, r.leaves) != (k, k):
        r.add("bundle", "events", f"包含 {r.events} 个事件、{r.leaves} 个叶子，应为 {k} 个"
              "（事件被删除或插入）", f"the bundle holds {r.events} events and {r.leaves} "
              f"leaves where the log's prefix has {k} (events deleted or inserted)")
    if k > latest.size:
        r.add("bundle", FMT.MANIFEST, "前缀大于检查点", "the prefix exceeds the checkpoint")
    elif k == latest.size:
        if roots[-1] != latest.root:
            r.add("checkpoints", f"checkpoint (size {latest.size})", *ROOT_MISMATCH)
    else:
        _consistent(r, f"prefix (size {k})", k, roots[-1], latest,
                    b.manifest.get("prefix_consistency_proof", []))
    for size, root in sorted(cps.by_size.items()):
        if 0 < size <= k and roots.get(size) != root:
            r.add("checkpoints", f"checkpoint (size {size})", *ROOT_MISMATCH)
    if held is not None:
        if held.size <= k:
            _held_result(r, held, roots.get(held.size) == held.root)
        else:
            r.held = {"size": held.size, "root": base64.b64encode(held.root).decode(),
                      "consistent": False}
            r.add("held", f"held checkpoint (size {held.size})",
                  f"外部持有的检查点覆盖 {held.size} 个叶子，包只含前 {k} 个：无法证明其余事件"
                  "（包被截短，或导出时用了 until）",
                  f"the held checkpoint covers {held.size} leaves, the bundle only the first "
                  f"{k}: it cannot show the rest (cut short, or exported with --until)")


def _held(r: BundleReport, history: Any, trusted: Sequence[VerifierKey],
          note: str | None) -> Any:
    if note is None:
        r.notes.append(NO_HELD_NOTE)
        return None
    try:
        return check_checkpoint(note, history, trusted)
    except NoteError as e:
        held_unverified(r, e)
        return None


def _held_by_proofs(r: BundleReport, cps: _Checkpoints, held: Any) -> None:
    """A held checkpoint beyond the bundle's leaves: tied by a bundled checkpoint of its size."""
    if held is None or cps.latest is None:
        return
    if held.size > cps.latest.size:
        r.add("held", f"held checkpoint (size {held.size})",
              "外部持有的检查点比包的检查点更新：日志被截短，或包已过时",
              "the held checkpoint is newer than the bundle's: the log was cut short, or "
              "the bundle is outdated")
        return
    stated = cps.by_size.get(held.size)
    if stated is None:
        r.add("held", f"held checkpoint (size {held.size})", "包中没有可核对该大小的证明",
              "the bundle has no proof for a checkpoint of that size")
        return
    _held_result(r, held, stated == held.root)


def _held_result(r: BundleReport, held: Any, consistent: bool) -> None:
    held_result(r, held.size, base64.b64encode(held.root).decode(), consistent)


# ---- the command --------------------------------------------------------------------------------


def _parse_keys(values: Sequence[str], what: str) -> list[VerifierKey]:
    keys = []
    for v in values:
        try:
            keys.append(parse_vkey(v.strip()))
        except NoteError as e:
            raise BundleUnreadable(f"{what} {v!r} is not a verifier key: {e}") from None
    return keys


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point of `fundledger-verify`."""
    from audit.offline.report import print_bundle, print_receipt

    parser = argparse.ArgumentParser(
        prog="fundledger-verify",
        description="Verify a fundledger audit bundle (a directory) or a receipt (a JSON file) "
                    "offline. 离线校验审计包或收据.")
    parser.add_argument("path", help="a bundle directory, or a receipt .json file")
    parser.add_argument("--key", action="append", default=[],
                        help="the log's verifier key (vkey), held outside the ledger")
    parser.add_argument("--witness", action="append", default=[],
                        help="a witness's verifier key (type 0x04) you trust: it must have "
                             "cosigned the checkpoint (every witness named, unless --quorum)")
    parser.add_argument("--quorum", type=int, default=None,
                        help="how many of the witnesses named must have cosigned (default: all)")
    parser.add_argument("--since", help="a checkpoint you held before (note, or a receipt)")
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        keys = _parse_keys(args.key, "--key")
        witnesses = _parse_keys(args.witness, "--witness")
        required_witnesses(witnesses, args.quorum)  # refused before reading: a usage error
        held = read_held(Path(args.since).read_text("utf-8")) if args.since else None
        path = Path(args.path)
        if path.is_dir():
            report = verify_bundle(path, keys, witnesses, held, args.quorum)
            code = print_bundle(report, time.perf_counter() - started, args.json)
        else:
            result = verify_receipt(json.loads(path.read_text("utf-8")), keys, witnesses,
                                    args.quorum)
            code = print_receipt(result, bool(keys), args.json)
    except (OSError, ValueError, NoteError) as e:
        print(f"无法读取 / unreadable: {e}", file=sys.stderr)
        sys.exit(EXIT_UNREADABLE)
    sys.exit(code)



if __name__ == "__main__":
    main()
