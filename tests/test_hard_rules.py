"""The hard rules R1-R9 of the brief, on SQLite and PostgreSQL: every breach is rejected with
its code, rule and a Chinese and an English message, and records nothing; every accepted
command leaves the county's balances as expected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from ledger import errors as E
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.errors import LedgerError
from ledger.money import AMOUNT_FEN_MAX, parse_yuan
from ledger.rules import packaged_rules
from tests.conftest import (
    ALLOCATION_FEN,
    AUDITOR,
    CITY_ACTOR,
    COUNTY,
    COUNTY_ACTOR,
    PROGRAMME,
    PROVINCE,
    cmd,
    event_count,
)

RULES = packaged_rules(PROGRAMME)
OTHER_COUNTY = "441422"  # 大埔县, the same city (梅州市 441400)
OTHER_COUNTY_ACTOR = Actor("county-officer-9", "county", OTHER_COUNTY)
REVIEWER = Actor("reviewer-1", "reviewer", "440000")
TRANCHE_FEN = ALLOCATION_FEN // 2


def Y(text: str) -> int:  # noqa: N802 - reads like a unit
    """Yuan text to fen."""
    return parse_yuan(text)


# ---- payload builders ----------------------------------------------------------------------

def appropriation(entry_id: str, amount: str, batch: int = 1, date: str = "2020-04-01") -> dict:
    return cmd("appropriation", entry_id=entry_id, batch=batch, amount=amount,
               document_no=f"粤商务建〔{date[:4]}〕{entry_id}号", business_date=date)


def decision(date: str = "2021-02-01") -> dict:
    return cmd("batch_decision", batch=2, document_no="粤商务建〔2021〕9号", business_date=date)


def project(code: str, budget: str, category: str = "training", date: str = "2020-04-10") -> dict:
    return cmd("project", project_code=code, name=f"项目 {code}", category=category,
               budget=budget, responsible_person="张三", implementing_unit="县商务局",
               start_date="2020-04-10", end_date="2021-12-31", business_date=date)


def disbursement(entry_id: str, code: str, amount: str, date: str = "2020-05-01") -> dict:
    return cmd("disbursement", entry_id=entry_id, project_code=code, amount=amount,
               payee="丰顺县电商服务中心", voucher_no=f"V-{entry_id}", business_date=date)


def expenditure(entry_id: str, code: str, amount: str, date: str = "2020-06-01") -> dict:
    return cmd("expenditure", entry_id=entry_id, project_code=code, amount=amount,
               purpose="培训场地租金", invoice_no=f"I-{entry_id}", business_date=date)


def reversal(entry_id: str, target: str, amount: str, date: str = "2020-06-15") -> dict:
    return cmd("reversal", entry_id=entry_id, target_entry_id=target, amount=amount,
               reason="红字冲销：金额录入错误", business_date=date)


def recovery(entry_id: str, amount: str, date: str = "2021-03-01") -> dict:
    return cmd("recovery", entry_id=entry_id, amount=amount, reason="收回结余资金",
               document_no=f"收回-{entry_id}", business_date=date)


def exception(limit: str, date: str = "2020-04-05") -> dict:
    return cmd("ratio_exception", category="public_services", limit=limit,
               reason="县域物流中心建设需要", approver="李四", document_no="粤商务建〔2020〕7号",
               business_date=date)


def close_year(year: int, date: str) -> dict:
    return cmd("year_close", year=year, business_date=date)


# ---- assertions ----------------------------------------------------------------------------

def fund(app: FundLedger, county: str = COUNTY) -> Any:
    return app.county(PROGRAMME, county)


def ok(app: FundLedger, payload: dict, actor: Actor) -> Any:
    """Execute a command that must be accepted: exactly one event is recorded."""
    before = event_count(app)
    result = app.execute(payload, actor)
    assert not result.replayed
    assert event_count(app) == before + 1
    return result


def assert_rejected(
    app: FundLedger, payload: dict, actor: Actor, error_cls: type[LedgerError],
    rule: str | None = None,
) -> LedgerError:
    """The command raises exactly `error_cls` with its code and rule, zh and en messages that
    differ, and nothing is recorded: the store's event count and the county's version stay."""
    county = payload.get("county_code", COUNTY)
    return assert_refused(app, lambda: app.execute(payload, actor), error_cls, rule, county)


def assert_refused(
    app: FundLedger, call: Callable[[], Any], error_cls: type[LedgerError],
    rule: str | None = None, county: str = COUNTY,
) -> LedgerError:
    """`call` raises exactly `error_cls` (code, rule, zh != en) and records nothing."""
    before = event_count(app)
    version = fund(app, county).version
    with pytest.raises(LedgerError) as info:
        call()
    exc = info.value
    assert type(exc) is error_cls, f"{type(exc).__name__}: {exc}"
    assert exc.code == error_cls.code
    assert exc.rule == (rule or error_cls.rule)
    assert isinstance(exc.zh, str) and exc.zh.strip()
    assert isinstance(exc.en, str) and exc.en.strip()
    assert exc.zh != exc.en
    assert event_count(app) == before
    assert fund(app, county).version == version
    return exc


def assert_balances(
    app: FundLedger, *, appropriated: int, disbursed: int = 0, expended: int = 0,
    recovered: int = 0, budgeted: int | None = None, county: str = COUNTY,
) -> None:
    """The county's totals, and cash = appropriated - disbursed - recovered."""
    f = fund(app, county)
    assert f.appropriated_fen == appropriated
    assert f.disbursed_fen == disbursed
    assert f.expended_fen == expended
    assert f.recovered_fen == recovered
    assert f.cash_fen == appropriated - disbursed - recovered
    if budgeted is not None:
        assert f.budgeted_fen == budgeted


