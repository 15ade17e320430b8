"""Receipts: one JSON document per entry that verifies offline, bound to the signed size."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from audit.db import LogDB
from audit.errors import NoReceipt
from audit.keyfile import create_key_file, log_vkey
from audit.note import parse_vkey
from audit.offline.receipt import verify_receipt
from audit.receipts import receipt
from ledger.application import FundLedger
from tests.audit.conftest import ORIGIN, LogKey, entries
from tests.conftest import COUNTY, PROGRAMME


def _flip(b64: str, bit: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[bit // 8] ^= 1 << (bit % 8)
    return base64.b64encode(bytes(raw)).decode()


def test_a_receipt_verifies_offline(sealed: LogDB, log_key: LogKey, tmp_path: Path) -> None:
    """An entry's receipt verifies with the log's vkey alone, also by `fundledger-verify`."""
    doc = receipt(sealed, PROGRAMME, COUNTY, "D5")
    assert doc["entry"]["entry_id"] == "D5" and "tree_size" not in doc
    result = verify_receipt(doc, [parse_vkey(log_key.vkey)])
    assert result["verified"] and result["event_hash"] == doc["event_hash"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    out = subprocess.run([sys.executable, "-m", "audit.offline", str(path), "--key",
                          log_key.vkey], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "VERIFIED" in out.stdout


def _variants(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, element in enumerate(doc["inclusion_proof"]):
        for bit in (0, 7, 100, 255):
            d = copy.deepcopy(doc)
            d["inclusion_proof"][i] = _flip(element, bit)
            out.append((f"proof[{i}] bit {bit}", d))
    for delta in (-1, 1):
        d = copy.deepcopy(doc)
        d["leaf_index"] += delta
        out.append((f"index {delta:+}", d))
    lines = doc["checkpoint"].split("\n")
    for name, line_no, value in (("size", 1, str(int(lines[1]) + 1)),
                                 ("root", 2, _flip(lines[2], 3))):
        d = copy.deepcopy(doc)
        d["checkpoint"] = "\n".join([*lines[:line_no], value, *lines[line_no + 1:]])
        out.append((name, d))
    d = copy.deepcopy(doc)
    d["event"]["data"]["amount_fen"] += 1
    out.append(("amount", d))
    d = copy.deepcopy(doc)
    d["inclusion_proof"] = d["inclusion_proof"][:-1]
    out.append(("shorter proof", d))
    return out


def test_any_change_to_a_receipt_fails(sealed: LogDB, log_key: LogKey) -> None:
    """A flipped proof bit, another index, size or root, or another amount: not verified."""
    doc = receipt(sealed, PROGRAMME, COUNTY, "D5")
    trusted = [parse_vkey(log_key.vkey)]
    for what, variant in _variants(doc):
        assert not verify_receipt(variant, trusted)["verified"], what


def test_a_receipt_signed_by_another_key_fails_with_the_trusted_key(
        sealed: LogDB, tmp_path: Path) -> None:
    """Without the trusted key the receipt's own key history is taken (and said so)."""
    doc = receipt(sealed, PROGRAMME, COUNTY, "D1")
    stranger = log_vkey(ORIGIN, create_key_file(tmp_path / "s", ORIGIN))
    assert not verify_receipt(doc, [parse_vkey(stranger)])["verified"]
    assert verify_receipt(doc)["verified"] and not verify_receipt(doc)["keys_trusted"]


def test_no_receipt_before_the_entry_is_sealed_and_signed(ledger: FundLedger, db: LogDB,
                                                          sealed: LogDB) -> None:
    """An entry recorded after the last seal has no receipt yet; an unknown entry has none."""
    ledger.import_entries(entries(n=1, prefix="late-")[3:4])
    with pytest.raises(NoReceipt, match="not sealed yet"):
        receipt(db, PROGRAMME, COUNTY, "late-D1")
    with pytest.raises(NoReceipt, match="has no entry"):
        receipt(db, PROGRAMME, COUNTY, "nope")
