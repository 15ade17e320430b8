"""The state of a county fund and its arithmetic: what the county's events build and what its
rule checks read (cash, unspent money by date, budgets by category, entries, report versions).

`CountyState` is the base of the `CountyFund` aggregate, so the state is the aggregate's own
plain attributes (JSON for snapshots). Its layout is versioned by `CountyFund.class_version`:
a snapshot of another layout is never read (`ledger.snapshots`), the county is replayed instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypedDict

from ledger.dated import lowest_from, move
from ledger.rules import BP_WHOLE, ProgrammeRules

# What a reversal may name, by who may reverse it (R6, R8).
REVERSIBLE_BY_COUNTY = ("disbursement", "expenditure")
REVERSIBLE_BY_PROVINCE = ("appropriation", "recovery")


class Entry(TypedDict):
    """What the stream remembers of an entry, for replays (R9) and reversals (R6).

    The keys are spelled out: against one-letter keys, a 20,000-entry snapshot grows from 3.1 to
    4.2 MB and its encoding and tag from 103 to 115 ms (measured 2026-12-02); one snapshot per
    500 events makes that 0.02 ms an event, and the in-memory dicts share their key strings.
    """

    kind: str
    amount_fen: int
    reversed_fen: int
    ref: str  # the project code; a batch number for an appropriation; a month for a report
    version: int  # of its event in the stream
    fingerprint: str  # of the client's content (`_Entered.fingerprint`)
    business_date: str


class Project(TypedDict):
    category: str
    budget_fen: int
    disbursed_fen: int
    expended_fen: int
    unspent_days: dict[str, int]  # disbursed − expended, by business date (ledger.dated)
    unspent_dates: list[str]


class RatioException(TypedDict):
    limit_fen: int
    document_no: str


class Acceptance(TypedDict):
    conclusion: str
    confirmed: bool


@dataclass(frozen=True)
class ReportSubmission:
    """What the answer to a monthly report says: which version it is and whether it was on
    time by the rules' due date (the `monthly_report_due_day` of the following month)."""

    period: str
    version: int  # 1 for the first report of the month; each correction adds one
    supersedes: str  # the entry id of the version it replaces ("" for the first)
    due_date: str
    on_time: bool
    timeliness: str  # "on_time" or "late"
    timeliness_zh: str  # 按时 / 逾期报送