def assert_project(app: FundLedger, code: str, *, budget: int, disbursed: int = 0,
                   expended: int = 0) -> None:
    p = fund(app).projects[code]
    assert (p["budget_fen"], p["disbursed_fen"], p["expended_fen"]) == (budget, disbursed, expended)


def funded(app: FundLedger, amount: str = "5000000.00", **projects: str) -> None:
    """Batch 1 appropriated, and training projects registered with the given budgets."""
    ok(app, appropriation("A1", amount), PROVINCE)
    for code, budget in projects.items():
        ok(app, project(code, budget), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y(amount),
                    budgeted=sum(Y(b) for b in projects.values()))


# ---- R1: amounts are whole fen within 1..AMOUNT_FEN_MAX -------------------------------------

@pytest.mark.parametrize("amount", [
    {"amount": "0"}, {"amount": "0.00"}, {"amount": "-1"}, {"amount": "1.234"},
    {"amount": "1e3"}, {"amount": ""}, {"amount": "abc"}, {"amount": 12.5},
    {"amount_fen": 0}, {"amount_fen": -100}, {"amount_fen": 1.5}, {"amount_fen": True},
    {"amount_fen": "100"}, {"amount_fen": AMOUNT_FEN_MAX + 1},
], ids=repr)
def test_r1_disbursement_amount_must_be_whole_fen_in_range(app: FundLedger, amount: dict) -> None:
    """R1: a disbursement with a zero, negative, fractional-fen, float or too large amount is
    AMOUNT_INVALID and records nothing."""
    funded(app, P1="1000000.00")
    payload = disbursement("D1", "P1", "1.00")
    del payload["amount"]
    payload.update(amount)
    assert_rejected(app, payload, COUNTY_ACTOR, E.InvalidAmount, "R1")
    assert_balances(app, appropriated=Y("5000000.00"))


def test_r1_project_budget_and_appropriation_amounts(app: FundLedger) -> None:
    """R1: a zero budget or a sub-fen appropriation is AMOUNT_INVALID."""
    payload = project("P1", "0.00")
    assert_rejected(app, payload, COUNTY_ACTOR, E.InvalidAmount, "R1")
    payload = appropriation("A1", "100.001")
    exc = assert_rejected(app, payload, PROVINCE, E.InvalidAmount, "R1")
    assert exc.field == "amount"


def test_r1_one_fen_is_accepted_and_max_passes_r1(app: FundLedger) -> None:
    """R1 boundaries: 1 fen is a valid disbursement; AMOUNT_FEN_MAX passes R1 (then breaks R2)."""
    funded(app, P1="1000000.00")
    payload = disbursement("D1", "P1", "1.00")
    del payload["amount"]
    ok(app, {**payload, "amount_fen": 1}, COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=1)
    assert_project(app, "P1", budget=Y("1000000.00"), disbursed=1)
    payload = appropriation("A2", "1.00")
    del payload["amount"]
    assert_rejected(app, {**payload, "amount_fen": AMOUNT_FEN_MAX}, PROVINCE,
                    E.AppropriationExceedsAllocation, "R2")


def test_r1_amount_given_twice_is_invalid_field(app: FundLedger) -> None:
    """An amount given both as yuan and as fen is an input error, not silently chosen."""
    funded(app, P1="1000000.00")
    payload = {**disbursement("D1", "P1", "1.00"), "amount_fen": 100}
    exc = assert_rejected(app, payload, COUNTY_ACTOR, E.InvalidField, "input")
    assert exc.field == "amount_fen"


