"""Audit bundles: exported from either store, verified offline from their files alone; the
statements recomputed offline match the ledger's own state; any change to a file is caught."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from audit.bundle import Scope, export
from audit.db import LogDB
from audit.note import parse_vkey
from audit.offline import verify_bundle
from audit.sealer import seal
from audit.signing import sign_latest
from ledger.application import FundLedger
from tests.audit.conftest import SECOND, LogKey, entries
from tests.conftest import COUNTY, PROGRAMME, PROVINCE


@pytest.fixture
def two_counties(ledger: FundLedger, db: LogDB, log_key: LogKey) -> LogDB:
    """Two counties, a recovery and an appropriation reversal; sealed and signed twice."""
    seal(db)
    sign_latest(db, log_key.name, log_key.key)
    ledger.admit_county(PROGRAMME, SECOND, "平远县", 8_000_000_00, "doc-2", PROVINCE,
                        dt.date(2020, 3, 20))
    ledger.import_entries(entries(SECOND, n=5))
    ledger.execute({"kind": "recovery", "programme": PROGRAMME, "county_code": SECOND,
                    "entry_id": "H1", "amount": "1000", "reason": "收回",
                    "document_no": "Z1", "business_date": "2022-01-10"}, PROVINCE)
    ledger.execute({"kind": "reversal", "programme": PROGRAMME, "county_code": COUNTY,
                    "entry_id": "RA", "target_entry_id": "A1", "amount": "500",
                    "reason": "更正下达", "business_date": "2020-07-01"}, PROVINCE)
    seal(db)
    sign_latest(db, log_key.name, log_key.key)
    return db


def test_a_full_bundle_verifies_and_its_statements_match_the_ledger(
        two_counties: LogDB, ledger: FundLedger, log_key: LogKey, tmp_path: Path) -> None:
    """Every check passes offline; balances recomputed from the bundle equal the county
    aggregates the ledger itself keeps (an independent computation)."""
    manifest = export(two_counties, tmp_path / "b", Scope())
    assert manifest["scope"]["full"] and manifest["prefix_size"] == manifest["checkpoint_size"]
    report = verify_bundle(tmp_path / "b", [parse_vkey(log_key.vkey)])
    assert not report.findings, [f.describe() for f in report.findings.items]
    assert report.keys_trusted and report.checkpoints == 2 and report.statements["identical"]
    statements = report.statements["recomputed"]
    for code in (COUNTY, SECOND):
        fund = ledger.county(PROGRAMME, code)
        row = next(c for c in statements["counties"] if c["county_code"] == code)
        assert (row["appropriated_fen"], row["disbursed_fen"], row["expended_fen"],
                row["recovered_fen"], row["cash_fen"]) == (
            fund.appropriated_fen, fund.disbursed_fen, fund.expended_fen, fund.recovered_fen,
            fund.cash_fen)
        balances = {b["category"]: b for b in statements["balances"] if b["county_code"] == code}
        assert {k: v["budget_fen"] for k, v in balances.items()} == dict(
            fund.budget_by_category)
        for field in ("disbursed_fen", "expended_fen"):
            assert {k: v[field] for k, v in balances.items()} == _by_category(fund, field)


def _by_category(fund: Any, field: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for project in fund.projects.values():
        out[project["category"]] = out.get(project["category"], 0) + project[field]
    return out


def test_a_county_bundle_carries_inclusion_proofs(two_counties: LogDB, log_key: LogKey,
                                                  tmp_path: Path) -> None:
    """One county (with its programme's stream): every event proven in the global checkpoint."""
    manifest = export(two_counties, tmp_path / "c", Scope(county=SECOND))
    assert not manifest["scope"]["full"] and manifest["streams"] == 2
    proofs = (tmp_path / "c" / "proofs.jsonl").read_text().splitlines()
    assert len(proofs) == manifest["events"]
    report = verify_bundle(tmp_path / "c", [parse_vkey(log_key.vkey)])
    assert not report.findings, [f.describe() for f in report.findings.items]
    assert [c["county_code"] for c in report.statements["recomputed"]["counties"]] == [SECOND]


def test_a_bundle_until_a_date_is_a_prefix_proven_consistent(two_counties: LogDB,
                                                             log_key: LogKey,
                                                             tmp_path: Path) -> None:
    """--until: the events recorded by then, tied to the latest checkpoint by a proof."""
    manifest = export(two_counties, tmp_path / "u", Scope(until=dt.date(2000, 1, 1)))
    assert manifest["prefix_size"] == 0 and manifest["events"] == 0
    report = verify_bundle(tmp_path / "u", [parse_vkey(log_key.vkey)])
    assert not report.findings
    manifest = export(two_counties, tmp_path / "v", Scope(until=dt.date(2999, 1, 1)))
    assert manifest["prefix_size"] == manifest["checkpoint_size"]


def _edit_json_line(path: Path, index: int, change: Any) -> None:
    lines = path.read_bytes().split(b"\n")
    doc = json.loads(lines[index])
    change(doc)
    lines[index] = json.dumps(doc, ensure_ascii=False, separators=(",", ":"),
                              sort_keys=True).encode()
    path.write_bytes(b"\n".join(lines))


def _amount(b: Path) -> None:
    _edit_json_line(b / "events.jsonl", 9, lambda d: d["data"].update(amount_fen=1))


def _delete_line(b: Path) -> None:
    lines = (b / "events.jsonl").read_bytes().split(b"\n")
    (b / "events.jsonl").write_bytes(b"\n".join(lines[:12] + lines[13:]))


def _swap_lines(b: Path) -> None:
    lines = (b / "events.jsonl").read_bytes().split(b"\n")
    lines[10], lines[11] = lines[11], lines[10]
    (b / "events.jsonl").write_bytes(b"\n".join(lines))


def _leaf(b: Path) -> None:
    _edit_json_line(b / "leaves.jsonl", 4, lambda d: d.update(event_hash="0" * 64))


def _statement(b: Path) -> None:
    doc = json.loads((b / "statements.json").read_text("utf-8"))
    doc["counties"][0]["cash_fen"] += 1
    (b / "statements.json").write_text(json.dumps(doc), "utf-8")


def _note(b: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        lines = d["note"].split("\n")
        lines[1] = str(int(lines[1]) - 1)
        d["note"] = "\n".join(lines)

    _edit_json_line(b / "checkpoints.jsonl", 0, change)


CHANGES = {"an event's amount": ("events.jsonl", _amount),
           "an event line deleted": ("events.jsonl", _delete_line),
           "two event lines swapped": ("events.jsonl", _swap_lines),
           "a leaf hash": ("leaves.jsonl", _leaf),
           "a statement": ("statements.json", _statement),
           "a checkpoint note": ("checkpoints.jsonl", _note)}


@pytest.mark.parametrize("what", list(CHANGES))
def test_a_changed_bundle_file_is_caught(what: str, sealed: LogDB, log_key: LogKey,
                                         tmp_path: Path) -> None:
    """Whatever file is changed, the manifest's SHA-256 says so; and a forger who rewrites the
    manifest too is caught by the checks of the content itself."""
    bundle = tmp_path / "b"
    export(sealed, bundle, Scope())
    name, change = CHANGES[what]
    change(bundle)
    trusted = [parse_vkey(log_key.vkey)]
    assert "bundle" in verify_bundle(bundle, trusted).findings.checks, what
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    data = (bundle / name).read_bytes()
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    checks = verify_bundle(bundle, trusted).findings.checks
    assert checks - {"bundle"}, (what, checks)


def test_a_held_checkpoint_newer_than_the_bundle_is_reported(
        sealed: LogDB, ledger: FundLedger, log_key: LogKey, tmp_path: Path) -> None:
    """A bundle older than a checkpoint the auditor holds cannot show consistency with it."""
    export(sealed, tmp_path / "old", Scope())
    ledger.import_entries(entries(n=2, prefix="n-")[3:])
    seal(sealed)
    newer, _ = sign_latest(sealed, log_key.name, log_key.key)
    report = verify_bundle(tmp_path / "old", [parse_vkey(log_key.vkey)], held_note=newer.note)
    assert report.findings.checks == {"held"}


def test_statements_need_no_memory_of_every_entry(two_counties: LogDB, log_key: LogKey,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With no recent entries remembered, reversals are resolved by the second pass over the
    events, and the statements come out the same."""
    import audit.statements

    export(two_counties, tmp_path / "a", Scope())
    monkeypatch.setattr(audit.statements, "RECENT_ENTRIES_MAX", 0)
    export(two_counties, tmp_path / "b", Scope())
    assert (tmp_path / "a" / "statements.json").read_bytes() == \
        (tmp_path / "b" / "statements.json").read_bytes()
    report = verify_bundle(tmp_path / "b", [parse_vkey(log_key.vkey)])
    assert not report.findings and report.statements["identical"]
