"""The rule audit (issue 7, hole 3): an event appended straight to the store, with a correct
`prev_hash` and hash but content the ledger would have refused, is reported by `fundledger
verify` and, once sealed and exported, by `fundledger-verify BUNDLE`: exit 1 naming the county,
the entry and the rule. Honest histories audit clean."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import statements
from audit.bundle import Scope, export
from audit.checks import Findings
from audit.db import LogDB
from audit.errors import AuditError
from audit.note import parse_vkey
from audit.offline import events as offline_events
from audit.offline import verify_bundle
from audit.ruleaudit import DAY_ZERO, RuleAudit
from audit.ruledated import DatedBalance
from audit.ruleentries import EntryTable
from audit.sealer import seal
from audit.signing import sign_latest
from audit.statements import StatementBuilder
from ledger import dated as ledger_dated
from ledger.application import FundLedger
from ledger.county import county_stream_id
from tests.audit.conftest import LogKey, attacker
from tests.audit.test_cli_audit import offline, run
from tests.audit.test_tamper_log import DRILL
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, cmd, event_count

COUNTY_ROLE = {"actor_id": "forger", "actor_role": "county", "actor_scope": COUNTY}
PROVINCE_ROLE = {"actor_id": "forger", "actor_role": "province", "actor_scope": "440000"}


def forge(url: str, event_type: str, fields: dict[str, Any],
          actor: dict[str, str] = COUNTY_ROLE) -> None:
    """Append an event to the county's stream as an attacker with write access would: the next
    version, `prev_hash` = the stream head's hash, its own hash recomputed (a valid chain)."""
    stream = [r for r in DRILL.rows(DRILL.Target(url, "", None, Path())) if
              str(r.originator_id).replace("-", "") ==
              county_stream_id(PROGRAMME, COUNTY).hex]
    head = stream[-1]
    topic = f"ledger.county:CountyFund.{event_type}"
    state = {"timestamp": {"_type_": "datetime_iso",
                           "_data_": dt.datetime.now(dt.UTC).isoformat()},
             **actor, "prev_hash": "", "event_hash": "", **fields}
    row = DRILL.Row(0, head.originator_id, head.originator_version + 1, topic, b"")
    state = DRILL.rehash(row, state, json.loads(head.state)["event_hash"])
    with attacker(url) as (conn, table, mark):
        conn.execute(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                     f"VALUES ({mark}, {mark}, {mark}, {mark})",
                     (head.originator_id, row.originator_version, topic,
                      json.dumps(state, ensure_ascii=False).encode()))


def _money(entry_id: str, project: str, amount_fen: int, day: str, **extra: Any) -> dict[str, Any]:
    return {"business_date": day, "entry_id": entry_id, "project_code": project,
            "amount_fen": amount_fen, **extra}


def _disbursement(entry_id: str, project: str, amount_fen: int, day: str) -> dict[str, Any]:
    return _money(entry_id, project, amount_fen, day, payee="某公司", voucher_no="V-F",
                  attachments=[])


# name: (event type, fields, actor, the entry and rule code the finding must name)
ATTACKS: dict[str, tuple[str, dict[str, Any], dict[str, str], str, str]] = {
    "disbursement beyond cash": (
        "DisbursementRecorded", _disbursement("F-D1", "P1", 5_000_000_00, "2020-06-01"),
        COUNTY_ROLE, "F-D1", "R4 INSUFFICIENT_CASH"),
    "expenditure beyond disbursed": (
        "ExpenditureRecorded", _money("F-E1", "T1", 100_000_00, "2021-03-01",
                                      purpose="建设", invoice_no="F-1", attachments=[]),
        COUNTY_ROLE, "F-E1", "R5 EXPENDITURE_EXCEEDS_DISBURSED"),
    "duplicate entry id": (
        "DisbursementRecorded", _disbursement("D1", "P1", 1_00, "2020-06-01"),
        COUNTY_ROLE, "D1", "R9 ENTRY_ID_CONFLICT"),
    "reversal above its target": (
        "EntryReversed", {"business_date": "2020-06-01", "entry_id": "F-R1",
                          "target_entry_id": "D1", "target_kind": "disbursement",
                          "amount_fen": 2_000_00, "reason": "红字冲销"},
        COUNTY_ROLE, "F-R1", "R6 REVERSAL_EXCEEDS_ENTRY"),
    "reversal of no entry": (
        "EntryReversed", {"business_date": "2020-06-01", "entry_id": "F-R2",
                          "target_entry_id": "NOPE", "target_kind": "disbursement",
                          "amount_fen": 1_00, "reason": "红字冲销"},
        COUNTY_ROLE, "F-R2", "R6 REVERSAL_TARGET_INVALID"),
    "batch 2 before its decision": (
        "AppropriationReceived", {"business_date": "2021-03-01", "entry_id": "F-A2",
                                  "batch": 2, "amount_fen": 1_000_000_00, "document_no": "X"},
        PROVINCE_ROLE, "F-A2", "R2 BATCH_NOT_OPEN"),
    "date in a closed year": (
        "DisbursementRecorded", _disbursement("F-D2", "P1", 1_00, "2020-12-01"),
        COUNTY_ROLE, "F-D2", "R7 PERIOD_CLOSED"),
}