def test_r1_yuan_and_fen_forms_record_the_same_amount(app: FundLedger) -> None:
    """"1,234.50" yuan and 123450 fen record the same integer amount."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "1,234.50"), COUNTY_ACTOR)
    payload = disbursement("D2", "P1", "1.00")
    del payload["amount"]
    ok(app, {**payload, "amount_fen": 123450}, COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=2 * 123450)


# ---- R2: appropriations ----------------------------------------------------------------------

def test_r2_batch_one_up_to_its_tranche_is_accepted(app: FundLedger) -> None:
    """R2: batch 1 may reach exactly its 50% tranche in 2020, in several appropriations."""
    ok(app, appropriation("A1", "3000000.00"), PROVINCE)
    assert_balances(app, appropriated=Y("3000000.00"))
    ok(app, appropriation("A2", "2000000.00", date="2020-09-01"), PROVINCE)
    assert_balances(app, appropriated=TRANCHE_FEN)
    assert fund(app).by_batch == {"1": TRANCHE_FEN}


def test_r2_batch_over_its_tranche(app: FundLedger) -> None:
    """R2: batch 1 above its 50% tranche is TRANCHE_EXCEEDED, even by one fen."""
    assert_rejected(app, appropriation("A1", "5000000.01"), PROVINCE, E.TrancheExceeded, "R2")
    ok(app, appropriation("A1", "4999999.99"), PROVINCE)
    assert_rejected(app, appropriation("A2", "0.02"), PROVINCE, E.TrancheExceeded, "R2")
    ok(app, appropriation("A2", "0.01"), PROVINCE)
    assert_balances(app, appropriated=TRANCHE_FEN)


def test_r2_appropriations_over_allocation(app: FundLedger) -> None:
    """R2: with both batches full, one more fen exceeds the allocation."""
    ok(app, appropriation("A1", "5000000.00"), PROVINCE)
    ok(app, decision(), PROVINCE)
    ok(app, appropriation("A2", "5000000.00", batch=2, date="2021-03-01"), PROVINCE)
    assert_balances(app, appropriated=ALLOCATION_FEN)
    assert_rejected(app, appropriation("A3", "0.01", batch=2, date="2021-04-01"), PROVINCE,
                    E.AppropriationExceedsAllocation, "R2")
    assert_rejected(app, appropriation("A4", "10000000.01", batch=2, date="2021-04-01"),
                    PROVINCE, E.AppropriationExceedsAllocation, "R2")
    assert_balances(app, appropriated=ALLOCATION_FEN)


def test_r2_batch_two_before_its_decision(app: FundLedger) -> None:
    """R2: batch 2 in its year but before the province's batch-2 decision is BATCH_NOT_OPEN."""
    ok(app, appropriation("A1", "5000000.00"), PROVINCE)
    assert_rejected(app, appropriation("A2", "1.00", batch=2, date="2021-03-01"), PROVINCE,
                    E.BatchNotOpen, "R2")
    ok(app, decision(), PROVINCE)
    assert fund(app).decided_batches == [2]
    ok(app, appropriation("A2", "1.00", batch=2, date="2021-03-01"), PROVINCE)
    assert_balances(app, appropriated=TRANCHE_FEN + 100)


def test_r2_batch_two_in_2020(app: FundLedger) -> None:
    """R2: batch 2 dated in 2020 is BATCH_NOT_OPEN, even after its decision."""
    ok(app, decision(date="2020-11-01"), PROVINCE)
    assert_rejected(app, appropriation("A2", "1.00", batch=2, date="2020-12-01"), PROVINCE,
                    E.BatchNotOpen, "R2")
    assert_balances(app, appropriated=0)


def test_r2_batch_one_outside_its_year(app: FundLedger) -> None:
    """R2: batch 1 dated in 2021 is BATCH_NOT_OPEN."""
    assert_rejected(app, appropriation("A1", "1.00", date="2021-01-05"), PROVINCE,
                    E.BatchNotOpen, "R2")


def test_r2_allocations_within_the_programme_total(app: FundLedger) -> None:
    """R2 (programme side): admitting a county beyond the programme total is refused, nothing
    recorded; within it, the county's stream opens with its allocation."""
    before = event_count(app)
    total = app.programme(PROGRAMME).total_fen
    assert_refused(app, lambda: app.admit_county(
        PROGRAMME, OTHER_COUNTY, "大埔县", total - ALLOCATION_FEN + 1, "doc", PROVINCE,
        dt.date(2020, 3, 3)), E.AllocationExceedsProgramme, "R2")
    app.admit_county(PROGRAMME, OTHER_COUNTY, "大埔县", total - ALLOCATION_FEN, "doc",
                     PROVINCE, dt.date(2020, 3, 3))
    assert event_count(app) == before + 2  # programme stream and the new county stream
    assert fund(app, OTHER_COUNTY).allocation_fen == total - ALLOCATION_FEN


# ---- R3: project budgets -----------------------------------------------------------------------

def test_r3_budgets_over_allocation(app: FundLedger) -> None:
    """R3: Σ project budgets may reach the allocation exactly, not one fen more."""
    ok(app, project("P1", "6000000.00"), COUNTY_ACTOR)
    ok(app, project("P2", "4000000.00", category="rural_products_online"), COUNTY_ACTOR)
    assert_balances(app, appropriated=0, budgeted=ALLOCATION_FEN)
    assert_rejected(app, project("P3", "0.01", category="rural_products_online"), COUNTY_ACTOR,
                    E.BudgetExceedsAllocation, "R3")
    assert "P3" not in fund(app).projects


def test_r3_budget_adjustment_over_allocation(app: FundLedger) -> None:
    """R3: raising a budget so that Σ budgets exceeds the allocation is refused."""
    ok(app, project("P1", "9000000.00"), COUNTY_ACTOR)
    payload = cmd("budget_adjustment", entry_id="ADJ1", project_code="P1",
                  new_budget="10000000.01", reason="扩大规模", approver="李四",
                  business_date="2020-05-01")
    assert_rejected(app, payload, COUNTY_ACTOR, E.BudgetExceedsAllocation, "R3")
    ok(app, {**payload, "new_budget": "10000000.00"}, COUNTY_ACTOR)
    assert_project(app, "P1", budget=ALLOCATION_FEN)


