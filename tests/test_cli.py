"""The `fundledger` command end to end, as a user runs it: demo, verify, history, record,
import; exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from tests.conftest import PROGRAMME

PROV = ["--actor-id", "p1", "--role", "province", "--scope", "440000"]
CTY = ["--actor-id", "c1", "--role", "county", "--scope", "441423"]


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


@pytest.fixture
def small(store_url: str) -> str:
    """A store with the programme opened, one county admitted and batch 1 appropriated."""
    r = run(store_url, "init", "--total", "100000000", "--date", "2020-03-01", *PROV)
    assert r.exit_code == 0, r.output
    r = run(store_url, "admit", "--county", "441423", "--name", "丰顺县", "--allocation",
            "10000000", "--document-no", "粤商务建字〔2020〕1号", "--date", "2020-03-02", *PROV)
    assert r.exit_code == 0, r.output
    r = run(store_url, "record", "appropriation", "--county", "441423", "--entry-id", "A1",
            "--batch", "1", "--amount", "5000000", "--document-no", "X1", "--date", "2020-04-01",
            *PROV)
    assert r.exit_code == 0, r.output
    return store_url


def test_record_project_disbursement_and_history(small: str) -> None:
    """Recording through the CLI, then the county's history shows actor, dates and hashes."""
    r = run(small, "record", "project", "--county", "441423", "--project", "P1", "--name",
            "县级电商公共服务中心", "--category", "public_services", "--budget", "3000000",
            "--responsible-person", "张三", "--implementing-unit", "县商务局",
            "--start-date", "2020-04-01", "--end-date", "2021-06-30", "--date", "2020-04-02", *CTY)
    assert r.exit_code == 0, r.output
    r = run(small, "--json", "record", "disbursement", "--county", "441423", "--entry-id", "D1",
            "--project", "P1", "--amount", "1000.50", "--payee", "某公司", "--voucher-no", "V1",
            "--date", "2020-04-03", *CTY)
    assert r.exit_code == 0, r.output
    first = json.loads(r.output)
    again = json.loads(run(small, "--json", "record", "disbursement", "--county", "441423",
                           "--entry-id", "D1", "--project", "P1", "--amount", "1000.50",
                           "--payee", "某公司", "--voucher-no", "V1", "--date", "2020-04-03",
                           *CTY).output)
    assert again["replayed"] and again["event_hash"] == first["event_hash"]
    hist = json.loads(run(small, "--json", "history", "--county", "441423", "--entry", "D1").output)
    assert [e["type"] for e in hist["events"]] == ["DisbursementRecorded"]
    event = hist["events"][0]
    assert event["amount_fen"] == 100050 and event["actor"] == "c1 (county)"
    assert event["business_date"] == "2020-04-03" and len(event["event_hash"]) == 64
    table = run(small, "history", "--county", "441423")
    assert table.exit_code == 0 and "DisbursementRecorded" in table.output


def test_rule_violation_exits_1_with_both_languages(small: str) -> None:
    """A disbursement above cash is refused with exit 1, a code, and Chinese and English text."""
    run(small, "record", "project", "--county", "441423", "--project", "P1", "--name", "n",
        "--category", "training", "--budget", "900000", "--responsible-person", "李四",
        "--implementing-unit", "u", "--start-date", "2020-04-01", "--end-date", "2021-06-30",
        "--date", "2020-04-02", *CTY)
    r = run(small, "--json", "record", "disbursement", "--county", "441423", "--entry-id", "D9",
            "--project", "P1", "--amount", "950000", "--payee", "x", "--voucher-no", "v",
            "--date", "2020-04-03", *CTY)
    assert r.exit_code == 1
    error = json.loads(r.output)["error"]
    assert error["code"] == "DISBURSEMENT_EXCEEDS_BUDGET" and error["rule"] == "R4"
    assert error["message_zh"] and error["message_en"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    """A missing ledger file, a bad store URL and a missing actor are usage errors (exit 2)."""
    assert run(f"sqlite:///{tmp_path / 'none.db'}", "verify").exit_code == 2
    assert run("mysql://x/y", "verify").exit_code == 2
    assert run("postgresql://postgres@127.0.0.1/x?sslmode=1", "verify").exit_code == 2
    assert run(f"sqlite:///{tmp_path / 'a.db'}", "init", "--total", "1").exit_code == 2


def test_import_is_all_or_nothing(small: str, tmp_path: Path) -> None:
    """An import file with one bad line records nothing; the corrected file records every line."""
    lines = [{"kind": "project", "programme": PROGRAMME, "county_code": "441423",
              "project_code": "T1", "name": "培训", "category": "training", "budget": "500000",
              "responsible_person": "王五", "implementing_unit": "u", "start_date": "2020-05-01",
              "end_date": "2021-05-01", "business_date": "2020-05-01"}]
    lines += [{"kind": "disbursement", "programme": PROGRAMME, "county_code": "441423",
               "entry_id": f"I{i}", "project_code": "T1", "amount_fen": 1000, "payee": "p",
               "voucher_no": f"v{i}", "business_date": "2020-05-02"} for i in range(50)]
    bad = [*lines, {**lines[1], "entry_id": "I-big", "amount": "999999999"}]
    path = tmp_path / "entries.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in bad), "utf-8")
    before = json.loads(run(small, "--json", "history", "--county", "441423").output)["events"]
    r = run(small, "import", str(path), *CTY)
    assert r.exit_code == 1 and "52" in r.output
    after = json.loads(run(small, "--json", "history", "--county", "441423").output)["events"]
    assert len(after) == len(before)
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    r = run(small, "--json", "import", str(path), *CTY)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["recorded"] == 51
    assert run(small, "verify").exit_code == 0


def test_demo_then_verify_in_a_fresh_process(store_url: str) -> None:
    """`fundledger demo` builds ≥12 counties, ≥300 projects, ≥20,000 money events; verify: 0."""
    db = store_url
    exe = [sys.executable, "-m", "api.cli"]
    out = subprocess.run([*exe, "--db", db, "--json", "demo"], capture_output=True, text=True,
                         check=False, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert len(summary["counties"]) >= 12
    assert sum(c["projects"] for c in summary["counties"]) >= 300
    assert summary["money_events"] >= 20_000 and summary["verify"]["intact"]
    verify = subprocess.run([*exe, "--db", db, "verify"], capture_output=True, text=True,
                            check=False, timeout=300)
    assert verify.returncode == 0, verify.stderr
    assert "intact" in verify.stdout
    again = subprocess.run([*exe, "--db", db, "demo"], capture_output=True, text=True,
                           check=False, timeout=60)
    assert again.returncode == 2 and "already holds events" in again.stderr


def test_a_monthly_report_answer_says_its_version_and_whether_it_was_on_time(small: str) -> None:
    """The answer to a submission names the version, what it corrects, and on time or late."""
    first = run(small, "record", "monthly-report", "--county", "441423", "--period", "2020-04",
                "--summary", "本月无支出", "--date", "2020-05-03", *CTY)
    assert first.exit_code == 0, first.output
    assert "第 1 版" in first.output and "按时" in first.output and "on time" in first.output
    again = run(small, "record", "monthly-report", "--county", "441423", "--period", "2020-04",
                "--summary", "更正", "--date", "2020-05-20", *CTY)
    assert again.exit_code == 0, again.output
    assert "第 2 版" in again.output and "corrects report:2020-04" in again.output
    assert "逾期报送" in again.output and "late" in again.output
