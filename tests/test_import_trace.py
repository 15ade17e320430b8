"""Imports record who ran them: every event an import writes carries its runner
(`imported_by_*`), and a line may name another actor only of the runner's role within the
runner's scope. Out-of-scope lines are refused, naming the line, with nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from audit.chains import iter_rows, verify_chains
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.county import county_stream_id
from ledger.errors import ImportFailed
from ledger.events import event_data, recompute_hash
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, cmd, event_count
from tests.test_tamper import read_state, write_state

STREAM = county_stream_id(PROGRAMME, COUNTY)
OTHER_OFFICER = Actor("county-officer-2", "county", COUNTY)
RUNNER_FIELDS = {"imported_by_id": COUNTY_ACTOR.id, "imported_by_role": "county",
                 "imported_by_scope": COUNTY}


def _funded(app: FundLedger) -> None:
    app.execute(cmd("appropriation", entry_id="A1", batch=1, amount="5000000",
                    document_no="X1", business_date="2020-04-01"), PROVINCE)


def _project(code: str = "P1") -> dict[str, Any]:
    return cmd("project", project_code=code, name="县级电商公共服务中心",
               category="public_services", budget="3000000", responsible_person="张三",
               implementing_unit="县商务局", start_date="2020-04-01", end_date="2021-06-30",
               business_date="2020-04-02")


def _disbursement(entry_id: str, amount: str = "1000") -> dict[str, Any]:
    return cmd("disbursement", entry_id=entry_id, project_code="P1", amount=amount,
               payee="某公司", voucher_no=f"V-{entry_id}", business_date="2020-04-03")


def _events(app: FundLedger) -> list[Any]:
    return list(app.events.get(STREAM))


def test_every_imported_event_records_the_runner(app: FundLedger) -> None:
    """Lines naming another officer of the county keep that officer as actor and record the
    runner; lines naming nobody are the runner's; the chain verifies from stored rows."""
    _funded(app)
    before = event_count(app)
    results = app.import_entries(
        [(_project(), OTHER_OFFICER), (_disbursement("D1"), None),
         (_disbursement("D2"), OTHER_OFFICER)], runner=COUNTY_ACTOR)
    assert [r.replayed for r in results] == [False, False, False]
    assert event_count(app) == before + 3
    imported = _events(app)[-3:]
    assert [e.actor_id for e in imported] == [OTHER_OFFICER.id, COUNTY_ACTOR.id, OTHER_OFFICER.id]
    for event in imported:
        data = event_data(event)
        assert {k: data[k] for k in RUNNER_FIELDS} == RUNNER_FIELDS
        assert recompute_hash(event) == event.event_hash  # the runner is inside the hash
    assert verify_chains(iter_rows(app.recorder)).intact


def test_events_not_imported_carry_no_runner_fields(app: FundLedger, store_url: str) -> None:
    """A directly recorded event's stored state is unchanged in shape: no `imported_by_*`."""
    _funded(app)
    app.execute(_project(), COUNTY_ACTOR)
    app.import_entries([(_disbursement("D1"), COUNTY_ACTOR)])  # no runner: the item's own act
    for version in (1, 2, 3, 4):
        state = json.loads(read_state(store_url, version))
        assert not set(state) & set(RUNNER_FIELDS), version


def test_reimport_by_another_officer_is_a_replay(app: FundLedger) -> None:
    """The same lines imported again by another officer of the county record nothing: who ran
    an import is not part of an entry's content; the original runner stays recorded."""
    _funded(app)
    lines: list[tuple[dict[str, Any], Actor | None]] = [
        (_project(), OTHER_OFFICER), (_disbursement("D1"), OTHER_OFFICER)]
    app.import_entries(lines, runner=COUNTY_ACTOR)
    before = event_count(app)
    again = app.import_entries(lines, runner=OTHER_OFFICER)
    assert all(r.replayed for r in again) and event_count(app) == before
    assert _events(app)[-1].imported_by_id == COUNTY_ACTOR.id