def test_r3_public_services_over_half_without_exception(app: FundLedger) -> None:
    """R3: public_services budgets may reach 50% of the allocation, not more, without exception."""
    ok(app, project("S1", "3000000.00", category="public_services"), COUNTY_ACTOR)
    ok(app, project("S2", "2000000.00", category="public_services"), COUNTY_ACTOR)
    assert fund(app).budget_by_category["public_services"] == ALLOCATION_FEN // 2
    exc = assert_rejected(app, project("S3", "0.01", category="public_services"), COUNTY_ACTOR,
                          E.CategoryShareExceeded, "R3")
    assert exc.details["category"] == "public_services"
    assert "农村电商公共服务体系" in exc.zh
    # other categories have only minimum shares: no cap on them
    ok(app, project("T1", "5000000.00", category="training"), COUNTY_ACTOR)
    assert_balances(app, appropriated=0, budgeted=ALLOCATION_FEN)


def test_r3_public_services_raised_by_adjustment(app: FundLedger) -> None:
    """R3: a budget adjustment taking public_services above 50% is refused; lowering is allowed."""
    ok(app, project("S1", "5000000.00", category="public_services"), COUNTY_ACTOR)
    raise_ = cmd("budget_adjustment", entry_id="ADJ1", project_code="S1", new_budget="5000000.01",
                 reason="追加", approver="李四", business_date="2020-05-01")
    assert_rejected(app, raise_, COUNTY_ACTOR, E.CategoryShareExceeded, "R3")
    lower = {**raise_, "entry_id": "ADJ2", "new_budget": "4000000.00"}
    ok(app, lower, COUNTY_ACTOR)
    assert_project(app, "S1", budget=Y("4000000.00"))


def test_r3_exception_allows_up_to_its_limit(app: FundLedger) -> None:
    """R3: an approved exception (reason, approver, document) lets public_services budgets reach
    its limit, and no further."""
    ok(app, exception("6000000.00"), PROVINCE)
    assert fund(app).exceptions["public_services"]["limit_fen"] == Y("6000000.00")
    ok(app, project("S1", "5500000.00", category="public_services"), COUNTY_ACTOR)
    ok(app, project("S2", "500000.00", category="public_services"), COUNTY_ACTOR)
    assert_rejected(app, project("S3", "0.01", category="public_services"), COUNTY_ACTOR,
                    E.CategoryShareExceeded, "R3")
    assert_balances(app, appropriated=0, budgeted=Y("6000000.00"))


def test_r3_exception_needs_reason_approver_document_and_the_province(app: FundLedger) -> None:
    """R3: an exception without a reason, approver or document number is refused, and a county
    officer cannot approve one (R8)."""
    for missing in ("reason", "approver", "document_no"):
        payload = exception("6000000.00")
        del payload[missing]
        exc = assert_rejected(app, payload, PROVINCE, E.InvalidField, "input")
        assert exc.field == missing
    assert_rejected(app, exception("6000000.00"), COUNTY_ACTOR, E.NotPermitted, "R8")
    assert_rejected(app, project("S1", "5000000.01", category="public_services"), COUNTY_ACTOR,
                    E.CategoryShareExceeded, "R3")


# ---- R4: disbursements -------------------------------------------------------------------------

def test_r4_disbursement_over_project_remaining_budget(app: FundLedger) -> None:
    """R4: a disbursement above the project's remaining budget is refused, to the fen."""
    funded(app, P1="1000000.00")
    assert_rejected(app, disbursement("D1", "P1", "1000000.01"), COUNTY_ACTOR,
                    E.DisbursementExceedsBudget, "R4")
    ok(app, disbursement("D1", "P1", "600000.00"), COUNTY_ACTOR)
    assert_project(app, "P1", budget=Y("1000000.00"), disbursed=Y("600000.00"))
    assert_rejected(app, disbursement("D2", "P1", "400000.01"), COUNTY_ACTOR,
                    E.DisbursementExceedsBudget, "R4")
    ok(app, disbursement("D2", "P1", "400000.00"), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("1000000.00"))
    assert_project(app, "P1", budget=Y("1000000.00"), disbursed=Y("1000000.00"))


def test_r4_disbursement_over_county_cash(app: FundLedger) -> None:
    """R4: a disbursement above the county's cash is refused even within the budget."""
    funded(app, "3000000.00", P1="8000000.00")
    assert_rejected(app, disbursement("D1", "P1", "3000000.01"), COUNTY_ACTOR,
                    E.InsufficientCash, "R4")
    ok(app, disbursement("D1", "P1", "2000000.00"), COUNTY_ACTOR)
    assert_rejected(app, disbursement("D2", "P1", "1000000.01"), COUNTY_ACTOR,
                    E.InsufficientCash, "R4")
    ok(app, disbursement("D2", "P1", "1000000.00"), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("3000000.00"), disbursed=Y("3000000.00"))
    assert fund(app).cash_fen == 0


def test_r4_cash_is_net_of_recoveries_and_reversals(app: FundLedger) -> None:
    """R4: cash = appropriated - disbursed - recovered, each net of reversals."""
    funded(app, "1000000.00", P1="2000000.00")
    ok(app, recovery("R1", "300000.00", date="2020-07-01"), PROVINCE)
    assert_balances(app, appropriated=Y("1000000.00"), recovered=Y("300000.00"))
    assert_rejected(app, disbursement("D1", "P1", "700000.01", date="2020-07-02"), COUNTY_ACTOR,
                    E.InsufficientCash, "R4")
    ok(app, disbursement("D1", "P1", "700000.00", date="2020-07-02"), COUNTY_ACTOR)
    ok(app, reversal("X1", "D1", "100000.00", date="2020-07-03"), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("1000000.00"), disbursed=Y("600000.00"),
                    recovered=Y("300000.00"))
    ok(app, reversal("X2", "R1", "50000.00", date="2020-07-04"), PROVINCE)
    assert_balances(app, appropriated=Y("1000000.00"), disbursed=Y("600000.00"),
                    recovered=Y("250000.00"))
    ok(app, disbursement("D2", "P1", "150000.00", date="2020-07-05"), COUNTY_ACTOR)
    assert fund(app).cash_fen == 0


