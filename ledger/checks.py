"""The hard rules of a county, checked against its state before an event is recorded (R2–R7),
and the one check of a business date that every write path uses (R7).

Each refusal is a templated error (`ledger.errors`) whose details carry the numbers the rule
compared, in fen and as grouped yuan: the amount asked, the limit and what is left of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from ledger import errors as E
from ledger.county_state import CountyState, Entry, Project, budgets_floor, month_after
from ledger.money import format_yuan
from ledger.rules import BP_WHOLE, ProgrammeRules


def yuan(fen: int) -> str:
    """Fen as grouped yuan, for a message: "10,000,000.00"."""
    return format_yuan(fen, grouped=True)


def amounts(**fen: int) -> dict[str, int | str]:
    """Each amount as `<name>_fen` and `<name>_yuan` ("10,000,000.00"), for an error's details."""
    out: dict[str, int | str] = {}
    for name, value in fen.items():
        out[f"{name}_fen"] = value
        out[f"{name}_yuan"] = yuan(value)
    return out


def check_business_date(day: dt.date, today: dt.date, rules: ProgrammeRules | None = None,
                        closed_years: Collection[int] = ()) -> None:
    """R7: within the programme period (when the rules are known), not after today, not in a
    closed year. The programme's own opening has no period yet: only the future is refused."""
    shown = day.isoformat()
    if rules is not None and not rules.period_start <= day <= rules.period_end:
        start, end = rules.period_start.isoformat(), rules.period_end.isoformat()
        raise E.DateOutsidePeriod.of(
            "business_date", business_date=shown, period_start=start, period_end=end,
            reason_zh=f"不在项目期 {start} 至 {end} 内",
            reason_en=f"is outside the programme period {start}..{end}")
    if day > today:
        raise E.DateOutsidePeriod.of(
            "business_date", business_date=shown, today=today.isoformat(),
            reason_zh=f"晚于今天 {today}", reason_en=f"is in the future (today is {today})")
    if day.year in closed_years:
        raise E.PeriodClosed.of("business_date", year=day.year, business_date=shown)


def project_of(state: CountyState, code: str) -> Project:
    project = state.projects.get(code)
    if project is None:
        raise E.UnknownProject.of("project_code", county_code=state.county_code,
                                  project_code=code)
    return project


def check_appropriation(state: CountyState, rules: ProgrammeRules, batch: int,
                        amount_fen: int, day: dt.date) -> None:
    """R2: appropriations ≤ allocation, each batch ≤ its tranche, in its year, decided."""
    tranche = rules.tranche(batch)
    if tranche is None:
        raise E.InvalidField(f"没有第 {batch} 批", f"there is no batch {batch}", "batch")
    if day.year != tranche.year:
        raise E.BatchNotOpen.of("business_date", batch=batch, year=tranche.year,
                                business_date=day.isoformat(),
                                reason_zh=f"只能在 {tranche.year} 年下达",
                                reason_en=f"it is issued only in {tranche.year}")
    if tranche.requires_decision and batch not in state.decided_batches:
        county = state.county_code
        raise E.BatchNotOpen.of("batch", batch=batch, county_code=county,
                                reason_zh=f"省厅尚未对县 {county} 作出该批资金决定",
                                reason_en=f"the province has not recorded its decision on it "
                                f"for county {county}")
    used, limit = state.appropriated_fen, state.allocation_fen
    if used + amount_fen > limit:
        raise E.AppropriationExceedsAllocation.of("amount_fen", **amounts(
            amount=amount_fen, total=used + amount_fen, limit=limit, used=used,
            left=limit - used))
    cap, in_batch = state.tranche_cap(rules, batch), state.by_batch.get(str(batch), 0)
    if in_batch + amount_fen > cap:
        raise E.TrancheExceeded.of("amount_fen", batch=batch, **amounts(
            amount=amount_fen, limit=cap, used=in_batch, left=max(cap - in_batch, 0)))


def check_budgets(state: CountyState, rules: ProgrammeRules, category: str,
                  delta_fen: int) -> None:
    """R3: Σ budgets ≤ allocation; a category's maximum share unless an exception covers it."""
    used, limit = state.budgeted_fen, state.allocation_fen
    if used + delta_fen > limit:
        raise E.BudgetExceedsAllocation.of(
            "budget_fen", what_zh="项目预算合计", what_en="project budgets", **amounts(
            amount=delta_fen, total=used + delta_fen, limit=limit, used=used,
            left=max(limit - used, 0)))
    cat = rules.category(category)
    in_category = state.budget_by_category.get(category, 0)
    if cat is None or cat.max_share_bp is None or delta_fen <= 0:
        return
    if (in_category + delta_fen) * BP_WHOLE <= cat.max_share_bp * limit:
        return
    exception = state.exceptions.get(category)
    ceiling = limit * cat.max_share_bp // BP_WHOLE
    if exception is not None:
        if in_category + delta_fen <= exception["limit_fen"]:
            return
        ceiling = max(ceiling, exception["limit_fen"])
    raise E.CategoryShareExceeded.of(
        "budget_fen", category=category, category_zh=cat.name_zh, category_en=cat.name_en,
        share_percent=f"{cat.max_share_bp / 100:g}", **amounts(
            amount=delta_fen, total=in_category + delta_fen, limit=ceiling,
            used=in_category, left=max(ceiling - in_category, 0)))


