"""Verification of a receipt (audit.receipts) from the document alone.

The tree size an inclusion proof is checked at is the signed checkpoint's, never a number
carried beside it: some proofs also verify at another size, so an unsigned size proves nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from audit import formats as FMT
from audit.checkpoint import Checkpoint
from audit.checks import Finding
from audit.cpcheck import check_checkpoint, check_cosignatures, missing_cosigners
from audit.keyhistory import KeyHistory, KeyRecord, check_history, endorsed_by
from audit.merkle import leaf_hash, verify_inclusion
from audit.note import NoteError, VerifierKey, parse_vkey
from audit.offline.bundle import BundleReport, _cosigs, _event


class _Failed(Exception):
    def __init__(self, check: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.finding = Finding(check, "receipt", zh, en)


def _event_of(doc: dict[str, Any]) -> tuple[dict[str, Any], str]:
    line = json.dumps(doc.get("event"), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()
    event, h = _event(BundleReport(""), 0, line)
    if event is None or h != doc.get("event_hash"):
        raise _Failed("events", "事件与其哈希不符", "the event does not match its hash")
    return event, h


def _history(doc: dict[str, Any], trusted: Sequence[VerifierKey]) -> KeyHistory:
    try:
        records = [KeyRecord(str(k["vkey"]), int(k["from_size"]), str(k["statement"]))
                   for k in doc.get("log_keys", [])]
    except (KeyError, TypeError, ValueError):
        raise _Failed("keys", "密钥历史格式错误", "the key history is malformed") from None
    history, problems = check_history(records)
    if problems:
        raise _Failed("keys", *problems[0])
    if trusted and not endorsed_by(history, trusted):
        raise _Failed("keys", "收据的密钥不是所给的可信密钥",
                      "the receipt's log keys are not endorsed by the trusted key given")
    return history


def _checkpoint(doc: dict[str, Any], history: KeyHistory, h: str) -> Checkpoint:
    try:
        cp = check_checkpoint(str(doc.get("checkpoint")), history)
        proof = [base64.b64decode(p, validate=True) for p in doc.get("inclusion_proof", [])]
    except (NoteError, ValueError, TypeError) as e:
        raise _Failed("checkpoints", f"检查点无效：{e}",
                      f"the checkpoint does not verify: {e}") from None
    index = doc.get("leaf_index")
    if not isinstance(index, int) or not verify_inclusion(
            leaf_hash(bytes.fromhex(h)), index, cp.size, proof, cp.root):
        raise _Failed("proofs", "包含证明失败", "the inclusion proof fails against the checkpoint")
    return cp


def verify_receipt(doc: Any, trusted_keys: Sequence[VerifierKey] = (),
                   trusted_witnesses: Sequence[VerifierKey] = (),
                   quorum: int | None = None) -> dict[str, Any]:
    """{"verified": True, "leaf_index", "tree_size", ...} or {"verified": False, "findings"}.

    Every witness in `trusted_witnesses` (or `quorum` of them) must have cosigned the
    receipt's checkpoint."""
    try:
        if not isinstance(doc, dict) or doc.get("format") != FMT.RECEIPT_FORMAT:
            raise _Failed("receipt", "不是收据", f"not a {FMT.RECEIPT_FORMAT} document")
        event, h = _event_of(doc)
        cp = _checkpoint(doc, _history(doc, trusted_keys), h)
        note = str(doc["checkpoint"])
        witnesses = [parse_vkey(v) for v in doc.get("witnesses", [])]
        done, problems = check_cosignatures(
            note, _cosigs(note, [*witnesses, *trusted_witnesses]), trusted_witnesses)
        if problems:
            raise _Failed("cosignatures", *problems[0])
        missing = missing_cosigners(done, trusted_witnesses, quorum)
        if missing:
            raise _Failed("witnesses", "；".join(zh for zh, _ in missing),
                          "; ".join(en for _, en in missing))
    except _Failed as e:
        return {"verified": False, "findings": [e.finding.to_dict()]}
    except NoteError as e:
        return {"verified": False, "findings": [Finding(
            "keys", "receipt", f"公钥格式错误：{e}", f"a key is malformed: {e}").to_dict()]}
    return {"verified": True, "leaf_index": doc["leaf_index"], "tree_size": cp.size,
            "origin": cp.origin, "root": base64.b64encode(cp.root).decode(), "event_hash": h,
            "stream_id": event["stream_id"], "version": event["version"],
            "keys_trusted": bool(trusted_keys), "cosignatures": done, "findings": []}
