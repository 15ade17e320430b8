"""A direct recomputation of a county's read models from the event list, written without the
projection code (no facts table, no flows, no SQL): the standard every view is held to.

`truth()` folds the county's events (filtered as of a date and a position) into the numbers the
views show; `normalize()` puts a view's `CountyStatus` into the same shape.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from typing import Any

from ledger.county import CountyFund, county_stream_id
from ledger.rules import ProgrammeRules

Events = list[tuple[int, Any]]  # (notification id, decoded domain event)
KIND_OF = {
    CountyFund.AppropriationReceived: "appropriation", CountyFund.DisbursementRecorded:
    "disbursement", CountyFund.ExpenditureRecorded: "expenditure",
    CountyFund.FundsRecovered: "recovery",
}


def read_log(app: Any) -> Events:
    """Every event of the store in log order, read straight from the recorder."""
    out: Events = []
    start = 0
    while True:
        batch = app.recorder.select_notifications(start, 2000, inclusive_of_start=False)
        if not batch:
            return out
        out += [(n.id, app.mapper.to_domain_event(n)) for n in batch]
        start = batch[-1].id


def _months_later(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def _judge(done: dt.date | None, due: dt.date, on: dt.date) -> str:
    if done is None:
        return "missing" if on > due else "not_due"
    return "on_time" if done <= due else "late"


class Fold:
    """The county's events dated ≤ day and recorded ≤ position, summed the plain way."""

    def __init__(self, events: Events, programme: str, county: str, day: dt.date,
                 position: int) -> None:
        stream = county_stream_id(programme, county)
        mine = [(p, e) for p, e in events if e.originator_id == stream]
        self.kept = [(p, e) for p, e in mine
                     if p <= position and dt.date.fromisoformat(e.business_date) <= day]
        self.sums: dict[tuple[int, str, str, int], int] = defaultdict(int)
        self.projects: dict[str, dict[str, Any]] = {}
        targets: dict[str, tuple[str, str, int]] = {}
        categories = {e.project_code: e.category for _, e in mine
                      if isinstance(e, CountyFund.ProjectRegistered)}
        for _, e in mine:  # targets from the whole stream: a kept reversal's target is kept
            kind = KIND_OF.get(type(e))
            if kind is not None:
                project = getattr(e, "project_code", "")
                targets[e.entry_id] = (categories.get(project, ""), project,
                                       getattr(e, "batch", 0))
        self.opened = next((e for _, e in self.kept if isinstance(e, CountyFund.FundOpened)),
                           None)
        for p, e in self.kept:
            self._add(p, e, categories, targets)

    def _add(self, p: int, e: Any, categories: dict[str, str],
             targets: dict[str, tuple[str, str, int]]) -> None:
        year = int(e.business_date[:4])
        if isinstance(e, CountyFund.ProjectRegistered):
            self.projects[e.project_code] = {"category": e.category, "budget": 0, "disbursed": 0,
                                             "expended": 0, "registered": e.business_date,
                                             "last": e.entry_id}
        sign, measure, category, project, batch = 1, "", "", getattr(e, "project_code", ""), 0
        if isinstance(e, CountyFund.ProjectRegistered):
            measure, amount = "budget", e.budget_fen
        elif isinstance(e, CountyFund.BudgetAdjusted):
            measure, amount = "budget", e.new_budget_fen - e.old_budget_fen
        elif isinstance(e, CountyFund.EntryReversed):
            category, project, batch = targets[e.target_entry_id]
            measure, amount, sign = e.target_kind, e.amount_fen, -1
        elif type(e) in KIND_OF:
            measure, amount, batch = KIND_OF[type(e)], e.amount_fen, getattr(e, "batch", 0)
        else:
            return
        category = category or categories.get(project, "")
        self.sums[(year, measure, category, batch)] += sign * amount
        if sign < 0:
            self.sums[(year, "reversed:" + measure, category, batch)] += amount
        if project in self.projects:
            row = self.projects[project]
            key = {"budget": "budget", "disbursement": "disbursed",
                   "expenditure": "expended"}[measure]
            row[key] += sign * amount if measure != "budget" else amount
            row["last"] = e.entry_id

    def total(self, measure: str, years: range, category: str | None = None,
              batch: int | None = None) -> int:
        return sum(v for (y, m, c, b), v in self.sums.items() if m == measure and y in years
                   and (category is None or c == category) and (batch is None or b == batch))


