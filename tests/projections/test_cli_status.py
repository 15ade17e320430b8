"""`fundledger status`, `summary` and `projections` end to end, as a user runs them (the CLI
catches the views up itself, then reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from api import present
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
                  "项目台账", "290,000.00"):
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
    unknown_city = run(ledger, "--json", "summary", "--city", "449900")
    assert unknown_city.exit_code == 1
    assert json.loads(unknown_city.stdout)["error"]["field"] == "city"


def test_tables_group_thousands_and_json_stays_exact(ledger: str) -> None:
    """People read 10,000,000.00 in every table; JSON keeps fen and plain yuan strings."""
    text = run(ledger, "status", "--county", COUNTY).output
    assert "10,000,000.00" in text and "4,710,000.00" in text  # allocation, cash
    assert "10000000.00" not in text and "4710000.00" not in text
    summary = run(ledger, "summary").output
    assert "10,000,000.00" in summary and "290,000.00" in summary
    doc = json.loads(run(ledger, "--json", "status", "--county", COUNTY).stdout)
    assert (doc["money"]["allocation_fen"], doc["money"]["allocation_yuan"]) == (
        1_000_000_000, "10000000.00")
    assert "," not in json.dumps(doc["money"]).replace(", ", "")


def test_projects_show_budget_disbursed_expended_and_remaining(app: FundLedger,
                                                              ledger: str) -> None:
    """`status --projects`: each project's budget, net disbursed, net expended, remaining."""
    app.execute(cmd("expenditure", entry_id="E1", project_code="T1", amount_fen=12_345_600,
                    purpose="培训", invoice_no="F1", business_date="2021-02-01"), COUNTY_ACTOR)
    doc = json.loads(run(ledger, "--json", "status", "--county", COUNTY).stdout)
    t1 = doc["projects"][0]
    assert (t1["budget_fen"], t1["disbursed_fen"], t1["expended_fen"],
            t1["remaining_budget_fen"]) == (120_000_000, 29_000_000, 12_345_600, 91_000_000)
    text = run(ledger, "status", "--county", COUNTY, "--projects").output
    register = text[text.index("项目台账"):]
    row = next(line for line in register.splitlines() if "T1" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[3:7] == ["1,200,000.00", "290,000.00", "123,456.00", "910,000.00"], cells
    assert "剩余预算 remaining" in register


def test_year_judges_duties_and_acceptance_at_its_end(app: FundLedger, ledger: str) -> None:
    """`--year 2020`: duties judged on 2020-12-31 (a report sent in 2021 is not yet sent, the
    December report not yet due, acceptance not yet overdue); `--as-of` still wins."""
    app.execute(cmd("monthly_report", period="2020-12", summary="进展",
                    business_date="2021-01-04"), COUNTY_ACTOR)
    now = json.loads(run(ledger, "--json", "status", "--county", COUNTY).stdout)
    year = json.loads(run(ledger, "--json", "status", "--county", COUNTY, "--year",
                          "2020").stdout)
    assert year["judged_on"] == "2020-12-31" and now["judged_on"] != "2020-12-31"
    reports = {r["period"]: (r["status"], r["submitted_on"]) for r in year["reports"]}
    assert reports["2020-12"] == ("not_due", None)
    assert reports["2020-11"] == ("missing", None)
    assert {r["period"]: r["status"] for r in now["reports"]}["2020-12"] == "on_time"
    assert (year["acceptance"]["status"], now["acceptance"]["status"]) == ("pending", "overdue")
    assert year["indicators"]["acceptance_status"] == "pending"
    assert year["indicators"]["reports_on_time"] == 0
    later = json.loads(run(ledger, "--json", "status", "--county", COUNTY, "--year", "2020",
                           "--as-of", "2021-02-01").stdout)
    assert later["judged_on"] == "2021-02-01"
    assert {r["period"]: r["status"] for r in later["reports"]}["2020-12"] == "on_time"
    summary = json.loads(run(ledger, "--json", "summary", "--year", "2020").stdout)
    line = summary["counties"][0]
    assert (summary["judged_on"], line["acceptance_status"], line["reports_on_time"]) == (
        "2020-12-31", "pending", 0)


def test_provisional_figures_marked_alike_in_every_table(ledger: str) -> None:
    """Before 2020 ends, its execution is provisional: marked the same in status (execution
    and batch-1 indicator) and summary (the county's rate and the roll-up)."""
    mark = "（暂定）"
    status = run(ledger, "status", "--county", COUNTY, "--as-of", "2020-06-30").output
    assert status.count(mark) == 2, status
    summary = run(ledger, "summary", "--city", "441400", "--as-of", "2020-06-30").output
    assert summary.count(mark) == 2, summary
    final = run(ledger, "status", "--county", COUNTY, "--year", "2020").output
    assert mark not in final


def test_present_helpers() -> None:
    """Grouped yuan, signed percentages without floats, the mark, exact JSON yuan."""
    assert present.yuan(1_000_000_000) == "10,000,000.00"
    assert present.yuan(-123_456_78) == "-123,456.78"
    assert (present.pct(9678), present.pct(-150), present.pct(5), present.pct(None)) == (
        "96.78%", "-1.50%", "0.05%", "—")
    assert present.provisional("96.78%", final=False) == "96.78%（暂定）"
    assert present.provisional("96.78%", final=True) == "96.78%"
    assert present.kind_zh("disbursement") == "拨付" and present.kind_zh("new_kind") == "new_kind"
    assert present.with_yuan({"a": [{"x_fen": 123_456_789}]}) == {
        "a": [{"x_fen": 123_456_789, "x_yuan": "1234567.89"}]}
