"""An inconsistent store fails narrowly (issue 7, hole 4).

The attacker appends, straight into the events table (on PostgreSQL as the superuser), an
event to county 441423's stream that repeats entry id D1, correctly chained and hashed. Before,
`status`, `summary` and `projections rebuild` crashed on a UNIQUE constraint for every county
and `export` exited 2. Now: a read of 441423 reports STORE_INCONSISTENT (exit 1, in Chinese and
English), 441424 reads on, `summary` lists 441423 as inconsistent and totals the rest,
`projections rebuild` completes, and `export` writes a bundle whose verification names the
county.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.application import project_aggregate

from api.cli import cli
from ledger.application import FundLedger
from ledger.county import CountyFund, county_stream_id
from ledger.stores import is_postgres
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, cmd, event_count

OTHER = "441424"  # 五华县, same city
OTHER_ACTOR = COUNTY_ACTOR.__class__("county-officer-2", "county", OTHER)


def populate(app: FundLedger, county: str, actor: Any) -> None:
    def c(kind: str, **fields: Any) -> dict[str, Any]:
        return {**cmd(kind, **fields), "county_code": county}

    app.execute(c("appropriation", entry_id="A1", batch=1, amount="1000000", document_no="X1",
                  business_date="2020-04-01"), PROVINCE)
    app.execute(c("project", project_code="P1", name="县级电商公共服务中心",
                  category="public_services", budget="3000000", responsible_person="张三",
                  implementing_unit="县商务局", start_date="2020-04-01", end_date="2021-06-30",
                  business_date="2020-04-02"), actor)
    for i in (1, 2, 3):
        app.execute(c("disbursement", entry_id=f"D{i}", project_code="P1", amount="20000",
                      payee="某公司", voucher_no=f"V{i}", business_date="2020-04-03"), actor)


def forge_duplicate_entry(app: FundLedger, url: str) -> int:
    """Append to 441423's stream a disbursement that repeats entry id D1, with a correct
    prev_hash and hash, by a raw INSERT; its version."""
    stream = county_stream_id(PROGRAMME, COUNTY)
    agg: Any = project_aggregate(None, app.events.get(stream))
    agg._record(CountyFund.DisbursementRecorded, COUNTY_ACTOR, dt.date(2020, 4, 5),
                entry_id="D1", project_code="P1", amount_fen=500_000_00, payee="某公司",
                voucher_no="V-dup", attachments=[])
    stored = app.mapper.to_stored_event(agg.collect_events()[0])
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO fundledger_events (originator_id, originator_version, "
                         "topic, state) VALUES (%s, %s, %s, %s)",
                         (stored.originator_id, stored.originator_version, stored.topic,
                          stored.state))
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        with conn:
            conn.execute("INSERT INTO stored_events (originator_id, originator_version, topic, "
                         "state) VALUES (?, ?, ?, ?)",
                         (stored.originator_id.hex, stored.originator_version, stored.topic,
                          stored.state))
        conn.close()
    return int(stored.originator_version)


@pytest.fixture
def broken(app: FundLedger, store_url: str, tmp_path: Any) -> tuple[str, int]:
    """Two counties, the log sealed and signed; then the forged duplicate in 441423.
    The views were caught up before the attack (as a running ledger's would be)."""
    app.admit_county(PROGRAMME, OTHER, "五华县", 10_000_000_00, "粤商务建字〔2020〕2号",
                     PROVINCE, dt.date(2020, 3, 2))
    populate(app, COUNTY, COUNTY_ACTOR)
    populate(app, OTHER, OTHER_ACTOR)
    runner = CliRunner()
    key = tmp_path / "log.key"
    assert runner.invoke(cli, ["--db", store_url, "keys", "init", "--out", str(key)]).exit_code == 0
    assert runner.invoke(cli, ["--db", store_url, "seal", "--key", str(key)]).exit_code == 0
    assert runner.invoke(cli, ["--db", store_url, "summary"]).exit_code == 0
    version = forge_duplicate_entry(app, store_url)
    # The operator's next seal signs a log that holds it (the attack went unnoticed).
    assert runner.invoke(cli, ["--db", store_url, "seal", "--key", str(key)]).exit_code == 0
    return store_url, version


def run(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", url, *args], catch_exceptions=False)


def test_a_read_of_the_inconsistent_county_reports_it(broken: tuple[str, int],
                                                      app: FundLedger) -> None:
    """`status` of 441423: exit 1, STORE_INCONSISTENT naming the county, stream and version,
    in both languages; nothing recorded."""
    url, version = broken
    before = event_count(app)
    result = run(url, "--json", "status", "--county", COUNTY)
    assert result.exit_code == 1, result.output
    error = json.loads(result.output)["error"]
    assert error["code"] == "STORE_INCONSISTENT"
    assert COUNTY in error["message_en"] and COUNTY in error["message_zh"]
    assert "D1" in error["message_en"] and "D1" in error["message_zh"]
    assert error["details"]["county_code"] == COUNTY and error["details"]["version"] == version
    assert event_count(app) == before
    text = run(url, "status", "--county", COUNTY)
    assert text.exit_code == 1 and "Traceback" not in text.output
    assert "STORE_INCONSISTENT" in text.output and "不一致" in text.output


def test_other_counties_and_the_summary_read_on(broken: tuple[str, int]) -> None:
    """441424 reads as before; `summary` exits 0 with 441423 listed as inconsistent and left
    out of the lines and totals."""
    url, _ = broken
    other = run(url, "--json", "status", "--county", OTHER)
    assert other.exit_code == 0, other.output
    assert json.loads(other.output)["money"]["cash_fen"] == 940_000_00
    summary = run(url, "--json", "summary")
    assert summary.exit_code == 0, summary.output
    doc = json.loads(summary.output)
    assert [c["county_code"] for c in doc["counties"]] == [OTHER]
    assert [f["county_code"] for f in doc["inconsistent"]] == [COUNTY]
    assert doc["total"]["counties"] == 1 and doc["total"]["cash_fen"] == 940_000_00
    text = run(url, "summary")
    assert text.exit_code == 0 and "STORE_INCONSISTENT" in text.output and COUNTY in text.output


def test_rebuild_completes_and_flags_the_county(broken: tuple[str, int]) -> None:
    """`projections rebuild` replays the whole log, leaves the duplicate out and says so; the
    reads behave the same after it."""
    url, version = broken
    rebuilt = run(url, "--json", "projections", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    flags = json.loads(rebuilt.output)["inconsistent"]
    assert [(f["county_code"], f["version"]) for f in flags] == [(COUNTY, version)]
    assert run(url, "status", "--county", COUNTY).exit_code == 1
    assert run(url, "status", "--county", OTHER).exit_code == 0
    assert run(url, "summary").exit_code == 0


def test_export_writes_a_bundle_and_the_verifiers_name_the_county(
        broken: tuple[str, int], tmp_path: Any, capsys: Any) -> None:
    """`export` exits 0 with a bundle; `verify --reconcile` and the offline verifier of the
    bundle exit 1 naming 441423 (its statements are missing from the ledger's)."""
    url, _ = broken
    out = tmp_path / "bundle"
    exported = run(url, "export", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert "WARNING" in exported.output and COUNTY in exported.output
    assert (out / "statements.json").exists()
    reconciled = run(url, "--json", "verify", "--reconcile")
    assert reconciled.exit_code == 1, reconciled.output
    places = [f["place"] for f in json.loads(reconciled.output)["findings"]]
    assert any(f"county {COUNTY}" in p for p in places)
    assert not any(f"county {OTHER}" in p for p in places)
    from audit.offline import main as offline_main

    capsys.readouterr()
    with pytest.raises(SystemExit) as offline:
        offline_main([str(out)])
    assert offline.value.code == 1
    printed = capsys.readouterr()
    assert COUNTY in printed.out + printed.err


def test_inconsistency_found_while_catching_up_in_one_batch(app: FundLedger,
                                                            store_url: str) -> None:
    """The duplicate in the same catch-up batch as its original (views never read before):
    the careful redo keeps the original, leaves the duplicate out, and flags only 441423."""
    app.admit_county(PROGRAMME, OTHER, "五华县", 10_000_000_00, "粤商务建字〔2020〕2号",
                     PROVINCE, dt.date(2020, 3, 2))
    populate(app, COUNTY, COUNTY_ACTOR)
    populate(app, OTHER, OTHER_ACTOR)
    forge_duplicate_entry(app, store_url)
    status = run(store_url, "--json", "status", "--county", COUNTY)
    assert status.exit_code == 1
    assert json.loads(status.output)["error"]["code"] == "STORE_INCONSISTENT"
    assert run(store_url, "status", "--county", OTHER).exit_code == 0
