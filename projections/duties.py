"""The duties calendar of one county, judged at a date: monthly reports, typical cases,
acceptance. Pure functions of the rules, the county's milestones and its first appropriation.

- Monthly reports are due for every month from the month of the county's first appropriation to
  the month of the acceptance deadline, each by day `monthly_report_due_day` (the 4th: "before
  the 5th") of the following month. Reports for other months are listed too, marked not required.
  A month's report may be corrected: each later report of the month is its next version. The
  duty is judged by the first version (a correction does not make a report late, nor a late
  one on time); the latest version is the month's report, with its entry id and date.
- Typical cases: the first within `typical_case_interval_months` of the first appropriation,
  each next one within that interval of the previous (or of the missed due date), while the due
  date falls on or before the acceptance deadline.
- Acceptance: a conclusion of the rules' two by the deadline, then the city's confirmation.

Dates are business dates as entered: a report "submitted" on the day its entry says. A read of
one year without an as-of date judges the duties at the end of that year (`judged_on`), counting
only the milestones dated by then: what was due and done then, not what is due today.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.county_state import report_due
from ledger.rules import ProgrammeRules
from projections import model as M
from projections.source import Milestone

ON_TIME, LATE, MISSING, NOT_DUE = "on_time", "late", "missing", "not_due"
DUTY_ZH = {ON_TIME: "按时", LATE: "逾期报送", MISSING: "逾期未报", NOT_DUE: "未到期"}
PENDING, OVERDUE, RECORDED, CONFIRMED = "pending", "overdue", "recorded", "confirmed"
ACCEPTANCE_ZH = {PENDING: "待验收", OVERDUE: "逾期未验收", RECORDED: "已验收，待地市确认",
                 CONFIRMED: "已验收，地市已确认"}
CASES_MAX = 100  # a bound on the typical-case loop; the period holds a handful


@dataclass(frozen=True)
class ReportDuty:
    period: str
    due: str
    required: bool
    status: str
    status_zh: str
    submitted_on: str | None  # the first version's date
    entry_id: str  # the latest version's
    versions: int = 0  # reports of the month: 1, or more when corrected
    corrected_on: str | None = None  # the latest version's date, when there are several


@dataclass(frozen=True)
class CaseDuty:
    window_start: str
    due: str
    status: str
    status_zh: str
    reported_on: str | None
    title: str


@dataclass(frozen=True)
class AcceptanceDuty:
    deadline: str
    status: str
    status_zh: str
    conclusion: str
    recorded_on: str | None
    late: bool
    report_no: str
    assessor: str
    confirmed_on: str | None


def judged_on(as_of_day: dt.date | None, year: int | None, today: dt.date) -> dt.date:
    """The date duties are judged at: the as-of date when given; for one year, its 31 December
    (today while that year has not ended); else today."""
    if as_of_day is not None:
        return as_of_day
    if year is not None:
        return min(dt.date(year, 12, 31), today)
    return today


def dated_by(milestones: Iterable[Milestone], on: dt.date) -> list[Milestone]:
    """The milestones dated on or before `on`."""
    last = M.day_int(on)
    return [m for m in milestones if m.day <= last]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _judge(done: dt.date | None, due: dt.date, on: dt.date) -> str:
    if done is not None:
        return ON_TIME if done <= due else LATE
    return MISSING if on > due else NOT_DUE


def _periods(first: dt.date, last: dt.date) -> list[str]:
    out, month = [], dt.date(first.year, first.month, 1)
    while month <= last:
        out.append(f"{month.year}-{month.month:02d}")
        month = add_months(month, 1)
    return out


def monthly_reports(rules: ProgrammeRules, first_appropriation: dt.date | None,
                    milestones: Iterable[Milestone], on: dt.date) -> list[ReportDuty]:
    versions: dict[str, list[Milestone]] = {}  # by month, in log order
    for m in milestones:
        if m.kind == M.REPORT:
            versions.setdefault(m.ref, []).append(m)
    required = (_periods(first_appropriation, rules.acceptance_deadline)
                if first_appropriation is not None else [])
    duties = []
    for period in sorted(set(required) | set(versions)):
        reports, due = versions.get(period, []), report_due(rules, period)
        done = M.day_date(reports[0].day) if reports else None
        status = _judge(done, due, on)
        latest = reports[-1] if reports else None
        duties.append(ReportDuty(
            period, due.isoformat(), period in required, status, DUTY_ZH[status],
            done.isoformat() if done else None, latest.entry_id if latest else "",
            len(reports), M.day_date(latest.day).isoformat()
            if latest is not None and len(reports) > 1 else None))
    return duties


def typical_cases(rules: ProgrammeRules, first_appropriation: dt.date | None,
                  milestones: Iterable[Milestone], on: dt.date) -> list[CaseDuty]:
    cases = sorted((M.day_date(m.day), m.document) for m in milestones
                   if m.kind == M.TYPICAL_CASE)
    if first_appropriation is None:
        return []
    duties, start, i = [], first_appropriation, 0
    for _ in range(CASES_MAX):
        due = add_months(start, rules.typical_case_interval_months)
        if due > rules.acceptance_deadline:
            break
        case = cases[i] if i < len(cases) else None
        status = _judge(case[0] if case else None, due, on)
        duties.append(CaseDuty(start.isoformat(), due.isoformat(), status, DUTY_ZH[status],
                               case[0].isoformat() if case else None, case[1] if case else ""))
        if case is not None:
            start, i = case[0], i + 1
        elif status == MISSING:
            start = due
        else:
            break
    return duties


def acceptance(rules: ProgrammeRules, milestones: Iterable[Milestone],
               on: dt.date) -> AcceptanceDuty:
    recorded = confirmed = None
    for m in milestones:
        if m.kind == M.ACCEPTANCE:
            recorded = m
        elif m.kind == M.CONFIRMATION:
            confirmed = m
    deadline = rules.acceptance_deadline
    if confirmed is not None and recorded is not None:
        status = CONFIRMED
    elif recorded is not None:
        status = RECORDED
    else:
        status = OVERDUE if on > deadline else PENDING
    day = M.day_date(recorded.day) if recorded else None
    return AcceptanceDuty(
        deadline.isoformat(), status, ACCEPTANCE_ZH[status], recorded.ref if recorded else "",
        day.isoformat() if day else None, day is not None and day > deadline,
        recorded.document if recorded else "", recorded.detail if recorded else "",
        M.day_date(confirmed.day).isoformat() if confirmed else None)