def test_r4_recovery_over_cash(app: FundLedger) -> None:
    """R4: the province cannot recover more than the county's cash."""
    funded(app, "1000000.00", P1="1000000.00")
    ok(app, disbursement("D1", "P1", "400000.00"), COUNTY_ACTOR)
    assert_rejected(app, recovery("R1", "600000.01"), PROVINCE, E.InsufficientCash, "R4")
    ok(app, recovery("R1", "600000.00"), PROVINCE)
    assert_balances(app, appropriated=Y("1000000.00"), disbursed=Y("400000.00"),
                    recovered=Y("600000.00"))


def test_r4_disbursement_to_unknown_project(app: FundLedger) -> None:
    """A disbursement to a project the county never registered is UNKNOWN_PROJECT."""
    funded(app, P1="1000000.00")
    assert_rejected(app, disbursement("D1", "NOPE", "1.00"), COUNTY_ACTOR, E.UnknownProject,
                    "reference")


# ---- R5: expenditures -------------------------------------------------------------------------

def test_r5_expenditure_over_disbursed_and_unspent(app: FundLedger) -> None:
    """R5: an expenditure is at most what was disbursed to the project and not yet spent."""
    funded(app, P1="1000000.00", P2="1000000.00")
    assert_rejected(app, expenditure("E0", "P1", "0.01"), COUNTY_ACTOR,
                    E.ExpenditureExceedsDisbursed, "R5")
    ok(app, disbursement("D1", "P1", "100000.00"), COUNTY_ACTOR)
    ok(app, disbursement("D2", "P2", "500000.00"), COUNTY_ACTOR)
    assert_rejected(app, expenditure("E1", "P1", "100000.01"), COUNTY_ACTOR,
                    E.ExpenditureExceedsDisbursed, "R5")
    ok(app, expenditure("E1", "P1", "70000.00"), COUNTY_ACTOR)
    assert_rejected(app, expenditure("E2", "P1", "30000.01"), COUNTY_ACTOR,
                    E.ExpenditureExceedsDisbursed, "R5")
    ok(app, expenditure("E2", "P1", "30000.00"), COUNTY_ACTOR)
    assert_project(app, "P1", budget=Y("1000000.00"), disbursed=Y("100000.00"),
                   expended=Y("100000.00"))
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("600000.00"),
                    expended=Y("100000.00"))


# ---- R6: reversals -----------------------------------------------------------------------------

def test_r6_reversal_of_unknown_entry(app: FundLedger) -> None:
    """R6: a reversal naming no entry of the county is REVERSAL_TARGET_INVALID."""
    funded(app, P1="1000000.00")
    assert_rejected(app, reversal("X1", "NO-SUCH-ENTRY", "1.00"), COUNTY_ACTOR,
                    E.ReversalTargetInvalid, "R6")


def test_r6_reversal_of_a_non_money_entry(app: FundLedger) -> None:
    """R6: a project registration or a batch decision cannot be reversed."""
    funded(app, P1="1000000.00")
    ok(app, decision(), PROVINCE)
    assert_rejected(app, reversal("X1", "project:P1", "1.00"), COUNTY_ACTOR,
                    E.ReversalTargetInvalid, "R6")
    assert_rejected(app, reversal("X2", "decision:batch2", "1.00", date="2021-02-02"),
                    COUNTY_ACTOR, E.ReversalTargetInvalid, "R6")


def test_r6_reversal_of_another_countys_entry(app: FundLedger) -> None:
    """R6: an entry of another county cannot be reversed in this county's stream."""
    app.admit_county(PROGRAMME, OTHER_COUNTY, "大埔县", ALLOCATION_FEN, "doc", PROVINCE,
                     dt.date(2020, 3, 3))
    other = {"county_code": OTHER_COUNTY}
    ok(app, {**appropriation("B-A1", "1000000.00"), **other}, PROVINCE)
    ok(app, {**project("B-P1", "1000000.00"), **other}, OTHER_COUNTY_ACTOR)
    ok(app, {**disbursement("B-D1", "B-P1", "1000.00"), **other}, OTHER_COUNTY_ACTOR)
    funded(app, P1="1000000.00")
    assert_rejected(app, reversal("X1", "B-D1", "1.00"), COUNTY_ACTOR,
                    E.ReversalTargetInvalid, "R6")
    assert_balances(app, appropriated=Y("1000000.00"), disbursed=Y("1000.00"),
                    county=OTHER_COUNTY)