@pytest.mark.parametrize(("named", "code"), [
    (PROVINCE, "NOT_PERMITTED"),                                  # another role
    (Actor("county-officer-9", "county", "441424"), "NOT_PERMITTED"),  # another county
    (Actor("city-officer-1", "city", "441400"), "NOT_PERMITTED"),  # a wider scope
])
def test_out_of_scope_line_is_refused_and_nothing_recorded(
    app: FundLedger, named: Actor, code: str,
) -> None:
    """A county runner's file naming an actor outside its role or scope on line 3: refused,
    naming item 3 and the rule, in both languages; the good lines before it are not recorded."""
    _funded(app)
    before = event_count(app)
    items: list[tuple[dict[str, Any], Actor | None]] = [
        (_project(), None), (_disbursement("D1"), OTHER_OFFICER), (_disbursement("D2"), named)]
    with pytest.raises(ImportFailed) as caught:
        app.import_entries(items, runner=COUNTY_ACTOR)
    error = caught.value
    assert error.details["item"] == 3 and error.details["cause"]["code"] == code
    assert "第 3 条" in error.zh and "item 3" in error.en and named.id in error.en
    assert event_count(app) == before


def test_runner_must_be_allowed_the_command(app: FundLedger) -> None:
    """A county runner cannot import a province command, even one naming no actor: R8."""
    before = event_count(app)
    line = cmd("appropriation", entry_id="A9", batch=1, amount="100", document_no="X9",
               business_date="2020-04-01")
    with pytest.raises(ImportFailed) as caught:
        app.import_entries([(line, None)], runner=COUNTY_ACTOR)
    assert caught.value.details["cause"]["code"] == "NOT_PERMITTED"
    with pytest.raises(ImportFailed):
        app.import_entries([(line, PROVINCE)], runner=COUNTY_ACTOR)
    assert event_count(app) == before


def test_removing_the_runner_from_a_stored_event_is_detected(app: FundLedger,
                                                              store_url: str) -> None:
    """An attacker with write access who deletes (or rewrites) `imported_by_*` of an imported
    event to hide who ran the import breaks that event's hash: verify exits 1 naming it."""
    _funded(app)
    app.import_entries([(_project(), OTHER_OFFICER)], runner=COUNTY_ACTOR)
    app.close()
    original = read_state(store_url, 3)
    for edit in ("drop", "rewrite"):
        state = json.loads(original)
        for key in RUNNER_FIELDS:
            if edit == "drop":
                del state[key]
            else:
                state[key] = OTHER_OFFICER.as_fields()[key.replace("imported_by", "actor")]
        write_state(store_url, 3, json.dumps(state, ensure_ascii=False).encode())
        result = CliRunner().invoke(cli, ["--db", store_url, "--json", "verify"],
                                    catch_exceptions=False)
        report = json.loads(result.output)
        assert result.exit_code == 1, edit
        assert report["findings"][0]["version"] == 3 and report["findings"][0]["stream_id"] == \
            str(STREAM)
    write_state(store_url, 3, original)
    assert json.loads(run(store_url, "--json", "verify").output)["intact"]


# ---- through the CLI ----------------------------------------------------------------------

CTY = ["--actor-id", COUNTY_ACTOR.id, "--role", "county", "--scope", COUNTY]


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


@pytest.fixture
def funded(app: FundLedger, store_url: str) -> str:
    _funded(app)
    app.close()
    return store_url


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8")
    return path


def _named(line: dict[str, Any], actor: Actor) -> dict[str, Any]:
    return {**line, "actor": {"id": actor.id, "role": actor.role, "scope": actor.scope}}


def _count(db: str) -> int:
    events = json.loads(run(db, "--json", "history", "--county", COUNTY).output)["events"]
    return len(events)


def test_cli_history_of_imported_entries_shows_the_runner(funded: str, tmp_path: Path) -> None:
    """`fundledger import` run by c1 with a line naming officer 2: `history` shows officer 2
    as actor and c1 as who imported it, in JSON and in the table."""
    path = _write(tmp_path / "in.jsonl", [_project(), _named(_disbursement("D1"), OTHER_OFFICER)])
    r = run(funded, "--json", "import", str(path), *CTY)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["imported_by"] == COUNTY_ACTOR.as_fields()
    hist = json.loads(run(funded, "--json", "history", "--county", COUNTY, "--entry", "D1").output)
    event = hist["events"][0]
    assert event["actor"] == f"{OTHER_OFFICER.id} (county)"
    assert event["imported_by"] == f"{COUNTY_ACTOR.id} (county)"
    assert event["data"]["imported_by_scope"] == COUNTY
    table = run(funded, "history", "--county", COUNTY).output
    assert f"imported by {COUNTY_ACTOR.id}" in table and "导入人" in table
    assert run(funded, "verify").exit_code == 0