def _close_2020(app: FundLedger) -> None:
    r = app.execute(cmd("year_close", entry_id="C2020", year=2020, business_date="2021-01-05"),
                    PROVINCE)
    assert r.position is not None


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_forged_event_breaking_a_rule_is_reported_by_both_verifiers(
        name: str, ledger: FundLedger, store_url: str, tmp_path: Path) -> None:
    """Before: both verifiers pass. After the forged append: `verify` exits 1 naming the
    county, the entry and the rule; sealed and exported, the offline verifier does too."""
    _close_2020(ledger)
    key = tmp_path / "log.key"
    vkey = run(store_url, "keys", "init", "--out", str(key)).stdout.strip()
    assert run(store_url, "verify").exit_code == 0
    event_type, fields, actor, entry, rule = ATTACKS[name]
    before = event_count(ledger)
    forge(store_url, event_type, fields, actor)
    assert event_count(ledger) == before + 1
    r = run(store_url, "verify")
    assert r.exit_code == 1, r.output
    assert f"county {COUNTY} entry {entry}" in r.output and rule in r.output
    doc = json.loads(run(store_url, "--json", "verify").stdout)
    hits = [f for f in doc["findings"] if f.get("check") == "rules"]
    assert hits and all(f["stream_id"] for f in hits)
    assert run(store_url, "seal", "--key", str(key)).exit_code == 0
    # The bundles are written by the exporter itself, with statements recomputed from the
    # events: the read models of a store holding a duplicate entry id are hole 4's subject.
    with LogDB(store_url) as db:
        export(db, tmp_path / "bundle", Scope())
        export(db, tmp_path / "county", Scope(PROGRAMME, COUNTY))
    code, out = offline(str(tmp_path / "bundle"), "--key", vkey)
    assert code == 1, out
    assert f"[rules] county {COUNTY} entry {entry}" in out and rule in out
    code, out = offline(str(tmp_path / "county"), "--key", vkey)
    assert code == 1 and f"county {COUNTY} entry {entry}" in out and rule in out


def test_honest_history_audits_clean(ledger: FundLedger, store_url: str, tmp_path: Path) -> None:
    """The fixture county with a closed year, an exception, batch 2 after its decision, a
    recovery and its reversal, a monthly report and its correction (a second version of the
    month): no finding online or offline."""
    _close_2020(ledger)
    steps = [
        (cmd("ratio_exception", entry_id="X1", category="public_services", limit="5500000",
             reason="扩建", approver="省厅", document_no="粤X1", business_date="2021-01-06"),
         PROVINCE),
        (cmd("batch_decision", entry_id="B2", batch=2, document_no="粤B2",
             business_date="2021-02-25"), PROVINCE),
        (cmd("appropriation", entry_id="A2", batch=2, amount="1000000", document_no="粤A2",
             business_date="2021-03-01"), PROVINCE),
        (cmd("recovery", entry_id="RC1", amount="100000", reason="收回", document_no="粤R1",
             business_date="2021-03-02"), PROVINCE),
        (cmd("reversal", entry_id="RR1", target_entry_id="RC1", amount="100000",
             reason="错收", business_date="2021-03-03"), PROVINCE),
        (cmd("reversal", entry_id="RD3", target_entry_id="D3", amount="10.00",
             reason="录入错误", business_date="2021-03-03"), COUNTY_ACTOR),
        (cmd("monthly_report", period="2021-02", summary="二月进展",
             business_date="2021-03-03"), COUNTY_ACTOR),
        (cmd("monthly_report", period="2021-02", summary="二月进展（更正）",
             business_date="2021-03-08"), COUNTY_ACTOR),
    ]
    for payload, actor in steps:
        ledger.execute(payload, actor)
    key = tmp_path / "log.key"
    vkey = run(store_url, "keys", "init", "--out", str(key)).stdout.strip()
    assert run(store_url, "seal", "--key", str(key)).exit_code == 0
    r = run(store_url, "verify")
    assert r.exit_code == 0, r.output
    assert run(store_url, "export", "--out", str(tmp_path / "b")).exit_code == 0
    code, out = offline(str(tmp_path / "b"), "--key", vkey)
    assert code == 0, out


def test_the_audit_reads_data_only() -> None:
    """Fed by hand (no store): a county opened without its programme, a disbursement to an
    unregistered project missing its amount, are findings, never exceptions."""
    findings = Findings()
    audit = RuleAudit()
    audit.add("s1", 1, "CountyFund.FundOpened", {
        "programme": "p", "county_code": COUNTY, "county_name": "x", "city_code": "441400",
        "allocation_fen": 100, "business_date": "2020-01-01", **PROVINCE_ROLE})
    audit.add("s1", 2, "CountyFund.DisbursementRecorded", {
        "entry_id": "D1", "project_code": "P1", "business_date": "2020-01-02", **COUNTY_ROLE})
    audit.finish(findings)
    codes = [f.problem_en.split("]")[0] for f in findings.items]
    assert codes == ["[reference UNKNOWN_PROGRAMME", "[reference UNKNOWN_PROJECT",
                     "[input EVENT_MALFORMED"]