def test_r6_reversal_exceeding_its_entry(app: FundLedger) -> None:
    """R6: a reversal larger than its entry is REVERSAL_EXCEEDS_ENTRY."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    assert_rejected(app, reversal("X1", "D1", "100.01"), COUNTY_ACTOR, E.ReversalExceedsEntry,
                    "R6")
    ok(app, reversal("X1", "D1", "100.00"), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=0)
    assert_rejected(app, reversal("X2", "D1", "0.01"), COUNTY_ACTOR, E.ReversalExceedsEntry, "R6")


def test_r6_partial_reversals_cumulatively_bounded(app: FundLedger) -> None:
    """R6: two partial reversals together may not exceed the entry."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    ok(app, reversal("X1", "D1", "60.00"), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("40.00"))
    assert_rejected(app, reversal("X2", "D1", "40.01"), COUNTY_ACTOR, E.ReversalExceedsEntry, "R6")
    ok(app, reversal("X2", "D1", "40.00"), COUNTY_ACTOR)
    assert fund(app).entries["D1"]["reversed_fen"] == Y("100.00")
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=0)
    assert_project(app, "P1", budget=Y("1000000.00"))


def test_r6_disbursement_reversal_below_spent(app: FundLedger) -> None:
    """R6: a disbursement cannot be reversed below what was already spent from it."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    ok(app, expenditure("E1", "P1", "70.00"), COUNTY_ACTOR)
    assert_rejected(app, reversal("X1", "D1", "30.01"), COUNTY_ACTOR, E.ReversalBelowSpent, "R6")
    ok(app, reversal("X1", "D1", "30.00"), COUNTY_ACTOR)
    assert_project(app, "P1", budget=Y("1000000.00"), disbursed=Y("70.00"),
                   expended=Y("70.00"))
    assert_rejected(app, reversal("X2", "D1", "0.01"), COUNTY_ACTOR, E.ReversalBelowSpent, "R6")


def test_r6_reverse_expenditure_then_spend_again(app: FundLedger) -> None:
    """R6: reversing an expenditure frees the money to be spent again, and no more."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    ok(app, expenditure("E1", "P1", "100.00"), COUNTY_ACTOR)
    ok(app, reversal("X1", "E1", "50.00"), COUNTY_ACTOR)
    assert_project(app, "P1", budget=Y("1000000.00"), disbursed=Y("100.00"),
                   expended=Y("50.00"))
    ok(app, expenditure("E2", "P1", "50.00", date="2020-06-20"), COUNTY_ACTOR)
    assert_rejected(app, expenditure("E3", "P1", "0.01", date="2020-06-20"), COUNTY_ACTOR,
                    E.ExpenditureExceedsDisbursed, "R5")
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("100.00"),
                    expended=Y("100.00"))


def test_r6_reversal_dated_before_its_entry(app: FundLedger) -> None:
    """R6: a reversal may not precede the entry it corrects."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00", date="2020-05-10"), COUNTY_ACTOR)
    assert_rejected(app, reversal("X1", "D1", "1.00", date="2020-05-09"), COUNTY_ACTOR,
                    E.ReversalTargetInvalid, "R6")


def test_r6_appropriation_reversal_by_the_province_within_cash(app: FundLedger) -> None:
    """R6/R8: the province reverses its appropriations, never below what the county passed on;
    a county officer cannot reverse one."""
    funded(app, "1000000.00", P1="1000000.00")
    ok(app, disbursement("D1", "P1", "800000.00"), COUNTY_ACTOR)
    assert_rejected(app, reversal("X1", "A1", "1.00"), COUNTY_ACTOR, E.NotPermitted, "R8")
    assert_rejected(app, reversal("X1", "A1", "200000.01"), PROVINCE, E.InsufficientCash, "R4")
    ok(app, reversal("X1", "A1", "200000.00"), PROVINCE)
    assert_balances(app, appropriated=Y("800000.00"), disbursed=Y("800000.00"))
    assert fund(app).by_batch == {"1": Y("800000.00")}
    assert_rejected(app, reversal("X2", "D1", "1.00"), PROVINCE, E.NotPermitted, "R8")


# ---- R7: business dates --------------------------------------------------------------------

def test_r7_date_before_the_period(app: FundLedger) -> None:
    """R7: a business date before the programme period is DATE_OUTSIDE_PERIOD."""
    funded(app, P1="1000000.00")
    day = RULES.period_start - dt.timedelta(days=1)
    exc = assert_rejected(app, disbursement("D1", "P1", "1.00", date=day.isoformat()),
                          COUNTY_ACTOR, E.DateOutsidePeriod, "R7")
    assert exc.field == "business_date"


def test_r7_date_after_the_period_end(make_app: Any, app: FundLedger) -> None:
    """R7: a business date after the period end (and not in the future) is DATE_OUTSIDE_PERIOD."""
    funded(app, P1="1000000.00")
    later = make_app(clock=lambda: RULES.period_end + dt.timedelta(days=200))
    day = RULES.period_end + dt.timedelta(days=1)
    exc = assert_rejected(later, disbursement("D1", "P1", "1.00", date=day.isoformat()),
                          COUNTY_ACTOR, E.DateOutsidePeriod, "R7")
    assert "future" not in exc.en
    ok(later, disbursement("D1", "P1", "1.00", date=RULES.period_end.isoformat()), COUNTY_ACTOR)
    assert_balances(later, appropriated=Y("5000000.00"), disbursed=Y("1.00"))


def test_r7_date_in_the_future(make_app: Any, app: FundLedger) -> None:
    """R7: a business date after today is DATE_OUTSIDE_PERIOD; today itself is accepted."""
    funded(app, P1="1000000.00")
    today = dt.date(2020, 6, 30)
    early = make_app(clock=lambda: today)
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    exc = assert_rejected(early, disbursement("D1", "P1", "1.00", date=tomorrow), COUNTY_ACTOR,
                          E.DateOutsidePeriod, "R7")
    assert "future" in exc.en
    ok(early, disbursement("D1", "P1", "1.00", date=today.isoformat()), COUNTY_ACTOR)
    assert_balances(early, appropriated=Y("5000000.00"), disbursed=Y("1.00"))


def test_r7_closed_year_is_locked(app: FundLedger) -> None:
    """R7: after the province closes 2020, no entry may be dated in 2020."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00", date="2020-11-01"), COUNTY_ACTOR)
    ok(app, close_year(2020, "2021-01-05"), PROVINCE)
    assert fund(app).closed_years == [2020]
    for payload, actor in [
        (disbursement("D2", "P1", "1.00", date="2020-12-31"), COUNTY_ACTOR),
        (expenditure("E1", "P1", "1.00", date="2020-12-31"), COUNTY_ACTOR),
        (reversal("X1", "D1", "1.00", date="2020-12-31"), COUNTY_ACTOR),
        (appropriation("A2", "1.00", date="2020-12-31"), PROVINCE),
    ]:
        exc = assert_rejected(app, payload, actor, E.PeriodClosed, "R7")
        assert exc.field == "business_date"
    ok(app, disbursement("D2", "P1", "1.00", date="2021-01-06"), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("101.00"))


