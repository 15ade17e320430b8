"""Balances, ratio compliance and year-end execution of one county, computed from its flows.

Pure functions: the same code serves the current state and every as-of read. Definitions
(docs/rules.md gives them with a worked example):

- a year's flows are the entries dated in that year; stocks (budget, remaining, cash) are as at
  the end of the year, or at the as-of date when it is earlier;
- "net" is gross minus the reversals of that kind dated in the same year;
- execution of year Y: available = carry-over from Y−1 + appropriated in Y (net); disbursed = net
  disbursements dated in Y; recovered = net recoveries dated in Y; carry-over out = available −
  disbursed − recovered; rate = disbursed / available, in basis points, rounded down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.rules import BP_WHOLE, Category, ProgrammeRules
from projections import model as M
from projections.source import CountyInfo, Flow, Milestone

NO_FUNDS_ZH, NO_FUNDS_EN = "无可执行资金", "no funds to execute"


class Ledger:
    """A county's flows, summed on demand by measure, year range, category and batch."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self.flows = list(flows)

    def sum(self, measure: str, first: int = 0, last: int = 9999, category: str | None = None,
            batch: int | None = None) -> int:
        return sum(f.amount_fen for f in self.flows
                   if f.measure == measure and first <= f.year <= last
                   and (category is None or f.category == category)
                   and (batch is None or f.batch == batch))

    def net(self, measure: str, reversed_measure: str, first: int = 0, last: int = 9999,
            category: str | None = None, batch: int | None = None) -> int:
        return (self.sum(measure, first, last, category, batch)
                - self.sum(reversed_measure, first, last, category, batch))

    def first_day(self, measure: str) -> int | None:
        days = [f.first_day for f in self.flows if f.measure == measure]
        return min(days) if days else None


@dataclass(frozen=True)
class CountyMoney:
    allocation_fen: int
    appropriated_fen: int
    appropriated_by_batch_fen: dict[str, int]
    disbursed_fen: int
    expended_fen: int
    recovered_fen: int
    cash_fen: int


@dataclass(frozen=True)
class Balance:
    category: str
    category_zh: str
    year: int | None  # None: the whole programme to date
    budget_fen: int
    disbursed_fen: int
    disbursed_reversed_fen: int
    net_disbursed_fen: int
    expended_fen: int
    expended_reversed_fen: int
    net_expended_fen: int
    remaining_budget_fen: int


@dataclass(frozen=True)
class ShareCheck:
    category: str
    category_zh: str
    basis: str  # plan (budgets) or actual (disbursements net of reversals)
    amount_fen: int
    share_bp: int
    min_share_bp: int | None
    max_share_bp: int | None
    denominator: str
    denominator_fen: int
    status: str
    status_zh: str
    exception_document_no: str
    exception_limit_fen: int | None


@dataclass(frozen=True)
class Execution:
    year: int
    carry_in_fen: int
    appropriated_fen: int
    available_fen: int
    disbursed_fen: int
    recovered_fen: int
    carry_out_fen: int
    rate_bp: int | None
    status_zh: str
    status_en: str
    final: bool  # the year has ended (its 31 December is judged) or is closed


def county_money(info: CountyInfo, rules: ProgrammeRules, led: Ledger,
                 last_year: int = 9999) -> CountyMoney:
    by_batch = {str(t.batch): led.net(M.APPROPRIATED, M.APPROPRIATED_REV, last=last_year,
                                      batch=t.batch) for t in rules.tranches}
    appropriated = led.net(M.APPROPRIATED, M.APPROPRIATED_REV, last=last_year)
    disbursed = led.net(M.DISBURSED, M.DISBURSED_REV, last=last_year)
    recovered = led.net(M.RECOVERED, M.RECOVERED_REV, last=last_year)
    return CountyMoney(
        info.allocation_fen, appropriated, by_batch, disbursed,
        led.net(M.EXPENDED, M.EXPENDED_REV, last=last_year), recovered,
        appropriated - disbursed - recovered)