def test_cli_refuses_a_province_actor_from_a_county_runner(funded: str, tmp_path: Path) -> None:
    """A line naming a province actor in a county officer's import: exit 1, the file's line
    named (blank lines counted) in Chinese and English, nothing recorded."""
    lines = [_project(), _disbursement("D1"), _named(_disbursement("D2"), PROVINCE)]
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(lines[0], ensure_ascii=False) + "\n\n" +
                    "\n".join(json.dumps(x, ensure_ascii=False) for x in lines[1:]), "utf-8")
    before = _count(funded)
    r = run(funded, "--json", "import", str(path), *CTY)
    assert r.exit_code == 1, r.output
    error = json.loads(r.output)["error"]
    assert error["code"] == "IMPORT_REJECTED" and error["details"]["line"] == 4
    assert "第 4 行" in error["message_zh"] and "line 4" in error["message_en"]
    assert error["details"]["cause"]["code"] == "NOT_PERMITTED"
    assert PROVINCE.id in error["message_zh"] and PROVINCE.id in error["message_en"]
    r = run(funded, "import", str(path), *CTY)
    assert r.exit_code == 1 and "line 4" in r.output and "第 4 行" in r.output
    assert "Traceback" not in r.output
    assert _count(funded) == before


def test_cli_import_needs_a_runner(funded: str, tmp_path: Path) -> None:
    """Without --actor-id/--role/--scope an import is a usage error, even if every line names
    an actor: someone must answer for it. Nothing recorded."""
    path = _write(tmp_path / "in.jsonl", [_named(_project(), COUNTY_ACTOR)])
    before = _count(funded)
    r = CliRunner(env={"LEDGER_ACTOR_ID": None, "LEDGER_ROLE": None, "LEDGER_SCOPE": None}
                  ).invoke(cli, ["--db", funded, "import", str(path)])
    assert r.exit_code == 2 and "--actor-id" in r.output
    assert _count(funded) == before


@pytest.mark.parametrize("who", [
    "x", ["c2", "county", COUNTY], {"id": "c2", "role": "county"},
    {"id": "c2", "role": "mayor", "scope": COUNTY}, {"id": "c2", "role": "county", "scope": 7},
])
def test_cli_malformed_line_actor_is_refused(funded: str, tmp_path: Path, who: Any) -> None:
    """A line whose "actor" is not a valid actor object: exit 1 (INVALID_FIELD, as an invalid
    --role is on the command line) naming the line, both languages, no traceback, nothing
    recorded."""
    path = _write(tmp_path / "in.jsonl", [_project(), {**_disbursement("D1"), "actor": who}])
    before = _count(funded)
    r = run(funded, "import", str(path), *CTY)
    assert r.exit_code == 1 and "line 2" in r.output and "第 2 行" in r.output
    assert "Traceback" not in r.output
    assert _count(funded) == before


def test_imported_events_verify_offline_and_a_hidden_runner_is_caught(
    funded: str, tmp_path: Path,
) -> None:
    """The runner travels into the audit bundle inside the hashed data: the offline verifier
    passes the honest bundle; after an attacker rewrites who ran the import in the store, the
    exported bundle fails offline (exit 1) and so does `verify`."""
    from tests.audit.test_cli_audit import offline

    path = _write(tmp_path / "in.jsonl", [_project(), _named(_disbursement("D1"), OTHER_OFFICER)])
    assert run(funded, "import", str(path), *CTY).exit_code == 0
    key = tmp_path / "log.key"
    vkey = run(funded, "keys", "init", "--out", str(key), "--origin", "t.test/log").stdout.strip()
    assert run(funded, "seal", "--key", str(key)).exit_code == 0
    assert run(funded, "export", "--out", str(tmp_path / "b")).exit_code == 0
    lines = (tmp_path / "b" / "events.jsonl").read_text("utf-8").splitlines()
    imported = [json.loads(x) for x in lines if "imported_by_id" in x]
    assert [d["data"]["imported_by_id"] for d in imported] == [COUNTY_ACTOR.id] * 2
    assert offline(str(tmp_path / "b"), "--key", vkey)[0] == 0
    state = json.loads(read_state(funded, 4))
    state["imported_by_id"] = OTHER_OFFICER.id  # "officer 2 imported it himself"
    write_state(funded, 4, json.dumps(state, ensure_ascii=False).encode())
    assert run(funded, "verify", "--key", vkey).exit_code == 1
    assert run(funded, "export", "--out", str(tmp_path / "t")).exit_code == 0
    code, out = offline(str(tmp_path / "t"), "--key", vkey)
    assert code == 1 and str(STREAM) in out
