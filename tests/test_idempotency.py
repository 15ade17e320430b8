"""Rule R9, on SQLite and PostgreSQL: an entry id seen before with the same content returns the
original result and records nothing; with different content it is a conflict."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ledger import errors as E
from ledger.actors import Actor
from ledger.application import FundLedger, Result
from ledger.rules import packaged_rules
from tests.conftest import (
    ALLOCATION_FEN,
    COUNTY,
    COUNTY_ACTOR,
    PROGRAMME,
    PROVINCE,
    cmd,
    event_count,
)
from tests.test_hard_rules import (
    appropriation,
    close_year,
    disbursement,
    expenditure,
    fund,
    project,
    reversal,
)

OTHER_COUNTY = "441422"


def same_place(replay: Result, original: Result) -> None:
    """A replay names the original event: same stream, version and hash, flagged replayed."""
    assert replay.replayed is True
    assert original.replayed is False
    assert (replay.kind, replay.programme, replay.county_code, replay.entry_id) == (
        original.kind, original.programme, original.county_code, original.entry_id)
    assert replay.stream_id == original.stream_id
    assert replay.version == original.version
    assert replay.event_hash == original.event_hash
    assert replay.position is None
    assert original.position is not None


def replays(app: FundLedger, payload: dict, actor: Actor, original: Result) -> Result:
    """Execute `payload` again: it must replay `original` and record nothing."""
    before = event_count(app)
    result = app.execute(payload, actor)
    same_place(result, original)
    assert event_count(app) == before
    return result


def conflicts(app: FundLedger, payload: dict, actor: Actor) -> E.EntryConflict:
    before = event_count(app)
    version = fund(app).version
    with pytest.raises(E.EntryConflict) as info:
        app.execute(payload, actor)
    exc = info.value
    assert exc.code == "ENTRY_ID_CONFLICT" and exc.rule == "R9"
    assert exc.zh and exc.en and exc.zh != exc.en
    assert event_count(app) == before
    assert fund(app).version == version
    return exc


@pytest.fixture
def funded(app: FundLedger) -> FundLedger:
    """The test county with batch 1 appropriated and project P1 (1,000,000 yuan) registered."""
    app.execute(appropriation("A1", "5000000.00"), PROVINCE)
    app.execute(project("P1", "1000000.00"), COUNTY_ACTOR)
    return app


def test_identical_replay_returns_the_original_result(funded: FundLedger) -> None:
    """An identical disbursement sent again returns the same version, hash and stream, replayed."""
    app = funded
    original = app.execute(disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    replays(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR, original)
    replays(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR, original)
    assert fund(app).disbursed_fen == 10000
    stored = app.event_at(fund(app).id, original.version)
    assert stored.entry_id == "D1" and stored.event_hash == original.event_hash


def test_replay_in_other_amount_notation(funded: FundLedger) -> None:
    """The same amount written as yuan, grouped yuan or fen is the same content: a replay."""
    app = funded
    original = app.execute(disbursement("D1", "P1", "1234.50"), COUNTY_ACTOR)
    replays(app, disbursement("D1", "P1", "1,234.5"), COUNTY_ACTOR, original)
    payload = disbursement("D1", "P1", "0")
    del payload["amount"]
    replays(app, {**payload, "amount_fen": 123450}, COUNTY_ACTOR, original)


def test_replay_after_later_entries(funded: FundLedger) -> None:
    """A replay of an older entry still names that entry, not the stream's newest event."""
    app = funded
    first = app.execute(disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    app.execute(disbursement("D2", "P1", "200.00"), COUNTY_ACTOR)
    app.execute(expenditure("E1", "P1", "50.00"), COUNTY_ACTOR)
    replays(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR, first)


def test_replay_through_a_new_instance(make_app: Any, funded: FundLedger) -> None:
    """A replay through a new FundLedger on the same store (no shared cache) still replays."""
    original = funded.execute(disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    fresh = make_app()
    replays(fresh, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR, original)
    assert fund(fresh).disbursed_fen == 10000
    conflicts(fresh, disbursement("D1", "P1", "100.01"), COUNTY_ACTOR)


@pytest.mark.parametrize("change", [
    {"amount": "100.01"},
    {"payee": "另一家公司"},
    {"business_date": "2020-05-02"},
    {"voucher_no": "V-other"},
    {"project_code": "P2"},
    {"attachments": ["a" * 64]},
], ids=lambda c: next(iter(c)))
def test_same_entry_id_other_content_conflicts(funded: FundLedger, change: dict) -> None:
    """The same entry id with another amount, payee, date, voucher, project or attachments is
    ENTRY_ID_CONFLICT and records nothing."""
    app = funded
    app.execute(project("P2", "1000000.00"), COUNTY_ACTOR)
    app.execute(disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    conflicts(app, {**disbursement("D1", "P1", "100.00"), **change}, COUNTY_ACTOR)
    assert fund(app).disbursed_fen == 10000


def test_same_entry_id_for_another_kind_conflicts(funded: FundLedger) -> None:
    """An entry id used by a disbursement cannot be reused for an expenditure or a reversal."""
    app = funded
    app.execute(disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    conflicts(app, expenditure("D1", "P1", "100.00"), COUNTY_ACTOR)
    conflicts(app, reversal("D1", "D1", "1.00"), COUNTY_ACTOR)


def test_replay_of_an_entry_that_would_now_break_a_rule(funded: FundLedger) -> None:
    """A replay returns the original result even when the entry would now be refused (the cash
    it took is gone, and its year is closed)."""
    app = funded
    app.execute(project("P2", "4500000.00"), COUNTY_ACTOR)
    original = app.execute(disbursement("D1", "P1", "500000.00", date="2020-05-01"),
                           COUNTY_ACTOR)
    app.execute(disbursement("D2", "P2", "4500000.00", date="2020-05-02"), COUNTY_ACTOR)
    assert fund(app).cash_fen == 0
    with pytest.raises(E.InsufficientCash):
        app.execute(disbursement("D3", "P1", "0.01"), COUNTY_ACTOR)
    replays(app, disbursement("D1", "P1", "500000.00", date="2020-05-01"), COUNTY_ACTOR,
            original)
    app.execute(close_year(2020, "2021-01-05"), PROVINCE)
    replays(app, disbursement("D1", "P1", "500000.00", date="2020-05-01"), COUNTY_ACTOR,
            original)


def test_replay_of_a_reversal(funded: FundLedger) -> None:
    """A partial reversal sent again does not reverse twice."""
    app = funded
    app.execute(disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    original = app.execute(reversal("X1", "D1", "60.00"), COUNTY_ACTOR)
    replays(app, reversal("X1", "D1", "60.00"), COUNTY_ACTOR, original)
    assert fund(app).disbursed_fen == 4000
    assert fund(app).entries["D1"]["reversed_fen"] == 6000


def test_replay_of_a_project_registration(funded: FundLedger) -> None:
    """A project registration sent again (natural key project:CODE) replays; with another budget
    it conflicts."""
    app = funded
    original = app.execute(project("P2", "2000000.00"), COUNTY_ACTOR)
    assert original.entry_id == "project:P2"
    replays(app, project("P2", "2000000.00"), COUNTY_ACTOR, original)
    replays(app, {**project("P2", "2000000.00"), "entry_id": "project:P2"}, COUNTY_ACTOR,
            original)
    conflicts(app, project("P2", "2000000.01"), COUNTY_ACTOR)
    conflicts(app, project("P2", "2000000.00", category="rural_products_online"), COUNTY_ACTOR)
    assert fund(app).projects["P2"]["budget_fen"] == 200000000


def test_replay_of_a_batch_decision_and_a_year_close(funded: FundLedger) -> None:
    """Province commands keyed by their natural key (decision, year close) replay too."""
    app = funded
    decision = cmd("batch_decision", batch=2, document_no="决定", business_date="2021-02-01")
    decided = app.execute(decision, PROVINCE)
    replays(app, dict(decision), PROVINCE, decided)
    closed = app.execute(close_year(2020, "2021-01-05"), PROVINCE)
    replays(app, close_year(2020, "2021-01-05"), PROVINCE, closed)
    assert fund(app).closed_years == [2020]


def test_replay_of_a_budget_adjustment(funded: FundLedger) -> None:
    """An identical budget adjustment sent again replays."""
    app = funded
    payload = cmd("budget_adjustment", entry_id="ADJ1", project_code="P1",
                  new_budget="2000000.00", reason="扩大规模", approver="李四",
                  business_date="2020-05-01")
    original = app.execute(payload, COUNTY_ACTOR)
    replays(app, payload, COUNTY_ACTOR, original)


def test_replay_of_open_programme(app: FundLedger) -> None:
    """open_programme sent again returns version 1 of the programme stream, replayed; with
    another total it is ALREADY_EXISTS; nothing is recorded either way."""
    before = event_count(app)
    rules = packaged_rules(PROGRAMME)
    total = app.programme(PROGRAMME).total_fen
    result = app.open_programme(rules, total, PROVINCE, dt.date(2020, 3, 1))
    assert result.replayed and result.version == 1
    assert result.event_hash == app.event_at(app.programme(PROGRAMME).id, 1).event_hash
    with pytest.raises(E.AlreadyExists):
        app.open_programme(rules, total + 1, PROVINCE, dt.date(2020, 3, 1))
    assert event_count(app) == before


def test_replay_of_admit_county(app: FundLedger) -> None:
    """admit_county sent again replays and records nothing; with another allocation it is
    ALREADY_EXISTS."""
    before = event_count(app)
    result = app.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "粤商务建字〔2020〕1号",
                              PROVINCE, dt.date(2020, 3, 2))
    assert result.replayed and result.version == 2
    assert result.event_hash == app.event_at(app.programme(PROGRAMME).id, 2).event_hash
    with pytest.raises(E.AlreadyExists):
        app.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN + 1, "粤商务建字〔2020〕1号",
                         PROVINCE, dt.date(2020, 3, 2))
    assert event_count(app) == before
    assert fund(app).allocation_fen == ALLOCATION_FEN


def test_admit_county_through_a_new_instance(make_app: Any, app: FundLedger) -> None:
    """admit_county replayed through a new FundLedger on the same store records nothing."""
    before = event_count(app)
    fresh = make_app()
    result = fresh.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN,
                                "粤商务建字〔2020〕1号", PROVINCE, dt.date(2020, 3, 2))
    assert result.replayed
    assert event_count(fresh) == before


def test_replay_of_admit_county_after_another_county(app: FundLedger) -> None:
    """admit_county replayed after another county's admission still names its own event."""
    app.admit_county(PROGRAMME, OTHER_COUNTY, "大埔县", ALLOCATION_FEN, "doc-2", PROVINCE,
                     dt.date(2020, 3, 3))
    result = app.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "粤商务建字〔2020〕1号",
                              PROVINCE, dt.date(2020, 3, 2))
    assert result.replayed
    assert result.version == 2
    event = app.event_at(app.programme(PROGRAMME).id, result.version)
    assert event.county_code == COUNTY


def test_admit_county_with_another_document_is_not_a_replay(app: FundLedger) -> None:
    """admit_county with the same county but another document number is not a silent replay."""
    with pytest.raises(E.AlreadyExists):
        app.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "另一个文号", PROVINCE,
                         dt.date(2020, 3, 2))


