"""R4, R5, R6 judged by business date: an entry may use only the money there on its date and
on every later date, so no as-of read ever shows negative cash or negative unspent money."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import FundLedger
from ledger.dated import lowest_from, move
from ledger.errors import (
    ExpenditureExceedsDisbursed,
    InsufficientCash,
    LedgerError,
    ReversalBelowSpent,
)
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, cmd, event_count


def test_lowest_from_walks_the_later_days() -> None:
    """The lowest running balance on a day or after, from per-day movements."""
    days: dict[str, int] = {}
    dates: list[str] = []
    for day, delta in (("2020-04-01", 1000), ("2020-05-01", -800), ("2020-06-01", 500)):
        move(days, dates, day, delta)
    assert dates == ["2020-04-01", "2020-05-01", "2020-06-01"]
    assert lowest_from(days, dates, 700, "2020-03-01") == 0  # before any money
    assert lowest_from(days, dates, 700, "2020-04-15") == 200  # 1000, then 200 on 05-01
    assert lowest_from(days, dates, 700, "2020-05-15") == 200
    assert lowest_from(days, dates, 700, "2020-07-01") == 700


@pytest.fixture
def funded(app: FundLedger) -> FundLedger:
    """1,000.00 yuan appropriated on 2020-04-01, a training project, 800.00 paid on 2020-05-01."""
    app.execute(cmd("appropriation", entry_id="A1", batch=1, amount="1000", document_no="X",
                    business_date="2020-04-01"), PROVINCE)
    app.execute(cmd("project", project_code="P1", name="n", category="training",
                    budget="900000", responsible_person="r", implementing_unit="u",
                    start_date="2020-04-01", end_date="2021-04-01",
                    business_date="2020-04-02"), COUNTY_ACTOR)
    app.execute(cmd("disbursement", entry_id="D1", project_code="P1", amount="800",
                    payee="p", voucher_no="v1", business_date="2020-05-01"), COUNTY_ACTOR)
    return app


def refused(app: FundLedger, payload: dict[str, Any], error: type[LedgerError]) -> None:
    before = event_count(app)
    with pytest.raises(error) as info:
        app.execute(payload, COUNTY_ACTOR)
    assert info.value.zh and info.value.en and event_count(app) == before


def test_disbursement_dated_before_its_appropriation_is_refused(funded: FundLedger) -> None:
    """On 2020-03-20 there was no money yet, whatever the balance is today."""
    refused(funded, cmd("disbursement", entry_id="D0", project_code="P1", amount="100",
                        payee="p", voucher_no="v0", business_date="2020-03-20"),
            InsufficientCash)


def test_backdated_disbursement_may_not_overdraw_a_later_day(funded: FundLedger) -> None:
    """On 2020-04-15 there were 1,000.00, but 800.00 go out on 05-01: only 200.00 may be used."""
    refused(funded, cmd("disbursement", entry_id="D2", project_code="P1", amount="200.01",
                        payee="p", voucher_no="v2", business_date="2020-04-15"),
            InsufficientCash)
    funded.execute(cmd("disbursement", entry_id="D2", project_code="P1", amount="200",
                       payee="p", voucher_no="v2", business_date="2020-04-15"), COUNTY_ACTOR)
    assert funded.county(PROGRAMME, COUNTY).cash_fen == 0


def test_expenditure_dated_before_its_disbursement_is_refused(funded: FundLedger) -> None:
    """The project had nothing to spend on 2020-04-20: its money came on 2020-05-01."""
    refused(funded, cmd("expenditure", entry_id="E1", project_code="P1", amount="10",
                        purpose="x", invoice_no="i", business_date="2020-04-20"),
            ExpenditureExceedsDisbursed)
    funded.execute(cmd("expenditure", entry_id="E1", project_code="P1", amount="10",
                       purpose="x", invoice_no="i", business_date="2020-05-02"), COUNTY_ACTOR)


def test_reversal_may_not_take_back_money_spent_later(funded: FundLedger) -> None:
    """Spent 700.00 on 06-01: reversing more than 100.00 of D1 on 05-15 is refused."""
    funded.execute(cmd("expenditure", entry_id="E1", project_code="P1", amount="700",
                       purpose="x", invoice_no="i", business_date="2020-06-01"), COUNTY_ACTOR)
    refused(funded, cmd("reversal", entry_id="R1", target_entry_id="D1", amount="100.01",
                        reason="错", business_date="2020-05-15"), ReversalBelowSpent)
    funded.execute(cmd("reversal", entry_id="R1", target_entry_id="D1", amount="100",
                       reason="错", business_date="2020-05-15"), COUNTY_ACTOR)