def balance(cat: Category, led: Ledger, year: int | None) -> Balance:
    first, last = (0, 9999) if year is None else (year, year)
    budget = led.sum(M.BUDGET, last=last, category=cat.id)
    disbursed = led.sum(M.DISBURSED, first, last, cat.id)
    disbursed_rev = led.sum(M.DISBURSED_REV, first, last, cat.id)
    expended = led.sum(M.EXPENDED, first, last, cat.id)
    expended_rev = led.sum(M.EXPENDED_REV, first, last, cat.id)
    net_to_date = led.net(M.DISBURSED, M.DISBURSED_REV, last=last, category=cat.id)
    return Balance(cat.id, cat.name_zh, year, budget, disbursed, disbursed_rev,
                   disbursed - disbursed_rev, expended, expended_rev, expended - expended_rev,
                   budget - net_to_date)


def balances(rules: ProgrammeRules, led: Ledger, years: Iterable[int | None]) -> list[Balance]:
    return [balance(cat, led, year) for year in years for cat in rules.categories]


def latest_exceptions(milestones: Iterable[Milestone]) -> dict[str, Milestone]:
    """The approved ratio exception in force per category: the latest recorded one."""
    found: dict[str, Milestone] = {}
    for m in milestones:
        if m.kind == M.EXCEPTION:
            found[m.ref] = m
    return found


def share_check(cat: Category, basis: str, amount_fen: int, allocation_fen: int,
                exception: Milestone | None) -> ShareCheck:
    """Judged on exact fen (amount × 10000 against bound × denominator); the share shown is
    rounded down to a basis point."""
    scaled, status = amount_fen * BP_WHOLE, M.OK
    if cat.min_share_bp is not None and scaled < cat.min_share_bp * allocation_fen:
        status = M.BELOW_MIN
    elif cat.max_share_bp is not None and scaled > cat.max_share_bp * allocation_fen:
        covered = exception is not None and amount_fen <= exception.amount_fen
        status = M.EXCEPTED if covered else M.ABOVE_MAX
    return ShareCheck(
        cat.id, cat.name_zh, basis, amount_fen, M.rate_bp(amount_fen, allocation_fen) or 0,
        cat.min_share_bp, cat.max_share_bp, cat.denominator, allocation_fen, status,
        M.SHARE_STATUS_ZH[status], exception.document if exception else "",
        exception.amount_fen if exception else None)


def compliance(info: CountyInfo, rules: ProgrammeRules, led: Ledger,
               milestones: Iterable[Milestone], last_year: int = 9999) -> list[ShareCheck]:
    """Each category on plan (budgets) and on actual (net disbursements), to `last_year`."""
    exceptions = latest_exceptions(milestones)
    checks = []
    for basis in ("plan", "actual"):
        for cat in rules.categories:
            amount = (led.sum(M.BUDGET, last=last_year, category=cat.id) if basis == "plan"
                      else led.net(M.DISBURSED, M.DISBURSED_REV, last=last_year,
                                   category=cat.id))
            checks.append(share_check(cat, basis, amount, info.allocation_fen,
                                      exceptions.get(cat.id)))
    return checks


def execution(rules: ProgrammeRules, led: Ledger, on: dt.date,
              closed_years: Iterable[int] = ()) -> list[Execution]:
    """Year by year, for the programme's years that have begun by `on`."""
    rows, carry, closed = [], 0, set(closed_years)
    for year in rules.years:
        if dt.date(year, 1, 1) > on:
            break
        appropriated = led.net(M.APPROPRIATED, M.APPROPRIATED_REV, year, year)
        available = carry + appropriated
        disbursed = led.net(M.DISBURSED, M.DISBURSED_REV, year, year)
        recovered = led.net(M.RECOVERED, M.RECOVERED_REV, year, year)
        carry_out = available - disbursed - recovered
        rows.append(execution_row(rules, year, carry, appropriated, disbursed, recovered,
                                  carry_out, on >= dt.date(year, 12, 31) or year in closed))
        carry = carry_out
    return rows


def execution_row(rules: ProgrammeRules, year: int, carry_in: int, appropriated: int,
                  disbursed: int, recovered: int, carry_out: int, final: bool) -> Execution:
    available = carry_in + appropriated
    rate = M.rate_bp(disbursed, available)
    if rate is None:
        zh, en = NO_FUNDS_ZH, NO_FUNDS_EN
    else:
        label = rules.execution_label(rate)
        zh, en = label.zh, label.en
    return Execution(year, carry_in, appropriated, available, disbursed, recovered, carry_out,
                     rate, zh, en, final)