def test_entry_ids_are_per_county(app: FundLedger) -> None:
    """Entry ids are per county: the same id in two counties records two entries."""
    app.admit_county(PROGRAMME, OTHER_COUNTY, "大埔县", ALLOCATION_FEN, "doc-2", PROVINCE,
                     dt.date(2020, 3, 3))
    a = app.execute(appropriation("A1", "100.00"), PROVINCE)
    b = app.execute({**appropriation("A1", "100.00"), "county_code": OTHER_COUNTY}, PROVINCE)
    assert not a.replayed and not b.replayed
    assert a.stream_id != b.stream_id
    assert fund(app).appropriated_fen == fund(app, OTHER_COUNTY).appropriated_fen == 10000


@pytest.mark.parametrize("case", ["entry_id", "period"])
def test_trailing_newline_does_not_make_a_new_entry(funded: FundLedger, case: str) -> None:
    """An id or period with a trailing newline is refused (or replays), never a second entry."""
    app = funded
    if case == "entry_id":
        first = disbursement("D1", "P1", "100.00")
        second = {**first, "entry_id": "D1\n"}
    else:
        first = cmd("monthly_report", period="2020-01", summary="进展", business_date="2020-02-03")
        second = {**first, "period": "2020-01\n"}
    app.execute(first, COUNTY_ACTOR)
    before = event_count(app)
    try:
        result = app.execute(second, COUNTY_ACTOR)
    except (E.InvalidField, E.AlreadyExists):
        pass
    else:
        assert result.replayed
    assert event_count(app) == before