def test_r7_correction_of_a_closed_year_in_the_open_year(app: FundLedger) -> None:
    """R7: a reversal dated in the open year that references a closed-year entry is accepted."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00", date="2020-11-01"), COUNTY_ACTOR)
    ok(app, expenditure("E1", "P1", "60.00", date="2020-11-02"), COUNTY_ACTOR)
    ok(app, close_year(2020, "2021-01-05"), PROVINCE)
    ok(app, reversal("X1", "E1", "10.00", date="2021-01-10"), COUNTY_ACTOR)
    ok(app, reversal("X2", "D1", "50.00", date="2021-01-10"), COUNTY_ACTOR)
    assert_project(app, "P1", budget=Y("1000000.00"), disbursed=Y("50.00"), expended=Y("50.00"))
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("50.00"),
                    expended=Y("50.00"))
    events = list(app.events.get(fund(app).id))
    assert events[-1].target_entry_id == "D1"
    assert events[-1].business_date == "2021-01-10"


def test_r7_year_close_is_by_the_province_after_the_year(app: FundLedger) -> None:
    """R7: a year is closed only by the province and only after it ends."""
    assert_rejected(app, close_year(2020, "2020-12-31"), PROVINCE, E.InvalidField, "input")
    assert_rejected(app, close_year(2020, "2021-01-05"), COUNTY_ACTOR, E.NotPermitted, "R8")
    assert fund(app).closed_years == []


def test_r7_both_construction_years_closed_then_corrected(app: FundLedger) -> None:
    """R7: 2020 and 2021 closed in turn; a 2020 entry is still corrected by a 2022 reversal."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "100.00", date="2020-11-01"), COUNTY_ACTOR)
    ok(app, close_year(2020, "2021-01-05"), PROVINCE)
    ok(app, disbursement("D2", "P1", "50.00", date="2021-06-01"), COUNTY_ACTOR)
    ok(app, close_year(2021, "2022-01-05"), PROVINCE)
    assert fund(app).closed_years == [2020, 2021]
    assert_rejected(app, reversal("X1", "D2", "1.00", date="2021-12-31"), COUNTY_ACTOR,
                    E.PeriodClosed, "R7")
    ok(app, reversal("X1", "D1", "100.00", date="2022-01-10"), COUNTY_ACTOR)
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("50.00"))


def test_r7_business_date_must_be_yyyy_mm_dd(app: FundLedger) -> None:
    """A business date in another ISO 8601 form (week date) is refused as INVALID_FIELD."""
    funded(app, P1="1000000.00")
    assert_rejected(app, disbursement("D1", "P1", "1.00", date="2020-W19-1"), COUNTY_ACTOR,
                    E.InvalidField, "input")


def test_r7_admission_dated_in_the_future(app: FundLedger) -> None:
    """R7 on the programme stream: admitting a county with a future business date is refused."""
    before = event_count(app)
    with pytest.raises(E.DateOutsidePeriod):
        app.admit_county(PROGRAMME, OTHER_COUNTY, "大埔县", 1_000_000_00, "doc", PROVINCE,
                         dt.date(2030, 3, 2))
    assert event_count(app) == before


# ---- R8: role and scope --------------------------------------------------------------------

def test_r8_county_officer_of_another_county(app: FundLedger) -> None:
    """R8: a county officer of another county cannot write to this county."""
    funded(app, P1="1000000.00")
    exc = assert_rejected(app, disbursement("D1", "P1", "1.00"), OTHER_COUNTY_ACTOR,
                          E.NotPermitted, "R8")
    assert exc.field == "actor.scope"
    assert_rejected(app, project("P9", "1.00"), OTHER_COUNTY_ACTOR, E.NotPermitted, "R8")


