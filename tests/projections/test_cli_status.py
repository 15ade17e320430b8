"""`fundledger status`, `summary` and `projections` end to end, as a user runs them (the CLI
catches the views up itself, then reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from ledger.application import FundLedger
from tests.conftest import COUNTY, COUNTY_ACTOR, PROVINCE, cmd


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


@pytest.fixture
def ledger(app: FundLedger, store_url: str) -> str:
    """441423 with batch 1, one training project and one disbursement partly reversed."""
    app.execute(cmd("appropriation", entry_id="A1", batch=1, amount_fen=500_000_000,
                    document_no="X1", business_date="2020-05-15"), PROVINCE)
    app.execute(cmd("project", project_code="T1", name="培训", category="training",
                    budget_fen=120_000_000, responsible_person="张三", implementing_unit="县商务局",
                    start_date="2020-05-01", end_date="2021-12-31", business_date="2020-05-16"),
                COUNTY_ACTOR)
    app.execute(cmd("disbursement", entry_id="D1", project_code="T1", amount_fen=30_000_000,
                    payee="某培训学校", voucher_no="V1", business_date="2020-06-01"),
                COUNTY_ACTOR)
    app.execute(cmd("reversal", entry_id="R1", target_entry_id="D1", amount_fen=1_000_000,
                    reason="录入错误", business_date="2021-01-05"), COUNTY_ACTOR)
    return store_url


def test_status_json_has_fen_and_yuan(ledger: str) -> None:
    """JSON: money in fen and yuan; the reversal counts in 2021; the register shows T1."""
    r = run(ledger, "status", "--county", COUNTY, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["money"]["disbursed_fen"] == 29_000_000
    assert doc["money"]["disbursed_yuan"] == "290000.00"
    assert doc["money"]["cash_fen"] == 471_000_000
    by_year = {e["year"]: e for e in doc["execution"]}
    assert by_year[2020]["disbursed_fen"] == 30_000_000
    assert by_year[2021]["disbursed_fen"] == -1_000_000
    assert by_year[2020]["rate_bp"] == 600
    assert doc["projects"][0]["last_entry_id"] == "R1"
    as_of = json.loads(run(ledger, "--json", "status", "--county", COUNTY, "--as-of",
                           "2020-12-31").stdout)
    assert as_of["money"]["disbursed_fen"] == 30_000_000


def test_status_and_summary_print_chinese_tables(ledger: str) -> None:
    r = run(ledger, "status", "--county", COUNTY, "--year", "2020", "--projects")
    assert r.exit_code == 0, r.output
    for label in ("资金概况", "农村电子商务培训", "比例合规", "低于下限", "年度执行", "月报",
                  "项目台账", "290000.00"):
        assert label in r.output, label
    r = run(ledger, "summary", "--city", "441400")
    assert r.exit_code == 0, r.output
    assert "丰顺县" in r.output and "441400" in r.output


def test_projections_status_and_rebuild(ledger: str) -> None:
    r = run(ledger, "--json", "projections", "rebuild")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["events"] == 7  # opened, admitted (2), four entries
    r = run(ledger, "--json", "projections", "status")
    states = {s["name"]: s for s in json.loads(r.stdout)}
    assert states["money"]["lag_events"] == 0 and states["money"]["position"] >= 7


def test_unknown_county_and_bad_date_exit_codes(ledger: str) -> None:
    assert run(ledger, "status", "--county", "441499").exit_code == 1
    assert run(ledger, "status", "--county", COUNTY, "--as-of", "2020-13-01").exit_code == 2
