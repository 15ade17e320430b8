"""The county fund stream: one per programme × county. It holds the county's appropriations,
projects, disbursements, expenditures, reversals, exceptions, recoveries, reports and
acceptance, and checks every hard rule of the county inside the stream, so that optimistic
concurrency alone keeps them under concurrent writers.

Commands validate first and record last: a command that raises has recorded nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict
from uuid import UUID, uuid5

from ledger import errors as E
from ledger.actors import IMPORT_FIELDS, Actor, authorise
from ledger.chain import content_fingerprint
from ledger.dated import lowest_from, move
from ledger.events import ChainedAggregate, ChainedCreated, ChainedEvent, event_data, event_type
from ledger.money import check_amount_fen, format_yuan
from ledger.programme import STREAM_NAMESPACE
from ledger.rules import BP_WHOLE, ProgrammeRules

MONEY_KINDS = ("appropriation", "disbursement", "expenditure", "recovery", "reversal")
REVERSIBLE_BY_COUNTY = ("disbursement", "expenditure")
REVERSIBLE_BY_PROVINCE = ("appropriation", "recovery")


@lru_cache(maxsize=4096)  # on every command; uuid5 costs as much as the rule checks
def county_stream_id(programme: str, county_code: str) -> UUID:
    return uuid5(STREAM_NAMESPACE, f"county:{programme}:{county_code}")


class Entry(TypedDict):
    """What the stream remembers of an entry: kind, amount, reversed, project, version, content."""

    k: str
    a: int
    r: int
    p: str
    v: int
    f: str
    d: str


class Project(TypedDict):
    category: str
    budget_fen: int
    disbursed_fen: int
    expended_fen: int
    unspent_days: dict[str, int]  # disbursed − expended, by business date (ledger.dated)
    unspent_dates: list[str]


@dataclass(frozen=True)
class Context:
    """What every command needs besides its fields: who, under which rules, and today."""

    actor: Actor
    rules: ProgrammeRules
    today: dt.date


def budgets_floor(max_share_bp: int, allocation_fen: int, budgeted_fen: int) -> int:
    """The lowest exception limit that keeps existing budgets covered: what is budgeted above
    the rule's own ceiling needs the exception; below it, any limit is moot but harmless."""
    ceiling = allocation_fen * max_share_bp // BP_WHOLE
    return budgeted_fen if budgeted_fen > ceiling else 0


def _y(fen: int) -> str:
    return format_yuan(fen) + " 元"


class _Entered(ChainedEvent):
    """An event that carries an entry id and is remembered for idempotency."""

    entry_id: str
    # Fields the ledger derives from its state (not given by the client): a replay is judged
    # on the client's content only, so these stay out of the fingerprint. So does who ran an
    # import: the same line imported again by another officer is a replay.
    DERIVED: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def fingerprint(cls, data: dict[str, Any]) -> str:
        given = {k: v for k, v in data.items() if k not in cls.DERIVED and k not in IMPORT_FIELDS}
        return content_fingerprint(event_type(cls), given)

    def remember(self, agg: Any, kind: str, amount_fen: int = 0, project: str = "") -> None:
        agg.entries[self.entry_id] = Entry(
            k=kind, a=amount_fen, r=0, p=project, v=self.originator_version,
            f=self.fingerprint(event_data(self)), d=self.business_date,
        )