@pytest.mark.parametrize("name", [name for name, _ in DRILL.ATTACKS])
def test_two_processes_find_what_one_finds(name: str, sealed: LogDB, log_key: LogKey,
                                           store_url: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A full bundle checked by two processes (as large ones are) gives the same findings and
    recomputed statements as one process, for the untouched bundle and after each attack of the
    tamper drill."""
    trusted = [parse_vkey(log_key.vkey)]

    def both(bundle: Path) -> list[list[str]]:
        results = []
        for threshold in (1 << 62, 0):
            monkeypatch.setattr(offline_events, "PARALLEL_MIN_BYTES", threshold)
            report = verify_bundle(bundle, trusted)
            assert report.events > 0
            assert any("two processes" in note for note in report.notes) == (threshold == 0)
            results.append([*sorted(f.describe() for f in report.findings.items),
                            str(report.findings.count), str(report.events),
                            str(report.leaves), str(report.streams),
                            json.dumps(report.statements, sort_keys=True)])
        return results

    export(sealed, tmp_path / "before", Scope())
    one, two = both(tmp_path / "before")
    assert one == two and one[0] == "0", one
    sealed.close()
    dict(DRILL.ATTACKS)[name](DRILL.Target(store_url, log_key.name, log_key.key, tmp_path))
    with LogDB(store_url) as db:
        try:
            export(db, tmp_path / "after", Scope())
        except AuditError:
            return  # nothing to compare: the exporter refuses the store
    one, two = both(tmp_path / "after")
    assert one == two


# Dates bunched in a few months as well as spread over the period: both paths of the blocks.
DAYS = st.one_of(st.dates(dt.date(2020, 1, 1), dt.date(2022, 12, 31)),
                 st.dates(dt.date(2020, 5, 1), dt.date(2020, 7, 31))).map(dt.date.isoformat)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(DAYS, st.integers(-10**6, 10**6)), max_size=60), DAYS)
def test_the_dated_balance_agrees_with_the_ledgers(moves: list[tuple[str, int]],
                                                   day: str) -> None:
    """The audit's month-blocked dated balance gives the ledger's "lowest from" after any
    movements (two implementations, one definition)."""
    mine, days, dates = DatedBalance(), {}, []  # type: ignore[var-annotated]
    number = {d: dt.date.fromisoformat(d).toordinal() - DAY_ZERO for d, _ in moves}
    number[day] = dt.date.fromisoformat(day).toordinal() - DAY_ZERO
    for when, delta in moves:
        mine.move(number[when], delta)
        ledger_dated.move(days, dates, when, delta)
        for probe in (when, day):
            assert mine.lowest_from(number[probe]) == ledger_dated.lowest_from(
                days, dates, mine.total, probe)


def test_the_entry_table_remembers_every_entry() -> None:
    """Growing from its smallest size: every entry found with what was stored, a second put of
    a key reported, an absent key not found."""
    table = EntryTable()
    for i in range(20_000):
        assert table.put(EntryTable.key(i % 7, f"D{i}"), i % 5, i * 100, i % 60_000, i % 65_536)
    assert not table.put(EntryTable.key(3, "D3"), 1, 1, 1, 1)
    assert table.get(EntryTable.key(3, "D3")) == (1, 1, 1, 1)
    assert table.get(EntryTable.key(19_999 % 7, "D19999")) == (4, 1_999_900, 19_999, 19_999)
    assert table.get(EntryTable.key(5, "D3")) is None and table.used == 20_000


def test_the_statements_resolve_reversals_from_the_rule_audits_entries(
        ledger: FundLedger, db: LogDB, log_key: LogKey, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline verifier's statements look a reversal's target up in the rule audit's
    memory of every entry: the same statements as with their own memory of recent entries, or
    with every target left to the second pass; no second pass needed."""
    r = ledger.execute(cmd("reversal", entry_id="RE3", target_entry_id="E3", amount="10.00",
                           reason="录入错误", business_date="2021-03-03"), COUNTY_ACTOR)
    assert r.position is not None
    seal(db)
    sign_latest(db, log_key.name, log_key.key)
    export(db, tmp_path / "b", Scope())
    lines = (tmp_path / "b" / "events.jsonl").read_bytes().splitlines()

    def recomputed(lookup: bool, recent_max: int) -> tuple[dict[str, Any], bool]:
        monkeypatch.setattr(statements, "RECENT_ENTRIES_MAX", recent_max)
        builder, rules = StatementBuilder(), RuleAudit()
        if lookup:
            builder.entry_project = rules.entry_project
        for line in lines:
            doc = json.loads(line)
            builder.add(doc)
            rules.add_doc(doc)
        second = builder.needs_second_pass
        for line in lines:
            if builder.wants(line):
                builder.resolve(json.loads(line))
        return builder.result(), second

    own, second = recomputed(False, 100_000)
    assert not second and own["counties"][0]["reversed_fen"] == 11_000
    assert recomputed(False, 0) == (own, True)
    assert recomputed(True, 0) == (own, False)
