"""The county fund stream: one per programme × county. It holds the county's appropriations,
projects, disbursements, expenditures, reversals, exceptions, recoveries, reports and
acceptance, and checks every hard rule of the county inside the stream, so that optimistic
concurrency alone keeps them under concurrent writers.

Every command has one shape (`CountyFund._command`): authorise (R8), answer a replay (R9),
check the date (R7), check its own rules (`ledger.checks`), record. A command that raises has
recorded nothing. The events are stored schema: their names and nesting enter the hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar
from uuid import UUID, uuid5

from ledger import checks as C
from ledger.actors import IMPORT_FIELDS, Actor, authorise
from ledger.chain import content_fingerprint
from ledger.county_state import (
    REVERSIBLE_BY_PROVINCE,
    Acceptance,
    CountyState,
    Entry,
    Project,
    RatioException,
)
from ledger.errors import EntryConflict
from ledger.events import ChainedAggregate, ChainedCreated, ChainedEvent, event_data, event_type
from ledger.money import check_amount_fen
from ledger.programme import STREAM_NAMESPACE
from ledger.rules import ProgrammeRules

Fields = dict[str, object]  # an event's domain fields, as given to `_record`
Outcome = tuple[int, bool]  # what a command returns: its event's version, and whether a replay


@lru_cache(maxsize=4096)  # on every command; uuid5 costs as much as the rule checks
def county_stream_id(programme: str, county_code: str) -> UUID:
    return uuid5(STREAM_NAMESPACE, f"county:{programme}:{county_code}")


@dataclass(frozen=True)
class Context:
    """What every command needs besides its fields: who, under which rules, and today."""

    actor: Actor
    rules: ProgrammeRules
    today: dt.date


def _state(aggregate: ChainedAggregate) -> CountyState:
    assert isinstance(aggregate, CountyState), type(aggregate)  # county events, county streams
    return aggregate


class _Entered(ChainedEvent):
    """An event that carries an entry id and is remembered for idempotency."""

    entry_id: str
    # Fields the ledger derives from its state (not given by the client): a replay is judged
    # on the client's content only, so these stay out of the fingerprint. So does who ran an
    # import: the same line imported again by another officer is a replay.
    DERIVED: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def fingerprint(cls, data: Mapping[str, object]) -> str:
        given = {k: v for k, v in data.items() if k not in cls.DERIVED and k not in IMPORT_FIELDS}
        return content_fingerprint(event_type(cls), given)

    def when(self, aggregate: ChainedAggregate) -> None:
        self.evolve(_state(aggregate))

    def evolve(self, state: CountyState) -> None:
        """Evolve the county's state; overridden by each event."""

    def remember(self, state: CountyState, kind: str, amount_fen: int = 0, ref: str = "") -> None:
        state.entries[self.entry_id] = Entry(
            kind=kind, amount_fen=amount_fen, reversed_fen=0, ref=ref,
            version=self.originator_version, fingerprint=self.fingerprint(event_data(self)),
            business_date=self.business_date,
        )