def month_after(period: str) -> dt.date:
    """The first day of the month after `period` (YYYY-MM)."""
    year, month = int(period[:4]), int(period[5:])
    return dt.date(year + month // 12, month % 12 + 1, 1)


def report_due(rules: ProgrammeRules, period: str) -> dt.date:
    """The last day a report for `period` is on time: the rules' due day of the next month."""
    return month_after(period).replace(day=rules.monthly_report_due_day)


def budgets_floor(max_share_bp: int, allocation_fen: int, budgeted_fen: int) -> int:
    """The lowest exception limit that keeps existing budgets covered: what is budgeted above
    the rule's own ceiling needs the exception; below it, any limit is moot but harmless."""
    ceiling = allocation_fen * max_share_bp // BP_WHOLE
    return budgeted_fen if budgeted_fen > ceiling else 0


class CountyState:
    """A county's balances, projects, entries and milestones, and the arithmetic on them."""

    programme: str
    county_code: str
    county_name: str
    city_code: str
    allocation_fen: int
    by_batch: dict[str, int]
    decided_batches: list[int]
    closed_years: list[int]
    appropriated_fen: int
    disbursed_fen: int
    expended_fen: int
    recovered_fen: int
    projects: dict[str, Project]
    budget_by_category: dict[str, int]
    exceptions: dict[str, RatioException]
    entries: dict[str, Entry]
    reports: dict[str, list[str]]  # month -> entry ids of its report's versions, in order
    acceptance: Acceptance | None
    cash_days: dict[str, int]  # cash movements by business date (ledger.dated)
    cash_dates: list[str]

    def start(self, programme: str, county_code: str, county_name: str, city_code: str,
              allocation_fen: int) -> None:
        """The state of a county just admitted."""
        self.programme, self.county_code = programme, county_code
        self.county_name, self.city_code = county_name, city_code
        self.allocation_fen = allocation_fen
        self.by_batch, self.decided_batches, self.closed_years = {}, [], []
        self.appropriated_fen = self.disbursed_fen = self.expended_fen = self.recovered_fen = 0
        self.projects, self.budget_by_category, self.exceptions, self.entries = {}, {}, {}, {}
        self.reports, self.acceptance = {}, None
        self.cash_days, self.cash_dates = {}, []

    # ---- movements --------------------------------------------------------------------------

    def move_cash(self, day: str, delta_fen: int) -> None:
        move(self.cash_days, self.cash_dates, day, delta_fen)

    def move_unspent(self, project: Project, day: str, delta_fen: int) -> None:
        move(project["unspent_days"], project["unspent_dates"], day, delta_fen)

    def add_budget(self, category: str, delta_fen: int) -> None:
        self.budget_by_category[category] = self.budget_by_category.get(category, 0) + delta_fen

    def undo(self, target: Entry, amount_fen: int, day: str) -> None:
        """A reversal of `amount_fen` of `target`, dated `day`: the opposite movements."""
        kind = target["kind"]
        if kind == "appropriation":
            self.by_batch[target["ref"]] -= amount_fen
            self.appropriated_fen -= amount_fen
            self.move_cash(day, -amount_fen)
        elif kind == "disbursement":
            project = self.projects[target["ref"]]
            project["disbursed_fen"] -= amount_fen
            self.disbursed_fen -= amount_fen
            self.move_cash(day, amount_fen)
            self.move_unspent(project, day, -amount_fen)
        elif kind == "expenditure":
            project = self.projects[target["ref"]]
            project["expended_fen"] -= amount_fen
            self.expended_fen -= amount_fen
            self.move_unspent(project, day, amount_fen)
        elif kind == "recovery":
            self.recovered_fen -= amount_fen
            self.move_cash(day, amount_fen)

    # ---- what the rules read ------------------------------------------------------------------

    @property
    def cash_fen(self) -> int:
        """Appropriated − disbursed − recovered, each net of reversals."""
        return self.appropriated_fen - self.disbursed_fen - self.recovered_fen

    @property
    def budgeted_fen(self) -> int:
        return sum(self.budget_by_category.values())

    def cash_on(self, day: dt.date) -> int:
        """Cash an entry dated `day` may use: the lowest balance on that day or after it."""
        return lowest_from(self.cash_days, self.cash_dates, self.cash_fen, day.isoformat())

    def unspent_on(self, project: Project, day: dt.date) -> int:
        """A project's disbursed-and-unspent money an entry dated `day` may use."""
        total = project["disbursed_fen"] - project["expended_fen"]
        return lowest_from(project["unspent_days"], project["unspent_dates"], total,
                           day.isoformat())

    def tranche_cap(self, rules: ProgrammeRules, batch: int) -> int:
        """A batch's ceiling: its share of the allocation; the last batch takes the rest."""
        if batch == len(rules.tranches):
            earlier = sum(self.tranche_cap(rules, b) for b in range(1, batch))
            return self.allocation_fen - earlier
        tranche = rules.tranche(batch)
        assert tranche is not None
        return self.allocation_fen * tranche.share_bp // BP_WHOLE

    def report_submission(self, rules: ProgrammeRules, entry_id: str) -> ReportSubmission:
        """The answer to the monthly report recorded as `entry_id`."""
        entry = self.entries[entry_id]
        period, day = entry["ref"], entry["business_date"]
        versions = self.reports[period]
        number = versions.index(entry_id) + 1
        due = report_due(rules, period)
        on_time = dt.date.fromisoformat(day) <= due
        return ReportSubmission(
            period, number, versions[number - 2] if number > 1 else "", due.isoformat(),
            on_time, "on_time" if on_time else "late", "按时" if on_time else "逾期报送")
