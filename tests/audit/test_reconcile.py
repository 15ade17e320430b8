"""Reconciliation: the read models' statements against the audit's recomputation from the
events, in the database (`verify --reconcile`) and offline (a bundle's statements.json)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from api.cli import cli
from audit.db import LogDB
from audit.note import parse_vkey
from audit.offline import verify_bundle
from audit.reconcile import ledger_statements, recompute, reconcile, yuan
from audit.sealer import seal
from audit.signing import sign_latest
from ledger.application import FundLedger
from ledger.stores import is_postgres
from projections.service import Views
from tests.audit.conftest import LogKey
from tests.conftest import COUNTY, PROGRAMME
from tests.projections.demo_county import LAGGING, build_demo_county

FLOW = ("programme = ? AND county_code = ? AND year = 2020 AND category = 'training' "
        "AND measure = 'disbursed'")
BUMP_FEN = 12_345


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """One statement on the store, as someone with write access to the views' tables."""
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as pg:
            cur = pg.execute(statement.replace("?", "%s"), params)
            return list(cur.fetchall()) if cur.description else []
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        rows = conn.execute(statement, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


@pytest.fixture
def demo(make_app: Any) -> FundLedger:
    """丰顺县 (441423) of the demo: reversals dated in a later year than their targets."""
    app: FundLedger = make_app()
    build_demo_county(app, COUNTY)
    return app


def tamper_flow(url: str) -> int:
    """Raise the read model's 2020 training disbursements of 441423; the true amount."""
    (true_fen,) = sql(url, f"SELECT amount_fen FROM fundledger_view_flows WHERE {FLOW}",
                      (PROGRAMME, COUNTY))[0]
    sql(url, f"UPDATE fundledger_view_flows SET amount_fen = amount_fen + ? WHERE {FLOW}",
        (BUMP_FEN, PROGRAMME, COUNTY))
    return int(true_fen)


@pytest.mark.parametrize("county", [COUNTY, LAGGING])
def test_a_demo_county_reconciles_with_no_findings(make_app: Any, county: str) -> None:
    """The read models and the recomputation agree on every row and field of a demo county,
    including the worked example's execution (丰顺县 2020: 96.78 %, carry-over 160,702.55)."""
    app = make_app()
    build_demo_county(app, county)
    views = Views(app)
    assert reconcile(app, views) == []
    execution = {e["year"]: e for e in ledger_statements(views)["execution"]}
    if county == COUNTY:
        assert (execution[2020]["rate_bp"], execution[2020]["carried_over_fen"]) == (
            9678, 160_702_55)
    else:
        assert execution[2022]["recovered_fen"] == 1_120_000_41
    assert recompute(app, 2**62)["execution"] == ledger_statements(views)["execution"]


def test_a_tampered_read_model_fails_verify_reconcile(demo: FundLedger, store_url: str) -> None:
    """A changed view row: `verify` alone stays intact (the events are untouched);
    `verify --reconcile` exits 1 naming the county, category, year and both amounts."""
    assert run(store_url, "verify", "--reconcile").exit_code == 0
    true_fen = tamper_flow(store_url)
    assert run(store_url, "verify").exit_code == 0
    r = run(store_url, "verify", "--reconcile")
    assert r.exit_code == 1 and "NOT RECONCILED" in r.stderr
    assert "county 441423 category training year 2020" in r.stderr
    r = run(store_url, "--json", "verify", "--reconcile")
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and not doc["intact"] and doc["reconciled"] is False
    assert {f["check"] for f in doc["findings"]} == {"reconciliation"}  # no chain finding
    hit = next(f for f in doc["findings"] if f["place"] ==
               f"balances_by_year: {PROGRAMME} county {COUNTY} category training year 2020 "
               "disbursed_fen")
    stated = true_fen + BUMP_FEN
    for text in (f"{stated} fen ({yuan(stated)} yuan)", f"{true_fen} fen ({yuan(true_fen)} yuan)",
                 f"{stated} 分（{yuan(stated)} 元）"):
        assert text in hit["description"]
    execution = [f["place"] for f in doc["findings"] if f["place"].startswith("execution")]
    assert f"execution: {PROGRAMME} county {COUNTY} year 2020 disbursed_fen" in execution


def test_a_tampered_fact_is_found_by_the_as_of_read(demo: FundLedger, store_url: str) -> None:
    """The per-event facts (the basis of as-of reads) are reconciled too."""
    views = Views(demo)
    views.catch_up()
    sql(store_url, "UPDATE fundledger_view_facts SET amount_fen = amount_fen + 1 WHERE "
        "entry_id = ?", ("441423-D-00002",))
    findings = reconcile(demo, views)
    assert findings and all("(as of the position)" in f.place for f in findings)


def test_a_bundle_states_what_the_read_models_report(demo: FundLedger, store_url: str,
                                                     log_key: LogKey, tmp_path: Path) -> None:
    """`export` writes the read models' statements: identical to the offline recomputation on
    an intact ledger, reported by the offline verifier when a view row was changed."""
    with LogDB(store_url) as db:
        seal(db)
        sign_latest(db, log_key.name, log_key.key)
    keys = [parse_vkey(log_key.vkey)]
    assert run(store_url, "export", "--out", str(tmp_path / "ok")).exit_code == 0
    report = verify_bundle(tmp_path / "ok", keys)
    assert not report.findings and report.statements["identical"]
    assert run(store_url, "export", "--out", str(tmp_path / "county"),
               "--county", COUNTY).exit_code == 0
    assert not verify_bundle(tmp_path / "county", keys).findings
    tamper_flow(store_url)
    assert run(store_url, "export", "--out", str(tmp_path / "bad")).exit_code == 0
    report = verify_bundle(tmp_path / "bad", keys)
    assert report.findings.checks == {"statements"} and not report.statements["identical"]
    stated = json.loads((tmp_path / "bad" / "statements.json").read_text("utf-8"))
    row = next(r for r in stated["balances_by_year"] if r["county_code"] == COUNTY
               and r["category"] == "training" and r["year"] == 2020)
    mine = next(r for r in report.statements["recomputed"]["balances_by_year"]
                if r["county_code"] == COUNTY and r["category"] == "training"
                and r["year"] == 2020)
    assert row["disbursed_fen"] - mine["disbursed_fen"] == BUMP_FEN
