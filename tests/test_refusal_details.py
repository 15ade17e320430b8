"""Refusals say how much is left (issue 8): a rule error's details carry the amount asked, the
limit and what is left, in fen and as grouped yuan, and its text shows the same numbers, with
no internal names; and an actor outside a county's scope learns nothing about the county, by
`execute` or by import. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from ledger import errors as E
from ledger.actors import Actor
from ledger.application import FundLedger
from tests.conftest import (
    ALLOCATION_FEN,
    COUNTY,
    COUNTY_ACTOR,
    PROGRAMME,
    PROVINCE,
    cmd,
    event_count,
)

INTERNAL_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")  # record_appropriation, amount_fen, ...


def appropriation(entry_id: str, amount: str, batch: int = 1) -> dict[str, Any]:
    return cmd("appropriation", entry_id=entry_id, batch=batch, amount=amount,
               document_no="粤A", business_date="2020-04-01")


def project(code: str, budget: str, category: str = "training") -> dict[str, Any]:
    return cmd("project", project_code=code, name="项目", category=category, budget=budget,
               responsible_person="张三", implementing_unit="县商务局",
               start_date="2020-04-01", end_date="2021-06-30", business_date="2020-04-02")


def disbursement(entry_id: str, amount: str, code: str = "P1") -> dict[str, Any]:
    return cmd("disbursement", entry_id=entry_id, project_code=code, amount=amount,
               payee="某公司", voucher_no="V1", business_date="2020-04-03")


def refused(app: FundLedger, payload: dict[str, Any], actor: Actor,
            error_cls: type[E.LedgerError]) -> E.LedgerError:
    before = event_count(app)
    with pytest.raises(error_cls) as info:
        app.execute(payload, actor)
    assert event_count(app) == before
    error = info.value
    for text in (error.zh, error.en):
        assert not INTERNAL_NAME.search(text), text
    return error


def assert_numbers(error: E.LedgerError, **yuan: str) -> None:
    """Each named amount is in the details in fen and grouped yuan, and in both texts."""
    for name, shown in yuan.items():
        fen = int(shown.replace(",", "").replace(".", ""))
        assert error.details[f"{name}_fen"] == fen, name
        assert error.details[f"{name}_yuan"] == shown, name
        assert shown in error.zh and shown in error.en, (name, error.zh, error.en)


def test_r2_tranche_says_the_limit_and_what_is_left(app: FundLedger) -> None:
    app.execute(appropriation("A1", "3000000"), PROVINCE)
    error = refused(app, appropriation("A2", "2500000"), PROVINCE, E.TrancheExceeded)
    assert error.details["batch"] == 1
    assert_numbers(error, amount="2,500,000.00", limit="5,000,000.00", used="3,000,000.00",
                   left="2,000,000.00")


def test_r3_category_share_says_the_ceiling_and_what_is_left(app: FundLedger) -> None:
    app.execute(project("S1", "4000000", "public_services"), COUNTY_ACTOR)
    error = refused(app, project("S2", "1500000", "public_services"), COUNTY_ACTOR,
                    E.CategoryShareExceeded)
    assert error.details["share_percent"] == "50" and "50%" in error.en
    assert_numbers(error, amount="1,500,000.00", total="5,500,000.00", limit="5,000,000.00",
                   left="1,000,000.00")


def test_r3_allocation_says_what_is_left(app: FundLedger) -> None:
    app.execute(project("T1", "9000000"), COUNTY_ACTOR)
    error = refused(app, project("T2", "1000000.01"), COUNTY_ACTOR, E.BudgetExceedsAllocation)
    assert_numbers(error, total="10,000,000.01", limit="10,000,000.00", left="1,000,000.00")


def test_r4_budget_and_cash_say_what_is_left(app: FundLedger) -> None:
    app.execute(appropriation("A1", "100000"), PROVINCE)
    app.execute(project("P1", "300000"), COUNTY_ACTOR)
    app.execute(disbursement("D1", "80000"), COUNTY_ACTOR)
    over_cash = refused(app, disbursement("D2", "20000.01"), COUNTY_ACTOR, E.InsufficientCash)
    assert_numbers(over_cash, amount="20,000.01", left="20,000.00")
    app.execute(appropriation("A2", "1000000"), PROVINCE)
    over_budget = refused(app, disbursement("D3", "220000.01"), COUNTY_ACTOR,
                          E.DisbursementExceedsBudget)
    assert_numbers(over_budget, amount="220,000.01", limit="300,000.00", used="80,000.00",
                   left="220,000.00")


def test_r5_and_r6_say_what_is_left(app: FundLedger) -> None:
    app.execute(appropriation("A1", "100000"), PROVINCE)
    app.execute(project("P1", "300000"), COUNTY_ACTOR)
    app.execute(disbursement("D1", "1000"), COUNTY_ACTOR)
    error = refused(app, cmd("expenditure", entry_id="E1", project_code="P1", amount="1000.01",
                             purpose="培训", invoice_no="F1", business_date="2020-04-04"),
                    COUNTY_ACTOR, E.ExpenditureExceedsDisbursed)
    assert_numbers(error, amount="1,000.01", left="1,000.00")
    app.execute(cmd("reversal", entry_id="R1", target_entry_id="D1", amount="400",
                    reason="录入错误", business_date="2020-04-05"), COUNTY_ACTOR)
    error = refused(app, cmd("reversal", entry_id="R2", target_entry_id="D1", amount="600.01",
                             reason="录入错误", business_date="2020-04-05"),
                    COUNTY_ACTOR, E.ReversalExceedsEntry)
    assert_numbers(error, amount="600.01", limit="1,000.00", used="400.00", left="600.00")


def test_r7_names_the_period_and_r9_the_version(app: FundLedger) -> None:
    error = refused(app, {**appropriation("A1", "1"), "business_date": "2019-12-31"},
                    PROVINCE, E.DateOutsidePeriod)
    assert error.details["period_start"] in error.en and "2019-12-31" in error.zh
    first = app.execute(appropriation("A1", "1"), PROVINCE)
    error = refused(app, appropriation("A1", "2"), PROVINCE, E.EntryConflict)
    assert error.details == {"entry_id": "A1", "version": first.version}


@pytest.mark.parametrize("via", ["execute", "import", "import-run"])
def test_an_actor_out_of_scope_learns_nothing_about_a_county(app: FundLedger, via: str) -> None:
    """The same refusal for an admitted county and for one never admitted, by any path."""
    outsider = Actor("county-officer-9", "county", "441424")
    answers = []
    for county in (COUNTY, "441499"):
        payload = {**appropriation("A1", "1"), "county_code": county}
        before = event_count(app)
        with pytest.raises(E.LedgerError) as info:
            if via == "execute":
                app.execute(payload, outsider)
            elif via == "import":
                app.import_entries([(payload, outsider)])
            else:
                app.import_entries([(payload, None)], runner=outsider)
        assert event_count(app) == before
        error = info.value.details.get("cause", info.value.to_dict())
        assert error["code"] == "NOT_PERMITTED", error
        answers.append(str(error).replace(county, "<county>"))
    assert answers[0] == answers[1]


@pytest.mark.parametrize(("day", "words"), [
    (dt.date(2019, 12, 31), "outside the programme period"),
    (dt.date(2022, 7, 1), "in the future (today is 2022-06-30)")])
def test_the_province_side_dates_are_checked_as_the_county_side(
        app: FundLedger, day: dt.date, words: str) -> None:
    """One date check (R7) for admissions and for county entries: the same words."""
    before = event_count(app)
    with pytest.raises(E.DateOutsidePeriod) as admitted:
        app.admit_county(PROGRAMME, "441424", "蕉岭县", ALLOCATION_FEN, "粤A", PROVINCE, day)
    with pytest.raises(E.DateOutsidePeriod) as entered:
        app.execute({**appropriation("A1", "1"), "business_date": day.isoformat()}, PROVINCE)
    assert event_count(app) == before
    assert words in admitted.value.en and admitted.value.en == entered.value.en
    assert admitted.value.details == entered.value.details