class CountyFund(ChainedAggregate, CountyState):
    """A county's fund ledger within one programme."""

    # The layout of the state (`ledger.county_state`) in snapshots: 2 spelled out the entry
    # keys and keeps every version of a monthly report. A snapshot of another layout is
    # ignored and the county replayed (`ledger.snapshots`).
    class_version = 2

    class FundOpened(ChainedCreated):
        programme: str
        county_code: str
        county_name: str
        city_code: str
        allocation_fen: int

        def when(self, aggregate: ChainedAggregate) -> None:
            _state(aggregate).start(self.programme, self.county_code, self.county_name,
                                    self.city_code, self.allocation_fen)

    class AppropriationReceived(_Entered):
        batch: int
        amount_fen: int
        document_no: str

        def evolve(self, state: CountyState) -> None:
            key = str(self.batch)
            state.by_batch[key] = state.by_batch.get(key, 0) + self.amount_fen
            state.appropriated_fen += self.amount_fen
            state.move_cash(self.business_date, self.amount_fen)
            self.remember(state, "appropriation", self.amount_fen, key)

    class BatchDecided(_Entered):
        batch: int
        document_no: str

        def evolve(self, state: CountyState) -> None:
            state.decided_batches.append(self.batch)
            self.remember(state, "decision")

    class ProjectRegistered(_Entered):
        project_code: str
        name: str
        category: str
        budget_fen: int
        responsible_person: str
        implementing_unit: str
        start_date: str
        end_date: str

        def evolve(self, state: CountyState) -> None:
            state.projects[self.project_code] = Project(
                category=self.category, budget_fen=self.budget_fen, disbursed_fen=0,
                expended_fen=0, unspent_days={}, unspent_dates=[],
            )
            state.add_budget(self.category, self.budget_fen)
            self.remember(state, "project", 0, self.project_code)

    class BudgetAdjusted(_Entered):
        project_code: str
        old_budget_fen: int
        new_budget_fen: int
        reason: str
        approver: str
        DERIVED: ClassVar[frozenset[str]] = frozenset({"old_budget_fen"})

        def evolve(self, state: CountyState) -> None:
            project = state.projects[self.project_code]
            state.add_budget(project["category"], self.new_budget_fen - project["budget_fen"])
            project["budget_fen"] = self.new_budget_fen
            self.remember(state, "adjustment", 0, self.project_code)

    class DisbursementRecorded(_Entered):
        project_code: str
        amount_fen: int
        payee: str
        voucher_no: str
        attachments: list[str]

        def evolve(self, state: CountyState) -> None:
            project = state.projects[self.project_code]
            project["disbursed_fen"] += self.amount_fen
            state.disbursed_fen += self.amount_fen
            state.move_cash(self.business_date, -self.amount_fen)
            state.move_unspent(project, self.business_date, self.amount_fen)
            self.remember(state, "disbursement", self.amount_fen, self.project_code)

    class ExpenditureRecorded(_Entered):
        project_code: str
        amount_fen: int
        purpose: str
        invoice_no: str
        attachments: list[str]

        def evolve(self, state: CountyState) -> None:
            project = state.projects[self.project_code]
            project["expended_fen"] += self.amount_fen
            state.expended_fen += self.amount_fen
            state.move_unspent(project, self.business_date, -self.amount_fen)
            self.remember(state, "expenditure", self.amount_fen, self.project_code)

    class EntryReversed(_Entered):
        target_entry_id: str
        target_kind: str
        amount_fen: int
        reason: str
        DERIVED: ClassVar[frozenset[str]] = frozenset({"target_kind"})

        def evolve(self, state: CountyState) -> None:
            target = state.entries[self.target_entry_id]
            target["reversed_fen"] += self.amount_fen
            state.undo(target, self.amount_fen, self.business_date)
            self.remember(state, "reversal", self.amount_fen, target["ref"])

    class RatioExceptionApproved(_Entered):
        category: str
        limit_fen: int
        reason: str
        approver: str
        document_no: str

        def evolve(self, state: CountyState) -> None:
            state.exceptions[self.category] = RatioException(
                limit_fen=self.limit_fen, document_no=self.document_no)
            self.remember(state, "exception")

    class FundsRecovered(_Entered):
        amount_fen: int
        reason: str
        document_no: str

        def evolve(self, state: CountyState) -> None:
            state.recovered_fen += self.amount_fen
            state.move_cash(self.business_date, -self.amount_fen)
            self.remember(state, "recovery", self.amount_fen)

    class YearClosed(_Entered):
        year: int

        def evolve(self, state: CountyState) -> None:
            state.closed_years.append(self.year)
            self.remember(state, "close")

    class MonthlyReportSubmitted(_Entered):
        """A month's report; a later one for the same month is its next version."""

        period: str
        summary: str

        def evolve(self, state: CountyState) -> None:
            state.reports.setdefault(self.period, []).append(self.entry_id)
            self.remember(state, "report", 0, self.period)

    class TypicalCaseReported(_Entered):
        title: str
        summary: str

        def evolve(self, state: CountyState) -> None:
            self.remember(state, "typical_case")

    class AcceptanceRecorded(_Entered):
        conclusion: str
        report_no: str
        assessor: str

        def evolve(self, state: CountyState) -> None:
            state.acceptance = Acceptance(conclusion=self.conclusion, confirmed=False)
            self.remember(state, "acceptance")

    class AcceptanceConfirmed(_Entered):
        conclusion: str

        def evolve(self, state: CountyState) -> None:
            state.acceptance = Acceptance(conclusion=self.conclusion, confirmed=True)
            self.remember(state, "confirmation")

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

    # ---- the one shape of a command ------------------------------------------------------

    def _command(
        self, ctx: Context, permission: str, event_class: type[_Entered], entry_id: str,
        business_date: dt.date, fields: Fields, validate: Callable[[], object],
    ) -> Outcome:
        """Authorise (R8), answer a replay (R9), check the date (R7), run the command's own
        checks (`validate`), record. Returns (version of the event, replayed?)."""
        authorise(ctx.actor, permission, self.county_code)
        existing = self.entries.get(entry_id)
        if existing is not None:
            if existing["fingerprint"] == self._fingerprint(ctx, event_class, entry_id,
                                                            business_date, fields):
                return existing["version"], True
            raise EntryConflict.of("entry_id", entry_id=entry_id, version=existing["version"])
        C.check_business_date(business_date, ctx.today, ctx.rules, self.closed_years)
        validate()
        self._record(event_class, ctx.actor, business_date, entry_id=entry_id, **fields)
        return self.version, False

    @staticmethod
    def _fingerprint(ctx: Context, event_class: type[_Entered], entry_id: str,
                     business_date: dt.date, fields: Fields) -> str:
        return event_class.fingerprint({
            **ctx.actor.as_fields(), "business_date": business_date.isoformat(),
            "entry_id": entry_id, **fields,
        })

    # ---- commands --------------------------------------------------------------------------

    def record_appropriation(
        self, ctx: Context, entry_id: str, batch: int, amount_fen: int, document_no: str,
        business_date: dt.date,
    ) -> Outcome:
        """R2: appropriations ≤ allocation, each batch ≤ its tranche, in its year, decided."""
        fields: Fields = {"batch": batch, "amount_fen": amount_fen, "document_no": document_no}
        return self._command(
            ctx, "record_appropriation", self.AppropriationReceived, entry_id, business_date,
            fields, lambda: C.check_appropriation(
                self, ctx.rules, batch, check_amount_fen(amount_fen), business_date))

    def decide_batch(
        self, ctx: Context, entry_id: str, batch: int, document_no: str, business_date: dt.date,
    ) -> Outcome:
        """The province's decision that opens a batch needing one (batch 2)."""
        fields: Fields = {"batch": batch, "document_no": document_no}
        return self._command(ctx, "decide_batch", self.BatchDecided, entry_id, business_date,
                             fields, lambda: C.check_decision(self, ctx.rules, batch))

    def register_project(
        self, ctx: Context, entry_id: str, project_code: str, name: str, category: str,
        budget_fen: int, responsible_person: str, implementing_unit: str, start_date: dt.date,
        end_date: dt.date, business_date: dt.date,
    ) -> Outcome:
        """A project with its category, budget, responsible person and dates (R3 on budgets)."""
        fields: Fields = {
            "project_code": project_code, "name": name, "category": category,
            "budget_fen": budget_fen, "responsible_person": responsible_person,
            "implementing_unit": implementing_unit, "start_date": start_date.isoformat(),
            "end_date": end_date.isoformat(),
        }
        return self._command(
            ctx, "register_project", self.ProjectRegistered, entry_id, business_date, fields,
            lambda: C.check_project(self, ctx.rules, project_code, category,
                                    check_amount_fen(budget_fen, "budget_fen"),
                                    start_date, end_date))

    def adjust_budget(
        self, ctx: Context, entry_id: str, project_code: str, new_budget_fen: int, reason: str,
        approver: str, business_date: dt.date,
    ) -> Outcome:
        """A project's new budget, with reason and approver; never below what was disbursed."""
        project = self.projects.get(project_code)
        fields: Fields = {
            "project_code": project_code,
            "old_budget_fen": project["budget_fen"] if project is not None else 0,
            "new_budget_fen": new_budget_fen, "reason": reason, "approver": approver,
        }
        return self._command(
            ctx, "adjust_budget", self.BudgetAdjusted, entry_id, business_date, fields,
            lambda: C.check_adjustment(self, ctx.rules, C.project_of(self, project_code),
                                       project_code,
                                       check_amount_fen(new_budget_fen, "new_budget_fen")))

    def record_disbursement(
        self, ctx: Context, entry_id: str, project_code: str, amount_fen: int, payee: str,
        voucher_no: str, attachments: list[str], business_date: dt.date,
    ) -> Outcome:
        """R4: ≤ the project's remaining budget and ≤ the county's cash."""
        fields: Fields = {
            "project_code": project_code, "amount_fen": amount_fen, "payee": payee,
            "voucher_no": voucher_no, "attachments": attachments,
        }
        return self._command(
            ctx, "record_disbursement", self.DisbursementRecorded, entry_id, business_date,
            fields, lambda: C.check_disbursement(
                self, project_code, check_amount_fen(amount_fen), business_date))

    def record_expenditure(
        self, ctx: Context, entry_id: str, project_code: str, amount_fen: int, purpose: str,
        invoice_no: str, attachments: list[str], business_date: dt.date,
    ) -> Outcome:
        """R5: ≤ what was disbursed to the project and not yet spent."""
        fields: Fields = {
            "project_code": project_code, "amount_fen": amount_fen, "purpose": purpose,
            "invoice_no": invoice_no, "attachments": attachments,
        }
        return self._command(
            ctx, "record_expenditure", self.ExpenditureRecorded, entry_id, business_date,
            fields, lambda: C.check_expenditure(
                self, project_code, check_amount_fen(amount_fen), business_date))

    def reverse_entry(
        self, ctx: Context, entry_id: str, target_entry_id: str, amount_fen: int, reason: str,
        business_date: dt.date,
    ) -> Outcome:
        """R6: a red-letter reversal (full or partial) of an entry of this county."""
        target = self.entries.get(target_entry_id)
        by_province = (target["kind"] in REVERSIBLE_BY_PROVINCE if target is not None
                       else ctx.actor.role == "province")
        fields: Fields = {
            "target_entry_id": target_entry_id,
            "target_kind": target["kind"] if target is not None else "",
            "amount_fen": amount_fen, "reason": reason,
        }
        return self._command(
            ctx, "reverse_province_entry" if by_province else "reverse_county_entry",
            self.EntryReversed, entry_id, business_date, fields,
            lambda: C.check_reversal(self, target_entry_id, target,
                                     check_amount_fen(amount_fen), business_date))

    def approve_exception(
        self, ctx: Context, entry_id: str, category: str, limit_fen: int, reason: str,
        approver: str, document_no: str, business_date: dt.date,
    ) -> Outcome:
        """An approved ratio exception: the category's budgets may reach `limit_fen`."""
        fields: Fields = {
            "category": category, "limit_fen": limit_fen, "reason": reason,
            "approver": approver, "document_no": document_no,
        }
        return self._command(
            ctx, "approve_exception", self.RatioExceptionApproved, entry_id, business_date,
            fields, lambda: C.check_exception(
                self, ctx.rules, category, check_amount_fen(limit_fen, "limit_fen")))

    def record_recovery(
        self, ctx: Context, entry_id: str, amount_fen: int, reason: str, document_no: str,
        business_date: dt.date,
    ) -> Outcome:
        """收回: the province takes back unused cash (R4: ≤ cash)."""
        fields: Fields = {"amount_fen": amount_fen, "reason": reason, "document_no": document_no}
        return self._command(
            ctx, "record_recovery", self.FundsRecovered, entry_id, business_date, fields,
            lambda: C.check_cash(self, check_amount_fen(amount_fen), business_date, "收回",
                                 "a recovery"))

    def close_year(
        self, ctx: Context, entry_id: str, year: int, business_date: dt.date,
    ) -> Outcome:
        """Period lock: after this, no entry may be dated in `year`."""
        return self._command(ctx, "close_year", self.YearClosed, entry_id, business_date,
                             {"year": year},
                             lambda: C.check_close(self, ctx.rules, year, business_date))

    def submit_monthly_report(
        self, ctx: Context, entry_id: str, period: str, summary: str, business_date: dt.date,
    ) -> Outcome:
        """The monthly progress report for `period` (YYYY-MM), due by the rules' day of the
        next month. A report for a month already reported, with other content, is recorded as
        the month's next version (it supersedes the earlier ones, which stay in the stream);
        an exact retry of any version replays it (`report_submission` says which and when)."""
        fields: Fields = {"period": period, "summary": summary}
        entry_id = self._report_entry_id(ctx, entry_id, business_date, fields)
        return self._command(ctx, "submit_monthly_report", self.MonthlyReportSubmitted,
                             entry_id, business_date, fields,
                             lambda: C.check_report(ctx.rules, period, business_date))

    def _report_entry_id(self, ctx: Context, entry_id: str, business_date: dt.date,
                         fields: Fields) -> str:
        """The id a report is answered or recorded under: `entry_id` unless it names a report
        of the same month; then a version of the month with this very content (a retry), or
        else a new id for the month's next version."""
        existing, period = self.entries.get(entry_id), str(fields["period"])
        if existing is None or existing["kind"] != "report" or existing["ref"] != period:
            return entry_id  # a new id, or another entry's id (R9 judges it)
        versions = self.reports[period]
        for version_id in versions:
            if self.entries[version_id]["fingerprint"] == self._fingerprint(
                    ctx, self.MonthlyReportSubmitted, version_id, business_date, fields):
                return version_id
        number = len(versions) + 1
        while f"report:{period}/v{number}" in self.entries:  # an id a client chose: skip it
            number += 1
        return f"report:{period}/v{number}"

    def report_typical_case(
        self, ctx: Context, entry_id: str, title: str, summary: str, business_date: dt.date,
    ) -> Outcome:
        """A typical case (典型案例), due at least every half year."""
        return self._command(ctx, "report_typical_case", self.TypicalCaseReported, entry_id,
                             business_date, {"title": title, "summary": summary},
                             lambda: None)

    def record_acceptance(
        self, ctx: Context, entry_id: str, conclusion: str, report_no: str, assessor: str,
        business_date: dt.date,
    ) -> Outcome:
        """The third party's acceptance conclusion: exactly one of the rules' two."""
        fields: Fields = {"conclusion": conclusion, "report_no": report_no, "assessor": assessor}
        return self._command(ctx, "record_acceptance", self.AcceptanceRecorded, entry_id,
                             business_date, fields,
                             lambda: C.check_acceptance(self, ctx.rules, conclusion))

    def confirm_acceptance(
        self, ctx: Context, entry_id: str, conclusion: str, business_date: dt.date,
    ) -> Outcome:
        """The city's confirmation of the recorded acceptance conclusion."""
        return self._command(ctx, "confirm_acceptance", self.AcceptanceConfirmed, entry_id,
                             business_date, {"conclusion": conclusion},
                             lambda: C.check_confirmation(self, conclusion))
