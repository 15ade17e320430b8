"""The offline verifier's report, for people (Chinese and English) and for machines (JSON)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

from audit.offline.bundle import BundleReport

FINDINGS_SHOWN = 20


def _stamp(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def bundle_doc(r: BundleReport, seconds: float) -> dict[str, Any]:
    doc = asdict(r)
    doc["statements"] = {k: v for k, v in r.statements.items() if k != "recomputed"}
    doc["findings"] = [f.to_dict() for f in r.findings.items]
    doc["findings_count"] = r.findings.count
    doc["checks_failed"] = sorted(r.findings.checks)
    doc["verified"] = not r.findings
    doc["seconds"] = round(seconds, 3)
    doc["events_per_second"] = round(r.events / seconds) if seconds else None
    return doc


def print_bundle(r: BundleReport, seconds: float, as_json: bool) -> int:
    """Print the report; return the exit code (0 verified, 1 findings)."""
    if as_json:
        print(json.dumps(bundle_doc(r, seconds), ensure_ascii=False, indent=2))
        return 1 if r.findings else 0
    scope = r.scope
    what = "全量 / full log" if scope.get("full") else (
        f"programme {scope.get('programme') or '-'} county {scope.get('county') or '-'}")
    if scope.get("until"):
        what += f", until {scope['until']}"
    if not r.scope_confirmed:
        what += "; as its manifest states, NOT what its events hold / 清单所述范围与事件不符"
    print(f"审计包 / bundle {r.path} ({what}); origin {r.origin or '?'}")
    print(f"  files: {r.files_checked} checked against the manifest's SHA-256s")
    trust = {True: "trusted (matches --key)", False: "NOT the trusted key",
             None: "not checked against a key held outside"}[r.keys_trusted]
    print(f"  log keys: {len(r.keys)} in the history, {trust}")
    cp = r.checkpoint
    if cp is not None:
        print(f"  checkpoint: size {cp['size']}, root {cp['root']}, signature verified; "
              f"{r.checkpoints} checkpoints in all, each consistent with it")
        for c in cp["cosignatures"]:
            who = "trusted witness" if c["trusted"] else "witness"
            print(f"  cosigned by {who} {c['witness']} at {_stamp(c['timestamp'])}")
    how = ("every hash, chain link and leaf checked; Merkle root recomputed"
           if scope.get("full") else "every hash and chain link checked; inclusion proof "
           "of each verified against the checkpoint")
    print(f"  events: {r.events} in {r.streams} streams, {r.leaves} leaves; {how}")
    if r.held is not None:
        state = "consistent" if r.held["consistent"] else "NOT consistent"
        print(f"  held checkpoint: size {r.held['size']}, {state}")
    s = r.statements
    if s:
        state = "identical to statements.json" if s["identical"] else "DIFFERENT"
        print(f"  statements recomputed: {s['counties']} counties, {s['balances']} balances, "
              f"{s['compliance']} compliance rows, {s['execution']} execution rows; {state}")
    for note in r.notes:
        print(f"  note: {note}")
    print(f"  ({seconds:.2f} s, {r.events / seconds:,.0f} events/s)" if seconds else "")
    if not r.findings:
        print("结论 / RESULT: 校验通过 / VERIFIED")
        return 0
    print(f"结论 / RESULT: 校验失败 / FAILED — {r.findings.count} findings "
          f"({', '.join(sorted(r.findings.checks))}); first at:")
    for f in r.findings.items[:FINDINGS_SHOWN]:
        print(f"  - [{f.check}] {f.describe()}")
    return 1


def print_receipt(result: dict[str, Any], trusted: bool, as_json: bool) -> int:
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0 if result["verified"] else 1
    if not result["verified"]:
        print("收据校验失败 / receipt FAILED:")
        for f in result["findings"]:
            print(f"  - [{f['check']}] {f['description']}")
        return 1
    print(f"收据有效 / receipt VERIFIED: stream {result['stream_id']} version {result['version']}"
          f" is leaf {result['leaf_index']} of the log {result['origin']} at size "
          f"{result['tree_size']} (root {result['root']}); event hash {result['event_hash']}")
    if not trusted:
        print("  note: the log key was taken from the receipt; give --key VKEY to check it "
              "against a key held outside")
    for c in result["cosignatures"]:
        print(f"  cosigned by {c['witness']} at {_stamp(c['timestamp'])}")
    return 0