def check_decision(state: CountyState, rules: ProgrammeRules, batch: int) -> None:
    """The province decides a batch that needs a decision (batch 2), once."""
    tranche = rules.tranche(batch)
    if tranche is None or not tranche.requires_decision:
        raise E.InvalidField(f"第 {batch} 批无需决定", f"batch {batch} needs no decision",
                             "batch")
    if batch in state.decided_batches:
        raise E.AlreadyExists.of("batch", what_zh=f"第 {batch} 批的决定",
                                 what_en=f"the batch {batch} decision")


def check_project(state: CountyState, rules: ProgrammeRules, project_code: str, category: str,
                  budget_fen: int, start_date: dt.date, end_date: dt.date) -> None:
    """A new project of a known category, with its dates in order, within R3."""
    if rules.category(category) is None:
        known = ", ".join(c.id for c in rules.categories)
        raise E.InvalidField(f"未知支持类别 {category}",
                             f"unknown category {category} (expected one of {known})",
                             "category")
    if project_code in state.projects:
        raise E.AlreadyExists.of("project_code", what_zh=f"项目 {project_code}",
                                 what_en=f"project {project_code}")
    if start_date > end_date:
        raise E.InvalidField("开始日期晚于结束日期", "start_date is after end_date",
                             "start_date")
    check_budgets(state, rules, category, budget_fen)


def check_adjustment(state: CountyState, rules: ProgrammeRules, project: Project,
                     project_code: str, new_budget_fen: int) -> None:
    """A new budget is never below what was disbursed (R4), and keeps R3."""
    if new_budget_fen < project["disbursed_fen"]:
        used = project["disbursed_fen"]
        raise E.DisbursementExceedsBudget.of(
            "new_budget_fen", project_code=project_code,
            reason_zh=f"新预算 {yuan(new_budget_fen)} 元低于已拨付的 {yuan(used)} 元",
            reason_en=f"the new budget of {yuan(new_budget_fen)} yuan is below the "
            f"{yuan(used)} yuan already disbursed",
            **amounts(amount=new_budget_fen, limit=project["budget_fen"], used=used))
    check_budgets(state, rules, project["category"], new_budget_fen - project["budget_fen"])


def check_cash(state: CountyState, amount_fen: int, day: dt.date, what_zh: str,
               what_en: str) -> None:
    """R4: ≤ the county's cash on the entry's date and every day after it."""
    cash = state.cash_on(day)
    if amount_fen > cash:
        raise E.InsufficientCash.of("amount_fen", what_zh=what_zh, what_en=what_en,
                                    business_date=day.isoformat(),
                                    **amounts(amount=amount_fen, left=cash, cash=cash))


def check_disbursement(state: CountyState, project_code: str, amount_fen: int,
                       day: dt.date) -> None:
    """R4: ≤ the project's remaining budget and ≤ the county's cash."""
    project = project_of(state, project_code)
    budget, used = project["budget_fen"], project["disbursed_fen"]
    if amount_fen > budget - used:
        left = budget - used
        raise E.DisbursementExceedsBudget.of(
            "amount_fen", project_code=project_code,
            reason_zh=f"拨付 {yuan(amount_fen)} 元超过剩余预算 {yuan(left)} 元",
            reason_en=f"a disbursement of {yuan(amount_fen)} yuan exceeds the remaining "
            f"budget of {yuan(left)} yuan",
            **amounts(amount=amount_fen, limit=budget, used=used, left=left))
    check_cash(state, amount_fen, day, "拨付", "a disbursement")


def check_expenditure(state: CountyState, project_code: str, amount_fen: int,
                      day: dt.date) -> None:
    """R5: ≤ what was disbursed to the project and not yet spent, on its date and after."""
    unspent = state.unspent_on(project_of(state, project_code), day)
    if amount_fen > unspent:
        raise E.ExpenditureExceedsDisbursed.of(
            "amount_fen", project_code=project_code, business_date=day.isoformat(),
            **amounts(amount=amount_fen, left=unspent, unspent=unspent))