def truth(events: Events, rules: ProgrammeRules, programme: str, county: str, today: dt.date,
          day: dt.date | None = None, position: int | None = None) -> dict[str, Any]:
    """What the views must say about the county, as of `day` and `position`."""
    f = Fold(events, programme, county, day or dt.date.max, position or 2**62)
    assert f.opened is not None, "county not admitted as of the date/position"
    on, alloc, all_years = day or today, f.opened.allocation_fen, range(0, 10000)
    years = [y for y in rules.years if dt.date(y, 1, 1) <= on]
    out: dict[str, Any] = {"allocation": alloc}
    out["money"] = {
        "appropriated": f.total("appropriation", all_years),
        "by_batch": {str(t.batch): f.total("appropriation", all_years, batch=t.batch)
                     for t in rules.tranches},
        "disbursed": f.total("disbursement", all_years),
        "expended": f.total("expenditure", all_years),
        "recovered": f.total("recovery", all_years)}
    m = out["money"]
    out["money"]["cash"] = m["appropriated"] - m["disbursed"] - m["recovered"]
    balances = {}
    for year in [*years, None]:
        span = all_years if year is None else range(year, year + 1)
        upto = range(0, 10000 if year is None else year + 1)
        for c in rules.categories:
            budget = f.total("budget", upto, c.id)
            gross = f.total("disbursement", span, c.id) + f.total("reversed:disbursement", span,
                                                                    c.id)
            balances[(year, c.id)] = (
                budget, gross, f.total("reversed:disbursement", span, c.id),
                f.total("expenditure", span, c.id) + f.total("reversed:expenditure", span, c.id),
                f.total("reversed:expenditure", span, c.id),
                budget - f.total("disbursement", upto, c.id))
    out["balances"] = balances
    out["compliance"] = _compliance(f, rules, alloc, all_years)
    out["execution"] = _execution(f, rules, years, on)
    out.update(_duties(f, rules, on))
    out["projects"] = {code: (p["category"], p["budget"], p["disbursed"], p["expended"],
                              p["last"], p["registered"]) for code, p in f.projects.items()}
    return out


def _compliance(f: Fold, rules: ProgrammeRules, alloc: int, years: range) -> dict[Any, Any]:
    exceptions = {e.category: e for _, e in f.kept
                  if isinstance(e, CountyFund.RatioExceptionApproved)}
    out = {}
    for basis, measure in (("plan", "budget"), ("actual", "disbursement")):
        for c in rules.categories:
            amount = f.total(measure, years, c.id)
            status, exc = "ok", exceptions.get(c.id)
            if c.min_share_bp is not None and amount * 10000 < c.min_share_bp * alloc:
                status = "below_min"
            elif c.max_share_bp is not None and amount * 10000 > c.max_share_bp * alloc:
                status = "exception" if exc and amount <= exc.limit_fen else "above_max"
            out[(basis, c.id)] = (amount, amount * 10000 // alloc, status,
                                  exc.document_no if exc else "")
    return out


def _execution(f: Fold, rules: ProgrammeRules, years: list[int], on: dt.date) -> dict[Any, Any]:
    out, carry = {}, 0
    closed = {e.year for _, e in f.kept if isinstance(e, CountyFund.YearClosed)}
    for y in years:
        span = range(y, y + 1)
        appropriated = f.total("appropriation", span)
        disbursed, recovered = f.total("disbursement", span), f.total("recovery", span)
        available = carry + appropriated
        rate = disbursed * 10000 // available if available > 0 else None
        ranked = sorted(rules.execution_labels, key=lambda x: -x.min_rate_bp)
        label = "无可执行资金" if rate is None else next(  # a negative rate: the lowest label
            (x.zh for x in ranked if rate >= x.min_rate_bp), ranked[-1].zh)
        carry_out = available - disbursed - recovered
        out[y] = (carry, appropriated, disbursed, recovered, carry_out, rate, label,
                  on >= dt.date(y, 12, 31) or y in closed)
        carry = carry_out
    return out