def test_r8_county_officer_issuing_an_appropriation(app: FundLedger) -> None:
    """R8: appropriations, batch decisions, recoveries are the province's."""
    exc = assert_rejected(app, appropriation("A1", "1.00"), COUNTY_ACTOR, E.NotPermitted, "R8")
    assert exc.field == "actor.role"
    assert_rejected(app, decision(), COUNTY_ACTOR, E.NotPermitted, "R8")
    funded(app, P1="1000000.00")
    assert_rejected(app, recovery("R1", "1.00"), COUNTY_ACTOR, E.NotPermitted, "R8")


def test_r8_reviewer_writes_nothing(app: FundLedger) -> None:
    """R8: a reviewer only reads: every write is refused."""
    funded(app, P1="1000000.00")
    for payload in (appropriation("A2", "1.00"), project("P2", "1.00"),
                    disbursement("D1", "P1", "1.00"), close_year(2020, "2021-01-05")):
        assert_rejected(app, payload, REVIEWER, E.NotPermitted, "R8")


def test_r8_city_officer_outside_scope(app: FundLedger) -> None:
    """R8: a city officer of another city cannot confirm this county's acceptance; the county's
    own city can; a city officer cannot disburse."""
    acceptance = cmd("acceptance", conclusion="验收合格", report_no="验收-2021-01",
                     assessor="某会计师事务所", business_date="2021-12-20")
    ok(app, acceptance, AUDITOR)
    confirm = cmd("acceptance_confirmation", conclusion="验收合格", business_date="2021-12-28")
    other_city = Actor("city-officer-9", "city", "440100")
    exc = assert_rejected(app, confirm, other_city, E.NotPermitted, "R8")
    assert exc.field == "actor.scope"
    ok(app, confirm, CITY_ACTOR)
    assert fund(app).acceptance == {"conclusion": "验收合格", "confirmed": True}
    funded(app, P1="1000000.00")
    assert_rejected(app, disbursement("D1", "P1", "1.00"), CITY_ACTOR, E.NotPermitted, "R8")


def test_r8_auditor_and_province_outside_scope(app: FundLedger) -> None:
    """R8: an auditor or a province official whose scope does not cover the county is refused."""
    acceptance = cmd("acceptance", conclusion="验收合格", report_no="验收-2021-01",
                     assessor="某会计师事务所", business_date="2021-12-20")
    assert_rejected(app, acceptance, Actor("auditor-9", "auditor", "440100"), E.NotPermitted,
                    "R8")
    assert_rejected(app, appropriation("A1", "1.00"), Actor("prov-9", "province", "450000"),
                    E.NotPermitted, "R8")
    assert_refused(app, lambda: app.admit_county(
        PROGRAMME, OTHER_COUNTY, "大埔县", 1, "doc", COUNTY_ACTOR, dt.date(2020, 3, 3)),
        E.NotPermitted, "R8")


def test_r8_acceptance_conclusion_is_one_of_two(app: FundLedger) -> None:
    """The acceptance conclusion is exactly 验收合格 or 验收不合格."""
    acceptance = cmd("acceptance", conclusion="基本合格", report_no="验收-2021-01",
                     assessor="某会计师事务所", business_date="2021-12-20")
    assert_rejected(app, acceptance, AUDITOR, E.InvalidField, "input")
    ok(app, {**acceptance, "conclusion": "验收不合格"}, AUDITOR)


def test_r8_is_checked_before_a_replay(app: FundLedger) -> None:
    """R8 before R9: another county's officer replaying an entry id learns nothing."""
    funded(app, P1="1000000.00")
    ok(app, disbursement("D1", "P1", "1.00"), COUNTY_ACTOR)
    assert_rejected(app, disbursement("D1", "P1", "1.00"), OTHER_COUNTY_ACTOR, E.NotPermitted,
                    "R8")


@pytest.mark.parametrize("scope", ["441400", "440000"])
def test_r8_county_officer_with_a_wider_scope(app: FundLedger, scope: str) -> None:
    """R8: a county officer's scope is one county; a city- or province-wide county actor is
    refused (at construction or by authorisation) and nothing is recorded."""
    funded(app, P1="1000000.00")
    before = event_count(app)
    with pytest.raises((E.NotPermitted, E.InvalidField)):
        app.execute(disbursement("D1", "P1", "1.00"), Actor("county-wide", "county", scope))
    assert event_count(app) == before


# ---- R9: entry ids --------------------------------------------------------------------------

def test_r9_same_entry_id_other_content_conflicts(app: FundLedger) -> None:
    """R9: an entry id seen before with other content is ENTRY_ID_CONFLICT; same content replays."""
    funded(app, P1="1000000.00")
    first = ok(app, disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    exc = assert_rejected(app, disbursement("D1", "P1", "100.01"), COUNTY_ACTOR,
                          E.EntryConflict, "R9")
    assert exc.details["version"] == first.version
    assert_rejected(app, expenditure("D1", "P1", "100.00"), COUNTY_ACTOR, E.EntryConflict, "R9")
    before = event_count(app)
    again = app.execute(disbursement("D1", "P1", "100.00"), COUNTY_ACTOR)
    assert again.replayed and again.version == first.version
    assert event_count(app) == before
    assert_balances(app, appropriated=Y("5000000.00"), disbursed=Y("100.00"))