def check_reversal(state: CountyState, target_entry_id: str, target: Entry | None,
                   amount_fen: int, day: dt.date) -> None:
    """R6: an entry of this county that can be reversed, not before it, within what is left
    of it; money already spent cannot be un-disbursed, money passed on not un-appropriated."""
    if target is None or target["kind"] not in (
            "appropriation", "disbursement", "expenditure", "recovery"):
        county = state.county_code
        raise E.ReversalTargetInvalid.of(
            "target_entry_id", county_code=county, target_entry_id=target_entry_id,
            reason_zh=f"县 {county} 没有这一可冲销的条目（可冲销：下达、拨付、支出、收回）",
            reason_en=f"county {county} has no such reversible entry (appropriations, "
            "disbursements, expenditures and recoveries can be reversed)")
    if day.isoformat() < target["business_date"]:
        raise E.ReversalTargetInvalid.of(
            "business_date", business_date=day.isoformat(), target_entry_id=target_entry_id,
            target_date=target["business_date"],
            reason_zh=f"冲销日期 {day} 早于原条目日期 {target['business_date']}",
            reason_en=f"the reversal dated {day} precedes its entry's date "
            f"{target['business_date']}")
    entry, done = target["amount_fen"], target["reversed_fen"]
    if amount_fen > entry - done:
        raise E.ReversalExceedsEntry.of("amount_fen", target_entry_id=target_entry_id,
                                        **amounts(amount=amount_fen, limit=entry, used=done,
                                                  left=entry - done))
    if target["kind"] == "disbursement":
        unspent = state.unspent_on(state.projects[target["ref"]], day)
        if amount_fen > unspent:
            raise E.ReversalBelowSpent.of("amount_fen", project_code=target["ref"],
                                          business_date=day.isoformat(),
                                          **amounts(amount=amount_fen, left=unspent,
                                                    unspent=unspent))
    elif target["kind"] == "appropriation":
        check_cash(state, amount_fen, day, "冲销下达", "reversing an appropriation")


def check_exception(state: CountyState, rules: ProgrammeRules, category: str,
                    limit_fen: int) -> None:
    """A ratio exception: for a category with a maximum share, within the allocation, and
    covering what is already budgeted above the share."""
    cat = rules.category(category)
    if cat is None or cat.max_share_bp is None:
        raise E.InvalidField(f"类别 {category} 没有上限，无需例外",
                             f"category {category} has no maximum share to except from",
                             "category")
    if limit_fen > state.allocation_fen:
        raise E.BudgetExceedsAllocation.of(
            "limit_fen", what_zh="例外额度", what_en="the exception limit", **amounts(
                amount=limit_fen, total=limit_fen, limit=state.allocation_fen,
                left=state.allocation_fen))
    budgeted = state.budget_by_category.get(category, 0)
    if limit_fen < budgets_floor(cat.max_share_bp, state.allocation_fen, budgeted):
        raise E.InvalidField(
            f"例外额度 {yuan(limit_fen)} 元低于该类别已登记预算 "
            f"{yuan(budgeted)} 元",
            f"the exception limit of {yuan(limit_fen)} yuan is below "
            f"the {yuan(budgeted)} yuan already budgeted in the category",
            "limit_fen", **amounts(amount=limit_fen, used=budgeted))


def check_close(state: CountyState, rules: ProgrammeRules, year: int, day: dt.date) -> None:
    """Period lock: a programme year not yet closed, closed after it ends."""
    if year not in rules.years or year in state.closed_years:
        raise E.InvalidField(f"{year} 年度不在项目期内或已结账",
                             f"year {year} is outside the programme or already closed", "year")
    if day.year <= year:
        raise E.InvalidField(f"结账日期须在 {year} 年之后",
                             f"a year is closed after it ends: the business date must be "
                             f"after {year}", "business_date")


def check_report(rules: ProgrammeRules, period: str, day: dt.date) -> None:
    """A monthly report is for a month of the programme, given after that month ends."""
    if day < month_after(period) or int(period[:4]) not in rules.years:
        raise E.InvalidField(f"{period} 月报须在该月结束后、项目期内报送",
                             f"the report for {period} is submitted after the month ends, "
                             "within the programme", "period")


def check_acceptance(state: CountyState, rules: ProgrammeRules, conclusion: str) -> None:
    """Exactly one of the rules' conclusions, recorded once."""
    if conclusion not in rules.acceptance_conclusions:
        allowed = " / ".join(rules.acceptance_conclusions)
        raise E.InvalidField(f"验收结论须为 {allowed}",
                             f"the acceptance conclusion must be one of {allowed}", "conclusion")
    if state.acceptance is not None:
        raise E.AlreadyExists.of("conclusion", what_zh="验收结论",
                                 what_en="an acceptance conclusion")


def check_confirmation(state: CountyState, conclusion: str) -> None:
    """The city confirms the conclusion recorded, once."""
    if state.acceptance is None or state.acceptance["conclusion"] != conclusion:
        raise E.InvalidField("确认的结论与已记录的验收结论不符或尚无验收结论",
                             "no acceptance recorded, or the confirmed conclusion differs",
                             "conclusion")
    if state.acceptance["confirmed"]:
        raise E.AlreadyExists.of("conclusion", what_zh="验收结果的确认",
                                 what_en="the acceptance's confirmation")