def _duties(f: Fold, rules: ProgrammeRules, on: dt.date) -> dict[str, Any]:
    appropriations = [dt.date.fromisoformat(e.business_date) for _, e in f.kept
                      if isinstance(e, CountyFund.AppropriationReceived)]
    first = min(appropriations) if appropriations else None
    reports: dict[str, dt.date] = {}  # a month's first report judges it; later ones correct it
    versions: dict[str, int] = {}
    for _, e in f.kept:
        if isinstance(e, CountyFund.MonthlyReportSubmitted):
            reports.setdefault(e.period, dt.date.fromisoformat(e.business_date))
            versions[e.period] = versions.get(e.period, 0) + 1
    periods = set(reports)
    if first is not None:
        month = dt.date(first.year, first.month, 1)
        while month <= rules.acceptance_deadline:
            periods.add(f"{month.year}-{month.month:02d}")
            month = _months_later(month, 1)
    out: dict[str, Any] = {"reports": {}}
    for period in periods:
        due = _months_later(dt.date(int(period[:4]), int(period[5:]), 1), 1).replace(
            day=rules.monthly_report_due_day)
        out["reports"][period] = (_judge(reports.get(period), due, on), reports.get(period),
                                  versions.get(period, 0))
    cases = sorted(dt.date.fromisoformat(e.business_date) for _, e in f.kept
                   if isinstance(e, CountyFund.TypicalCaseReported))
    out["cases"], start = [], first
    while start is not None:
        due = _months_later(start, rules.typical_case_interval_months)
        if due > rules.acceptance_deadline:
            break
        done = cases.pop(0) if cases else None
        status = _judge(done, due, on)
        out["cases"].append((due, status, done))
        start = done or (due if status == "missing" else None)
    recorded = [e for _, e in f.kept if isinstance(e, CountyFund.AcceptanceRecorded)]
    confirmed = [e for _, e in f.kept if isinstance(e, CountyFund.AcceptanceConfirmed)]
    state = ("confirmed" if recorded and confirmed else "recorded" if recorded
             else "overdue" if on > rules.acceptance_deadline else "pending")
    out["acceptance"] = (state, recorded[-1].conclusion if recorded else "",
                         recorded[-1].business_date if recorded else None,
                         confirmed[-1].business_date if confirmed else None)
    decisions = [e for _, e in f.kept if isinstance(e, CountyFund.BatchDecided)]
    out["decided_on"] = decisions[-1].business_date if decisions else None
    return out


def normalize(s: Any) -> dict[str, Any]:
    """A view's CountyStatus in the oracle's shape."""
    m = s.money
    out: dict[str, Any] = {"allocation": m.allocation_fen, "money": {
        "appropriated": m.appropriated_fen, "by_batch": m.appropriated_by_batch_fen,
        "disbursed": m.disbursed_fen, "expended": m.expended_fen,
        "recovered": m.recovered_fen, "cash": m.cash_fen}}
    out["balances"] = {(b.year, b.category): (
        b.budget_fen, b.disbursed_fen, b.disbursed_reversed_fen, b.expended_fen,
        b.expended_reversed_fen, b.remaining_budget_fen) for b in s.balances}
    out["compliance"] = {(c.basis, c.category): (
        c.amount_fen, c.share_bp, c.status,
        c.exception_document_no) for c in s.compliance}
    out["execution"] = {e.year: (e.carry_in_fen, e.appropriated_fen, e.disbursed_fen,
                                 e.recovered_fen, e.carry_out_fen, e.rate_bp, e.status_zh,
                                 e.final) for e in s.execution}
    out["reports"] = {r.period: (r.status, dt.date.fromisoformat(r.submitted_on)
                                 if r.submitted_on else None, r.versions) for r in s.reports}
    out["cases"] = [(dt.date.fromisoformat(c.due), c.status,
                     dt.date.fromisoformat(c.reported_on) if c.reported_on else None)
                    for c in s.typical_cases]
    a = s.acceptance
    out["acceptance"] = (a.status, a.conclusion, a.recorded_on, a.confirmed_on)
    out["decided_on"] = s.indicators.batch2_decided_on
    out["projects"] = {p.project_code: (p.category, p.budget_fen, p.disbursed_fen,
                                        p.expended_fen, p.last_entry_id, p.registered_on)
                       for p in s.projects}
    return out