class CountyFund(ChainedAggregate):
    """A county's fund ledger within one programme."""

    class FundOpened(ChainedCreated):
        programme: str
        county_code: str
        county_name: str
        city_code: str
        allocation_fen: int

        def when(self, agg: Any) -> None:
            agg.programme, agg.county_code = self.programme, self.county_code
            agg.county_name, agg.city_code = self.county_name, self.city_code
            agg.allocation_fen = self.allocation_fen
            agg.by_batch, agg.decided_batches, agg.closed_years = {}, [], []
            agg.appropriated_fen = agg.disbursed_fen = agg.expended_fen = agg.recovered_fen = 0
            agg.projects, agg.budget_by_category, agg.exceptions, agg.entries = {}, {}, {}, {}
            agg.reports, agg.acceptance = {}, {}
            agg.cash_days, agg.cash_dates = {}, []

    class AppropriationReceived(_Entered):
        batch: int
        amount_fen: int
        document_no: str

        def when(self, agg: Any) -> None:
            key = str(self.batch)
            agg.by_batch[key] = agg.by_batch.get(key, 0) + self.amount_fen
            agg.appropriated_fen += self.amount_fen
            move(agg.cash_days, agg.cash_dates, self.business_date, self.amount_fen)
            self.remember(agg, "appropriation", self.amount_fen, key)

    class BatchDecided(_Entered):
        batch: int
        document_no: str

        def when(self, agg: Any) -> None:
            agg.decided_batches.append(self.batch)
            self.remember(agg, "decision")

    class ProjectRegistered(_Entered):
        project_code: str
        name: str
        category: str
        budget_fen: int
        responsible_person: str
        implementing_unit: str
        start_date: str
        end_date: str

        def when(self, agg: Any) -> None:
            agg.projects[self.project_code] = Project(
                category=self.category, budget_fen=self.budget_fen, disbursed_fen=0,
                expended_fen=0, unspent_days={}, unspent_dates=[],
            )
            agg.add_budget(self.category, self.budget_fen)
            self.remember(agg, "project", 0, self.project_code)

    class BudgetAdjusted(_Entered):
        project_code: str
        old_budget_fen: int
        new_budget_fen: int
        reason: str
        approver: str
        DERIVED: ClassVar[frozenset[str]] = frozenset({"old_budget_fen"})

        def when(self, agg: Any) -> None:
            project = agg.projects[self.project_code]
            agg.add_budget(project["category"], self.new_budget_fen - project["budget_fen"])
            project["budget_fen"] = self.new_budget_fen
            self.remember(agg, "adjustment", 0, self.project_code)

    class DisbursementRecorded(_Entered):
        project_code: str
        amount_fen: int
        payee: str
        voucher_no: str
        attachments: list[str]

        def when(self, agg: Any) -> None:
            project = agg.projects[self.project_code]
            project["disbursed_fen"] += self.amount_fen
            agg.disbursed_fen += self.amount_fen
            move(agg.cash_days, agg.cash_dates, self.business_date, -self.amount_fen)
            move(project["unspent_days"], project["unspent_dates"], self.business_date,
                 self.amount_fen)
            self.remember(agg, "disbursement", self.amount_fen, self.project_code)

    class ExpenditureRecorded(_Entered):
        project_code: str
        amount_fen: int
        purpose: str
        invoice_no: str
        attachments: list[str]

        def when(self, agg: Any) -> None:
            project = agg.projects[self.project_code]
            project["expended_fen"] += self.amount_fen
            agg.expended_fen += self.amount_fen
            move(project["unspent_days"], project["unspent_dates"], self.business_date,
                 -self.amount_fen)
            self.remember(agg, "expenditure", self.amount_fen, self.project_code)

    class EntryReversed(_Entered):
        target_entry_id: str
        target_kind: str
        amount_fen: int
        reason: str
        DERIVED: ClassVar[frozenset[str]] = frozenset({"target_kind"})

        def when(self, agg: Any) -> None:
            target = agg.entries[self.target_entry_id]
            target["r"] += self.amount_fen
            agg.undo(target, self.amount_fen, self.business_date)
            self.remember(agg, "reversal", self.amount_fen, target["p"])

    class RatioExceptionApproved(_Entered):
        category: str
        limit_fen: int
        reason: str
        approver: str
        document_no: str

        def when(self, agg: Any) -> None:
            agg.exceptions[self.category] = {
                "limit_fen": self.limit_fen, "document_no": self.document_no,
            }
            self.remember(agg, "exception")

    class FundsRecovered(_Entered):
        amount_fen: int
        reason: str
        document_no: str

        def when(self, agg: Any) -> None:
            agg.recovered_fen += self.amount_fen
            move(agg.cash_days, agg.cash_dates, self.business_date, -self.amount_fen)
            self.remember(agg, "recovery", self.amount_fen)

    class YearClosed(_Entered):
        year: int

        def when(self, agg: Any) -> None:
            agg.closed_years.append(self.year)
            self.remember(agg, "close")

    class MonthlyReportSubmitted(_Entered):
        period: str
        summary: str

        def when(self, agg: Any) -> None:
            agg.reports[self.period] = self.entry_id
            self.remember(agg, "report")

    class TypicalCaseReported(_Entered):
        title: str
        summary: str

        def when(self, agg: Any) -> None:
            self.remember(agg, "typical_case")

    class AcceptanceRecorded(_Entered):
        conclusion: str
        report_no: str
        assessor: str

        def when(self, agg: Any) -> None:
            agg.acceptance = {"conclusion": self.conclusion, "confirmed": False}
            self.remember(agg, "acceptance")

    class AcceptanceConfirmed(_Entered):
        conclusion: str

        def when(self, agg: Any) -> None:
            agg.acceptance["confirmed"] = True
            self.remember(agg, "confirmation")

    if TYPE_CHECKING:  # state set by the events; not constructor fields of the aggregate
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
        exceptions: dict[str, dict[str, Any]]
        entries: dict[str, Entry]
        reports: dict[str, str]
        acceptance: dict[str, Any]
        cash_days: dict[str, int]  # cash movements by business date (ledger.dated)
        cash_dates: list[str]

    # ---- state helpers used by the events ------------------------------------------------

    def add_budget(self, category: str, delta_fen: int) -> None:
        self.budget_by_category[category] = self.budget_by_category.get(category, 0) + delta_fen

    def undo(self, target: Entry, amount_fen: int, day: str) -> None:
        """A reversal of `amount_fen` of `target`, dated `day`: the opposite movements."""
        kind = target["k"]
        cash_delta, unspent_delta = 0, 0
        if kind == "appropriation":
            self.by_batch[target["p"]] -= amount_fen
            self.appropriated_fen -= amount_fen
            cash_delta = -amount_fen
        elif kind == "disbursement":
            self.projects[target["p"]]["disbursed_fen"] -= amount_fen
            self.disbursed_fen -= amount_fen
            cash_delta, unspent_delta = amount_fen, -amount_fen
        elif kind == "expenditure":
            self.projects[target["p"]]["expended_fen"] -= amount_fen
            self.expended_fen -= amount_fen
            unspent_delta = amount_fen
        elif kind == "recovery":
            self.recovered_fen -= amount_fen
            cash_delta = amount_fen
        if cash_delta:
            move(self.cash_days, self.cash_dates, day, cash_delta)
        if unspent_delta:
            project = self.projects[target["p"]]
            move(project["unspent_days"], project["unspent_dates"], day, unspent_delta)

    def cash_on(self, day: dt.date) -> int:
        """Cash an entry dated `day` may use: the lowest balance on that day or after it."""
        return lowest_from(self.cash_days, self.cash_dates, self.cash_fen, day.isoformat())

    def unspent_on(self, project: Project, day: dt.date) -> int:
        """A project's disbursed-and-unspent money an entry dated `day` may use."""
        total = project["disbursed_fen"] - project["expended_fen"]
        return lowest_from(project["unspent_days"], project["unspent_dates"], total,
                           day.isoformat())

    @property
    def cash_fen(self) -> int:
        """Appropriated − disbursed − recovered, each net of reversals."""
        return self.appropriated_fen - self.disbursed_fen - self.recovered_fen

    @property
    def budgeted_fen(self) -> int:
        return sum(self.budget_by_category.values())

    @classmethod
    def open(
        cls, programme: str, county_code: str, county_name: str, city_code: str,
        allocation_fen: int, actor: Actor, business_date: dt.date,
    ) -> CountyFund:
        return cls._open(
            cls.FundOpened, county_stream_id(programme, county_code), actor, business_date,
            programme=programme, county_code=county_code, county_name=county_name,
            city_code=city_code, allocation_fen=allocation_fen,
        )

    # ---- checks shared by the commands ---------------------------------------------------

    def _begin(
        self, ctx: Context, command: str, event_class: type[_Entered], entry_id: str,
        business_date: dt.date, fields: dict[str, Any],
    ) -> int | None:
        """Authorise (R8), then answer a replay (R9), then check the date (R7).

        Returns the original version for an identical replay, None for a new entry.
        """
        authorise(ctx.actor, command, self.county_code)
        existing = self.entries.get(entry_id)
        if existing is not None:
            data = {
                **ctx.actor.as_fields(), "business_date": business_date.isoformat(),
                "entry_id": entry_id, **fields,
            }
            if existing["f"] == event_class.fingerprint(data):
                return existing["v"]
            raise E.EntryConflict(
                f"条目 {entry_id} 已存在且内容不同（版本 {existing['v']}）",
                f"entry {entry_id} exists with different content (version {existing['v']})",
                "entry_id", entry_id=entry_id, version=existing["v"],
            )
        self._check_date(ctx, business_date)
        return None

    def _check_date(self, ctx: Context, day: dt.date) -> None:
        rules = ctx.rules
        if not rules.period_start <= day <= rules.period_end:
            raise E.DateOutsidePeriod(
                f"业务日期 {day} 不在项目期 {rules.period_start} 至 {rules.period_end} 内",
                f"business date {day} is outside the programme period "
                f"{rules.period_start}..{rules.period_end}", "business_date",
            )
        if day > ctx.today:
            raise E.DateOutsidePeriod(
                f"业务日期 {day} 晚于今天 {ctx.today}",
                f"business date {day} is in the future (today is {ctx.today})", "business_date",
            )
        if day.year in self.closed_years:
            raise E.PeriodClosed(
                f"{day.year} 年度已结账，更正请在未结年度以新条目记录并引用原条目",
                f"year {day.year} is closed; record corrections in the open year, "
                "referencing the original entry", "business_date",
            )

    def _project(self, code: str) -> Project:
        project = self.projects.get(code)
        if project is None:
            raise E.UnknownProject(
                f"县 {self.county_code} 没有项目 {code}",
                f"county {self.county_code} has no project {code}", "project_code",
            )
        return project

    def _check_budgets(self, rules: ProgrammeRules, category: str, delta_fen: int) -> None:
        """R3: Σ budgets ≤ allocation; a category's maximum share unless an exception covers it."""
        if self.budgeted_fen + delta_fen > self.allocation_fen:
            raise E.BudgetExceedsAllocation(
                f"项目预算合计将达 {_y(self.budgeted_fen + delta_fen)}，超过分配额 "
                f"{_y(self.allocation_fen)}",
                f"project budgets would total {format_yuan(self.budgeted_fen + delta_fen)}, "
                f"above the allocation of {format_yuan(self.allocation_fen)}", "budget_fen",
            )
        cat = rules.category(category)
        new_total = self.budget_by_category.get(category, 0) + delta_fen
        if cat is None or cat.max_share_bp is None or delta_fen <= 0:
            return
        if new_total * BP_WHOLE <= cat.max_share_bp * self.allocation_fen:
            return
        exception = self.exceptions.get(category)
        if exception is not None and new_total <= exception["limit_fen"]:
            return
        raise E.CategoryShareExceeded(
            f"「{cat.name_zh}」预算将达 {_y(new_total)}，超过分配额的 {cat.max_share_bp / 100}% "
            "上限，且无已批准的例外",
            f"{cat.id} budgets would reach {format_yuan(new_total)}, above "
            f"{cat.max_share_bp / 100}% of the allocation, with no approved exception",
            "budget_fen", category=category,
        )

    def _tranche_cap(self, rules: ProgrammeRules, batch: int) -> int:
        """A batch's ceiling: its share of the allocation; the last batch takes the rest."""
        if batch == len(rules.tranches):
            earlier = sum(self._tranche_cap(rules, b) for b in range(1, batch))
            return self.allocation_fen - earlier
        tranche = rules.tranche(batch)
        assert tranche is not None
        return self.allocation_fen * tranche.share_bp // BP_WHOLE

    # ---- commands: each returns (version of its event, replayed?) ------------------------

    def _done(self) -> tuple[int, bool]:
        return self.version, False

    def record_appropriation(
        self, ctx: Context, entry_id: str, batch: int, amount_fen: int, document_no: str,
        business_date: dt.date,
    ) -> tuple[int, bool]:
        """R2: appropriations ≤ allocation, each batch ≤ its tranche, in its year, decided."""
        fields = {"batch": batch, "amount_fen": amount_fen, "document_no": document_no}
        replay = self._begin(
            ctx, "record_appropriation", self.AppropriationReceived, entry_id, business_date,
            fields,
        )
        if replay is not None:
            return replay, True
        check_amount_fen(amount_fen)
        tranche = ctx.rules.tranche(batch)
        if tranche is None:
            raise E.InvalidField(f"没有第 {batch} 批", f"there is no batch {batch}", "batch")
        if business_date.year != tranche.year:
            raise E.BatchNotOpen(
                f"第 {batch} 批只能在 {tranche.year} 年下达", f"batch {batch} is issued only in "
                f"{tranche.year}", "business_date",
            )
        if tranche.requires_decision and batch not in self.decided_batches:
            raise E.BatchNotOpen(
                f"省厅尚未对县 {self.county_code} 作出第 {batch} 批资金决定",
                f"the province has not recorded its batch-{batch} decision for county "
                f"{self.county_code}", "batch",
            )
        if self.appropriated_fen + amount_fen > self.allocation_fen:
            raise E.AppropriationExceedsAllocation(
                f"下达合计将达 {_y(self.appropriated_fen + amount_fen)}，超过分配额 "
                f"{_y(self.allocation_fen)}",
                f"appropriations would total {format_yuan(self.appropriated_fen + amount_fen)}, "
                f"above the allocation of {format_yuan(self.allocation_fen)}", "amount_fen",
            )
        cap = self._tranche_cap(ctx.rules, batch)
        if self.by_batch.get(str(batch), 0) + amount_fen > cap:
            raise E.TrancheExceeded(
                f"第 {batch} 批将超过其额度 {_y(cap)}",
                f"batch {batch} would exceed its tranche of {format_yuan(cap)}", "amount_fen",
            )
        self._record(self.AppropriationReceived, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def decide_batch(
        self, ctx: Context, entry_id: str, batch: int, document_no: str, business_date: dt.date,
    ) -> tuple[int, bool]:
        """The province's decision that opens a batch needing one (batch 2)."""
        fields = {"batch": batch, "document_no": document_no}
        replay = self._begin(ctx, "decide_batch", self.BatchDecided, entry_id, business_date,
                             fields)
        if replay is not None:
            return replay, True
        tranche = ctx.rules.tranche(batch)
        if tranche is None or not tranche.requires_decision:
            raise E.InvalidField(f"第 {batch} 批无需决定", f"batch {batch} needs no decision",
                                 "batch")
        if batch in self.decided_batches:
            raise E.AlreadyExists(f"第 {batch} 批已有决定", f"batch {batch} is already decided",
                                  "batch")
        self._record(self.BatchDecided, ctx.actor, business_date, entry_id=entry_id, **fields)
        return self._done()

    def register_project(
        self, ctx: Context, entry_id: str, project_code: str, name: str, category: str,
        budget_fen: int, responsible_person: str, implementing_unit: str, start_date: dt.date,
        end_date: dt.date, business_date: dt.date,
    ) -> tuple[int, bool]:
        """A project with its category, budget, responsible person and dates (R3 on budgets)."""
        fields = {
            "project_code": project_code, "name": name, "category": category,
            "budget_fen": budget_fen, "responsible_person": responsible_person,
            "implementing_unit": implementing_unit, "start_date": start_date.isoformat(),
            "end_date": end_date.isoformat(),
        }
        replay = self._begin(ctx, "register_project", self.ProjectRegistered, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        check_amount_fen(budget_fen, "budget_fen")
        if ctx.rules.category(category) is None:
            known = ", ".join(c.id for c in ctx.rules.categories)
            raise E.InvalidField(f"未知支持类别 {category}", f"unknown category {category} "
                                 f"(expected one of {known})", "category")
        if project_code in self.projects:
            raise E.AlreadyExists(f"项目 {project_code} 已登记", f"project {project_code} is "
                                  "already registered", "project_code")
        if start_date > end_date:
            raise E.InvalidField("开始日期晚于结束日期", "start_date is after end_date",
                                 "start_date")
        self._check_budgets(ctx.rules, category, budget_fen)
        self._record(self.ProjectRegistered, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def adjust_budget(
        self, ctx: Context, entry_id: str, project_code: str, new_budget_fen: int, reason: str,
        approver: str, business_date: dt.date,
    ) -> tuple[int, bool]:
        """A project's new budget, with reason and approver; never below what was disbursed."""
        old = self.projects[project_code]["budget_fen"] if project_code in self.projects else 0
        fields = {
            "project_code": project_code, "old_budget_fen": old,
            "new_budget_fen": new_budget_fen, "reason": reason, "approver": approver,
        }
        replay = self._begin(ctx, "adjust_budget", self.BudgetAdjusted, entry_id, business_date,
                             fields)
        if replay is not None:
            return replay, True
        project = self._project(project_code)
        check_amount_fen(new_budget_fen, "new_budget_fen")
        if new_budget_fen < project["disbursed_fen"]:
            raise E.DisbursementExceedsBudget(
                f"新预算 {_y(new_budget_fen)} 低于已拨付 {_y(project['disbursed_fen'])}",
                f"new budget {format_yuan(new_budget_fen)} is below the "
                f"{format_yuan(project['disbursed_fen'])} already disbursed", "new_budget_fen",
            )
        self._check_budgets(ctx.rules, project["category"], new_budget_fen - old)
        self._record(self.BudgetAdjusted, ctx.actor, business_date, entry_id=entry_id, **fields)
        return self._done()

    def record_disbursement(
        self, ctx: Context, entry_id: str, project_code: str, amount_fen: int, payee: str,
        voucher_no: str, attachments: list[str], business_date: dt.date,
    ) -> tuple[int, bool]:
        """R4: ≤ the project's remaining budget and ≤ the county's cash."""
        fields = {
            "project_code": project_code, "amount_fen": amount_fen, "payee": payee,
            "voucher_no": voucher_no, "attachments": attachments,
        }
        replay = self._begin(ctx, "record_disbursement", self.DisbursementRecorded, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        check_amount_fen(amount_fen)
        project = self._project(project_code)
        remaining = project["budget_fen"] - project["disbursed_fen"]
        if amount_fen > remaining:
            raise E.DisbursementExceedsBudget(
                f"拨付 {_y(amount_fen)} 超过项目 {project_code} 剩余预算 {_y(remaining)}",
                f"disbursement of {format_yuan(amount_fen)} exceeds project {project_code}'s "
                f"remaining budget of {format_yuan(remaining)}", "amount_fen",
            )
        cash = self.cash_on(business_date)
        if amount_fen > cash:
            raise E.InsufficientCash(
                f"拨付 {_y(amount_fen)} 超过县在 {business_date} 及其后的可用资金 {_y(cash)}",
                f"disbursement of {format_yuan(amount_fen)} exceeds the county's cash of "
                f"{format_yuan(cash)} available on {business_date} and after", "amount_fen",
                cash_fen=cash,
            )
        self._record(self.DisbursementRecorded, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def record_expenditure(
        self, ctx: Context, entry_id: str, project_code: str, amount_fen: int, purpose: str,
        invoice_no: str, attachments: list[str], business_date: dt.date,
    ) -> tuple[int, bool]:
        """R5: ≤ what was disbursed to the project and not yet spent."""
        fields = {
            "project_code": project_code, "amount_fen": amount_fen, "purpose": purpose,
            "invoice_no": invoice_no, "attachments": attachments,
        }
        replay = self._begin(ctx, "record_expenditure", self.ExpenditureRecorded, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        check_amount_fen(amount_fen)
        project = self._project(project_code)
        unspent = self.unspent_on(project, business_date)
        if amount_fen > unspent:
            raise E.ExpenditureExceedsDisbursed(
                f"支出 {_y(amount_fen)} 超过项目 {project_code} 在 {business_date} "
                f"及其后已拨付未支出的 {_y(unspent)}",
                f"expenditure of {format_yuan(amount_fen)} exceeds project {project_code}'s "
                f"disbursed and unspent {format_yuan(unspent)} on {business_date} and after",
                "amount_fen", unspent_fen=unspent,
            )
        self._record(self.ExpenditureRecorded, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def reverse_entry(
        self, ctx: Context, entry_id: str, target_entry_id: str, amount_fen: int, reason: str,
        business_date: dt.date,
    ) -> tuple[int, bool]:
        """R6: a red-letter reversal (full or partial) of an entry of this county."""
        target = self.entries.get(target_entry_id)
        by_province = (target["k"] in REVERSIBLE_BY_PROVINCE if target is not None
                       else ctx.actor.role == "province")
        command = "reverse_province_entry" if by_province else "reverse_county_entry"
        fields = {
            "target_entry_id": target_entry_id, "target_kind": target["k"] if target else "",
            "amount_fen": amount_fen, "reason": reason,
        }
        replay = self._begin(ctx, command, self.EntryReversed, entry_id, business_date, fields)
        if replay is not None:
            return replay, True
        check_amount_fen(amount_fen)
        if target is None or target["k"] not in REVERSIBLE_BY_COUNTY + REVERSIBLE_BY_PROVINCE:
            raise E.ReversalTargetInvalid(
                f"县 {self.county_code} 没有可冲销的条目 {target_entry_id}",
                f"county {self.county_code} has no reversible entry {target_entry_id}",
                "target_entry_id",
            )
        if business_date.isoformat() < target["d"]:
            raise E.ReversalTargetInvalid(
                f"冲销日期 {business_date} 早于原条目日期 {target['d']}",
                f"reversal dated {business_date} precedes its entry's date {target['d']}",
                "business_date",
            )
        left = target["a"] - target["r"]
        if amount_fen > left:
            raise E.ReversalExceedsEntry(
                f"冲销 {_y(amount_fen)} 超过条目 {target_entry_id} 未冲销的 {_y(left)}",
                f"reversal of {format_yuan(amount_fen)} exceeds the {format_yuan(left)} of "
                f"entry {target_entry_id} not yet reversed", "amount_fen",
            )
        self._check_reversal_effect(target, amount_fen, business_date)
        self._record(self.EntryReversed, ctx.actor, business_date, entry_id=entry_id, **fields)
        return self._done()

    def _check_reversal_effect(self, target: Entry, amount_fen: int, day: dt.date) -> None:
        """Money already spent cannot be un-disbursed; money already passed on cannot be
        un-appropriated (each judged on the reversal's date and after)."""
        if target["k"] == "disbursement":
            unspent = self.unspent_on(self.projects[target["p"]], day)
            if amount_fen > unspent:
                raise E.ReversalBelowSpent(
                    f"冲销 {_y(amount_fen)} 将低于项目 {target['p']} 已支出金额（未支出仅 "
                    f"{_y(unspent)}）",
                    f"reversal of {format_yuan(amount_fen)} would go below what project "
                    f"{target['p']} already spent (unspent: {format_yuan(unspent)})",
                    "amount_fen",
                )
        elif target["k"] == "appropriation" and amount_fen > self.cash_on(day):
            cash = self.cash_on(day)
            raise E.InsufficientCash(
                f"冲销下达 {_y(amount_fen)} 超过县在 {day} 及其后的可用资金 {_y(cash)}",
                f"reversing {format_yuan(amount_fen)} of appropriation exceeds the county's "
                f"cash of {format_yuan(cash)} on {day} and after", "amount_fen",
            )

    def approve_exception(
        self, ctx: Context, entry_id: str, category: str, limit_fen: int, reason: str,
        approver: str, document_no: str, business_date: dt.date,
    ) -> tuple[int, bool]:
        """An approved ratio exception: the category's budgets may reach `limit_fen`."""
        fields = {
            "category": category, "limit_fen": limit_fen, "reason": reason,
            "approver": approver, "document_no": document_no,
        }
        replay = self._begin(ctx, "approve_exception", self.RatioExceptionApproved, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        check_amount_fen(limit_fen, "limit_fen")
        cat = ctx.rules.category(category)
        if cat is None or cat.max_share_bp is None:
            raise E.InvalidField(f"类别 {category} 没有上限，无需例外",
                                 f"category {category} has no maximum share to except from",
                                 "category")
        if limit_fen > self.allocation_fen:
            raise E.BudgetExceedsAllocation("例外额度超过分配额",
                                            "exception limit exceeds the allocation", "limit_fen")
        budgeted = self.budget_by_category.get(category, 0)
        if limit_fen < budgets_floor(cat.max_share_bp, self.allocation_fen, budgeted):
            raise E.InvalidField(
                f"例外额度 {_y(limit_fen)} 低于该类别已登记预算 {_y(budgeted)}",
                f"exception limit {format_yuan(limit_fen)} is below the {format_yuan(budgeted)} "
                "already budgeted in the category", "limit_fen")
        self._record(self.RatioExceptionApproved, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def record_recovery(
        self, ctx: Context, entry_id: str, amount_fen: int, reason: str, document_no: str,
        business_date: dt.date,
    ) -> tuple[int, bool]:
        """收回: the province takes back unused cash (R4: ≤ cash)."""
        fields = {"amount_fen": amount_fen, "reason": reason, "document_no": document_no}
        replay = self._begin(ctx, "record_recovery", self.FundsRecovered, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        check_amount_fen(amount_fen)
        cash = self.cash_on(business_date)
        if amount_fen > cash:
            raise E.InsufficientCash(
                f"收回 {_y(amount_fen)} 超过县在 {business_date} 及其后的可用资金 {_y(cash)}",
                f"recovery of {format_yuan(amount_fen)} exceeds the county's cash of "
                f"{format_yuan(cash)} on {business_date} and after", "amount_fen",
            )
        self._record(self.FundsRecovered, ctx.actor, business_date, entry_id=entry_id, **fields)
        return self._done()

    def close_year(
        self, ctx: Context, entry_id: str, year: int, business_date: dt.date,
    ) -> tuple[int, bool]:
        """Period lock: after this, no entry may be dated in `year`."""
        fields = {"year": year}
        replay = self._begin(ctx, "close_year", self.YearClosed, entry_id, business_date, fields)
        if replay is not None:
            return replay, True
        if year not in ctx.rules.years or year in self.closed_years:
            raise E.InvalidField(f"{year} 年度不在项目期内或已结账",
                                 f"year {year} is outside the programme or already closed",
                                 "year")
        if business_date.year <= year:
            raise E.InvalidField(f"结账日期须在 {year} 年之后", f"a year is closed after it "
                                 f"ends: business_date must be after {year}", "business_date")
        self._record(self.YearClosed, ctx.actor, business_date, entry_id=entry_id, **fields)
        return self._done()

    def submit_monthly_report(
        self, ctx: Context, entry_id: str, period: str, summary: str, business_date: dt.date,
    ) -> tuple[int, bool]:
        """The monthly progress report for `period` (YYYY-MM), due before the 5th after it."""
        fields = {"period": period, "summary": summary}
        replay = self._begin(ctx, "submit_monthly_report", self.MonthlyReportSubmitted,
                             entry_id, business_date, fields)
        if replay is not None:
            return replay, True
        year, month = int(period[:4]), int(period[5:])
        after = dt.date(year + month // 12, month % 12 + 1, 1)
        if business_date < after or year not in ctx.rules.years:
            raise E.InvalidField(f"{period} 月报须在该月结束后、项目期内报送",
                                 f"the report for {period} is submitted after the month ends, "
                                 "within the programme", "period")
        if period in self.reports:
            raise E.AlreadyExists(f"{period} 月报已报送（条目 {self.reports[period]}）",
                                  f"the report for {period} was already submitted "
                                  f"(entry {self.reports[period]})", "period")
        self._record(self.MonthlyReportSubmitted, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def report_typical_case(
        self, ctx: Context, entry_id: str, title: str, summary: str, business_date: dt.date,
    ) -> tuple[int, bool]:
        """A typical case (典型案例), due at least every half year."""
        fields = {"title": title, "summary": summary}
        replay = self._begin(ctx, "report_typical_case", self.TypicalCaseReported, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        self._record(self.TypicalCaseReported, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def record_acceptance(
        self, ctx: Context, entry_id: str, conclusion: str, report_no: str, assessor: str,
        business_date: dt.date,
    ) -> tuple[int, bool]:
        """The third party's acceptance conclusion: exactly one of the rules' two."""
        fields = {"conclusion": conclusion, "report_no": report_no, "assessor": assessor}
        replay = self._begin(ctx, "record_acceptance", self.AcceptanceRecorded, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        if conclusion not in ctx.rules.acceptance_conclusions:
            allowed = " / ".join(ctx.rules.acceptance_conclusions)
            raise E.InvalidField(f"验收结论须为 {allowed}",
                                 f"the acceptance conclusion must be one of {allowed}",
                                 "conclusion")
        if self.acceptance:
            raise E.AlreadyExists("验收结论已记录", "an acceptance conclusion is already recorded",
                                  "conclusion")
        self._record(self.AcceptanceRecorded, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()

    def confirm_acceptance(
        self, ctx: Context, entry_id: str, conclusion: str, business_date: dt.date,
    ) -> tuple[int, bool]:
        """The city's confirmation of the recorded acceptance conclusion."""
        fields = {"conclusion": conclusion}
        replay = self._begin(ctx, "confirm_acceptance", self.AcceptanceConfirmed, entry_id,
                             business_date, fields)
        if replay is not None:
            return replay, True
        if not self.acceptance or self.acceptance["conclusion"] != conclusion:
            raise E.InvalidField("确认的结论与已记录的验收结论不符或尚无验收结论",
                                 "no acceptance recorded, or the confirmed conclusion differs",
                                 "conclusion")
        if self.acceptance["confirmed"]:
            raise E.AlreadyExists("验收结果已确认", "the acceptance is already confirmed",
                                  "conclusion")
        self._record(self.AcceptanceConfirmed, ctx.actor, business_date, entry_id=entry_id,
                     **fields)
        return self._done()
