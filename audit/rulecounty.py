"""The rule audit's county events: each re-checks the hard rules of its kind against the state
the events before it produced, reports what breaks, and then applies the event as stored
(standard library only; see `audit.ruleaudit`, and docs/audit.md for the rules and codes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from audit.ruledated import DatedBalance
from audit.ruleentries import AMOUNT_BITS, MONEY, REF_BITS, WHERE

REF_MAX = 1 << REF_BITS
AMOUNT_FEN_MAX = 10_000_000_000_000  # docs/rules.md: one entry is at most 100 billion yuan

if TYPE_CHECKING:
    from audit.ruleaudit import RuleAudit, _County

BP_WHOLE = 10_000


# Who may reverse an entry of each kind (R8); other kinds cannot be reversed (R6).
REVERSIBLE = {"appropriation": "province", "recovery": "province", "disbursement": "county",
              "expenditure": "county"}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _y(fen: int) -> str:
    return yuan(fen) + " 元"


def _e(fen: int) -> str:
    return yuan(fen) + " yuan"


# Entry kinds a reversal may name, as stored in the audit's entry table; 0 for any other.
APPROPRIATION, DISBURSEMENT, EXPENDITURE, RECOVERY = 1, 2, 3, 4
KIND_NAMES = {APPROPRIATION: "appropriation", DISBURSEMENT: "disbursement",
              EXPENDITURE: "expenditure", RECOVERY: "recovery"}


def _remember(a: RuleAudit, kind: int, amount: int, ref: int = 0) -> None:
    """What a reversal needs of the current money entry (its slot, key and day number are set
    by `_common`); other entries need only their id, which `_common` stored."""
    if not 0 <= ref < REF_MAX:
        raise ValueError(f"reference {ref} out of the entry table's range")
    cells, at = a.entries.cells, a.slot
    cells[at + MONEY] = amount | kind << AMOUNT_BITS
    cells[at + WHERE] = a.day << REF_BITS | ref


def _project(a: RuleAudit, c: _County, code: str) -> list[Any] | None:
    project = c.projects.get(code)
    if project is None:
        a.bad("reference", "UNKNOWN_PROJECT", f"县 {c.code} 没有项目 {code}",
              f"county {c.code} has no project {code}")
    return project


def appropriation(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    amount, batch = a._amount(d, "amount_fen"), d["batch"]
    if amount is None:
        return
    rules, key = c.rules, batch
    tranche = rules.tranches.get(batch) if rules is not None else None
    if rules is not None and tranche is None:
        a.bad("R2", "BATCH_NOT_OPEN", f"没有第 {batch} 批", f"there is no batch {batch}")
    elif tranche is not None:
        if int(d["business_date"][:4]) != tranche[0]:
            a.bad("R2", "BATCH_NOT_OPEN", f"第 {batch} 批只能在 {tranche[0]} 年下达",
                  f"batch {batch} is issued only in {tranche[0]}")
        if tranche[2] and batch not in c.decided:
            a.bad("R2", "BATCH_NOT_OPEN", f"第 {batch} 批下达之前没有省厅的决定",
                  f"batch {batch} appropriated before the province's decision")
        cap = _tranche_cap(c, batch)
        if c.by_batch.get(batch, 0) + amount > cap:
            a.bad("R2", "TRANCHE_EXCEEDED", f"第 {batch} 批下达超过其额度 {_y(cap)}",
                  f"batch {batch} exceeds its tranche of {_e(cap)}")
    if c.appropriated + amount > c.allocation:
        a.bad("R2", "APPROPRIATION_EXCEEDS_ALLOCATION",
              f"下达合计 {_y(c.appropriated + amount)} 超过分配额 {_y(c.allocation)}",
              f"appropriations total {_e(c.appropriated + amount)}, above the allocation of "
              f"{_e(c.allocation)}")
    c.by_batch[key] = c.by_batch.get(key, 0) + amount
    c.appropriated += amount
    c.cash.move(a.day, amount)
    _remember(a, APPROPRIATION, amount, key)


def _tranche_cap(c: _County, batch: int) -> int:
    """A batch's ceiling: its share of the allocation; the last batch takes the rest."""
    assert c.rules is not None
    tranches = c.rules.tranches
    if batch == len(tranches):
        return c.allocation - sum(_tranche_cap(c, b) for b in range(1, batch))
    return c.allocation * tranches[batch][1] // BP_WHOLE


def decision(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    batch = d["batch"]
    tranche = c.rules.tranches.get(batch) if c.rules is not None else None
    if c.rules is not None and (tranche is None or not tranche[2]):
        a.bad("R2", "INVALID_FIELD", f"第 {batch} 批无需决定", f"batch {batch} needs no decision")
    if batch in c.decided:
        a.bad("R2", "ALREADY_EXISTS", f"第 {batch} 批已有决定",
              f"batch {batch} was already decided")
    c.decided.add(batch)


def _budgets(a: RuleAudit, c: _County, category: str, delta: int) -> None:
    """R3: Σ budgets ≤ allocation; a category's maximum share unless an exception covers it."""
    total = sum(c.budgets.values()) + delta
    if total > c.allocation:
        a.bad("R3", "BUDGETS_EXCEED_ALLOCATION",
              f"项目预算合计 {_y(total)} 超过分配额 {_y(c.allocation)}",
              f"project budgets total {_e(total)}, above the allocation of {_e(c.allocation)}")
    new = c.budgets.get(category, 0) + delta
    high = c.rules.max_bp.get(category) if c.rules is not None else None
    if delta > 0 and high is not None and new * BP_WHOLE > high * c.allocation and \
            new > c.exceptions.get(category, -1):
        a.bad("R3", "CATEGORY_MAX_SHARE_EXCEEDED",
              f"类别 {category} 预算 {_y(new)} 超过分配额的 {high / 100}% 上限，且无已批准的例外",
              f"{category} budgets reach {_e(new)}, above {high / 100}% of the allocation, with "
              "no approved exception covering them")
    c.budgets[category] = new


def project(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    budget, code, category = a._amount(d, "budget_fen"), d["project_code"], d["category"]
    if budget is None:
        return
    if c.rules is not None and category not in c.rules.max_bp:
        a.bad("R3", "INVALID_FIELD", f"未知支持类别 {category}", f"unknown category {category}")
    if code in c.projects:
        a.bad("reference", "ALREADY_EXISTS", f"项目 {code} 重复登记",
              f"project {code} is registered twice")
    _budgets(a, c, category, budget)
    if code not in c.projects:
        c.project_codes.append(code)
    c.projects[code] = [category, budget, 0, DatedBalance(), c.project_codes.index(code)]


def adjustment(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    p, new = _project(a, c, d["project_code"]), a._amount(d, "new_budget_fen")
    if p is None or new is None:
        return
    if d["old_budget_fen"] != p[1]:
        a.bad("integrity", "STORE_INCONSISTENT",
              f"调整前预算记为 {_y(d['old_budget_fen'])}，实为 {_y(p[1])}",
              f"the old budget is stated as {_e(d['old_budget_fen'])}, but was {_e(p[1])}")
    if new < p[2]:
        a.bad("R4", "DISBURSEMENT_EXCEEDS_BUDGET", f"新预算 {_y(new)} 低于已拨付 {_y(p[2])}",
              f"the new budget of {_e(new)} is below the {_e(p[2])} already disbursed")
    _budgets(a, c, p[0], new - p[1])
    p[1] = new


def _money(a: RuleAudit, c: _County, d: dict[str, Any]) -> tuple[list[Any] | None, int | None]:
    """The project and amount of a disbursement or expenditure (None: reported)."""
    p, amount = c.projects.get(d["project_code"]), d.get("amount_fen")
    if p is None:
        p = _project(a, c, d["project_code"])
    if type(amount) is not int or not 0 < amount <= AMOUNT_FEN_MAX:
        amount = a._amount(d, "amount_fen")
    return p, amount


def disbursement(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    p, amount = _money(a, c, d)
    if p is None or amount is None:
        return
    if amount > p[1] - p[2]:
        a.bad("R4", "DISBURSEMENT_EXCEEDS_BUDGET",
              f"拨付 {_y(amount)} 超过项目 {d['project_code']} 剩余预算 {_y(p[1] - p[2])}",
              f"disbursement of {_e(amount)} exceeds project {d['project_code']}'s remaining "
              f"budget of {_e(p[1] - p[2])}")
    day, cash_balance = a.day, c.cash
    cash = cash_balance.total if day >= cash_balance.last else cash_balance.lowest_from(day)
    if amount > cash:
        when = d["business_date"]
        a.bad("R4", "INSUFFICIENT_CASH",
              f"拨付 {_y(amount)} 超过县在 {when} 及其后的可用资金 {_y(cash)}",
              f"disbursement of {_e(amount)} exceeds the county's cash of {_e(cash)} on {when} "
              "and after")
    p[2] += amount
    p[3].move(day, amount)
    cash_balance.move(day, -amount)
    _remember(a, DISBURSEMENT, amount, p[4])


def expenditure(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    p, amount = _money(a, c, d)
    if p is None or amount is None:
        return
    day, unspent_balance = a.day, p[3]
    unspent = unspent_balance.total if day >= unspent_balance.last else \
        unspent_balance.lowest_from(day)
    if amount > unspent:
        when = d["business_date"]
        a.bad("R5", "EXPENDITURE_EXCEEDS_DISBURSED",
              f"支出 {_y(amount)} 超过项目 {d['project_code']} 在 {when} 及其后已拨付未支出的 "
              f"{_y(unspent)}", f"expenditure of {_e(amount)} exceeds project "
              f"{d['project_code']}'s disbursed and unspent {_e(unspent)} on {when} and after")
    unspent_balance.move(day, -amount)
    _remember(a, EXPENDITURE, amount, p[4])


def recovery(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    amount, day = a._amount(d, "amount_fen"), d["business_date"]
    if amount is None:
        return
    cash = c.cash.lowest_from(a.day)
    if amount > cash:
        a.bad("R4", "INSUFFICIENT_CASH",
              f"收回 {_y(amount)} 超过县在 {day} 及其后的可用资金 {_y(cash)}",
              f"recovery of {_e(amount)} exceeds the county's cash of {_e(cash)} on {day} "
              "and after")
    c.cash.move(a.day, -amount)
    _remember(a, RECOVERY, amount)


def reversal(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    """R6: names an entry of this county that can be reversed, not before it, within what is
    left of it, and not taking back money already spent (or, for an appropriation, passed on)."""
    amount, day, target_id = a._amount(d, "amount_fen"), d["business_date"], d["target_entry_id"]
    key = a.entries.key(c.index, target_id) if type(target_id) is str else 0
    target = a.entries.get(key) if key else None
    if target is None or target[0] not in KIND_NAMES:
        a.bad("R6", "REVERSAL_TARGET_INVALID", f"县 {c.code} 没有可冲销的条目 {target_id}",
              f"county {c.code} has no reversible entry {target_id}")
        return
    kind_code, target_amount, target_day, ref = target
    kind = KIND_NAMES[kind_code]
    a._actor(d, REVERSIBLE[kind], c.code)
    if amount is None:
        return
    if d["target_kind"] != kind:
        a.bad("integrity", "STORE_INCONSISTENT",
              f"冲销记录的原条目类型为 {d['target_kind']}，实为 {kind}",
              f"the reversal states its target is a {d['target_kind']}; it is a {kind}")
    if a.day < target_day:
        a.bad("R6", "REVERSAL_TARGET_INVALID", f"冲销日期 {day} 早于原条目日期",
              f"reversal dated {day} precedes its entry's date")
    left = target_amount - a.reversed.get(key, 0)
    if amount > left:
        a.bad("R6", "REVERSAL_EXCEEDS_ENTRY",
              f"冲销 {_y(amount)} 超过条目 {target_id} 未冲销的 {_y(left)}",
              f"reversal of {_e(amount)} exceeds the {_e(left)} of entry "
              f"{target_id} not yet reversed")
    a.reversed[key] = a.reversed.get(key, 0) + amount
    _undo(a, c, kind_code, ref, amount, day)


def _undo(a: RuleAudit, c: _County, kind: int, ref: int, amount: int, day: str) -> None:
    if kind == APPROPRIATION:
        cash = c.cash.lowest_from(a.day)
        if amount > cash:
            a.bad("R4", "INSUFFICIENT_CASH",
                  f"冲销下达 {_y(amount)} 超过县在 {day} 及其后的可用资金 {_y(cash)}",
                  f"reversing {_e(amount)} of appropriation exceeds the county's cash of "
                  f"{_e(cash)} on {day} and after")
        c.by_batch[ref] -= amount
        c.appropriated -= amount
        c.cash.move(a.day, -amount)
    elif kind == RECOVERY:
        c.cash.move(a.day, amount)
    else:
        code = c.project_codes[ref]
        p = c.projects[code]
        if kind == DISBURSEMENT:
            unspent = p[3].lowest_from(a.day)
            if amount > unspent:
                a.bad("R6", "REVERSAL_BELOW_SPENT",
                      f"冲销 {_y(amount)} 将低于项目 {code} 已支出金额（在 {day} 及其后未支出仅 "
                      f"{_y(unspent)}）", f"reversal of {_e(amount)} would go below what "
                      f"project {code} already spent (unspent on {day} and after: "
                      f"{_e(unspent)})")
            p[2] -= amount
            p[3].move(a.day, -amount)
            c.cash.move(a.day, amount)
        else:
            p[3].move(a.day, amount)


def exception(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    limit, category = a._amount(d, "limit_fen"), d["category"]
    if limit is None:
        return
    high = c.rules.max_bp.get(category) if c.rules is not None else None
    if c.rules is not None and high is None:
        a.bad("R3", "INVALID_FIELD", f"类别 {category} 没有上限，无需例外",
              f"category {category} has no maximum share to except from")
    if limit > c.allocation:
        a.bad("R3", "BUDGETS_EXCEED_ALLOCATION", "例外额度超过分配额",
              "the exception limit exceeds the allocation")
    budgeted = c.budgets.get(category, 0)
    if high is not None and budgeted * BP_WHOLE > high * c.allocation and limit < budgeted:
        a.bad("R3", "CATEGORY_MAX_SHARE_EXCEEDED",
              f"例外额度 {_y(limit)} 低于该类别已登记预算 {_y(budgeted)}",
              f"the exception limit of {_e(limit)} is below the {_e(budgeted)} already "
              "budgeted in the category")
    c.exceptions[category] = limit


def close(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    year = d["year"]
    if (c.rules is not None and year not in c.rules.years) or year in c.closed:
        a.bad("R7", "INVALID_FIELD", f"{year} 年度不在项目期内或已结账",
              f"year {year} is outside the programme or already closed")
    if int(d["business_date"][:4]) <= year:
        a.bad("R7", "INVALID_FIELD", f"{year} 年度在年内被结账", f"year {year} is closed before "
              "it ends")
    c.closed.add(year)


def report(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    """A month's report, after the month ends, within the programme; any number of versions."""
    period = d["period"]
    year, month = int(period[:4]), int(period[5:])
    after = f"{year + month // 12:04d}-{month % 12 + 1:02d}-01"
    if len(period) != 7 or not 1 <= month <= 12 or d["business_date"] < after or (
            c.rules is not None and year not in c.rules.years):
        a.bad("R7", "INVALID_FIELD", f"{period} 月报须在该月结束后、项目期内报送",
              f"the report for {period} is submitted after the month ends, within the programme")
    # A second report of a month is its next version (a correction), not a duplicate: both
    # stay in the stream. Its entry id is new in the county, which `_common` checks (R9).
    c.reports[period] = c.reports.get(period, 0) + 1


def typical_case(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    """Nothing to check beyond what every entry is checked for."""


def acceptance(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    conclusion = d["conclusion"]
    if c.rules is not None and conclusion not in c.rules.conclusions:
        a.bad("input", "INVALID_FIELD", f"验收结论 {conclusion} 不是规则所列之一",
              f"the acceptance conclusion {conclusion} is not one the rules allow")
    if c.acceptance:
        a.bad("reference", "ALREADY_EXISTS", "验收结论重复记录", "a second acceptance conclusion")
    c.acceptance = [conclusion, False]


def confirmation(a: RuleAudit, c: _County, d: dict[str, Any]) -> None:
    if not c.acceptance or c.acceptance[0] != d["conclusion"]:
        a.bad("input", "INVALID_FIELD", "确认的结论与已记录的验收结论不符或尚无验收结论",
              "no acceptance recorded, or the confirmed conclusion differs")
    elif c.acceptance[1]:
        a.bad("reference", "ALREADY_EXISTS", "验收结果重复确认",
              "the acceptance is confirmed twice")
    else:
        c.acceptance[1] = True


HANDLERS: dict[str, Callable[[Any, Any, dict[str, Any]], None]] = {
    f"CountyFund.{name}": handler for name, handler in (
        ("AppropriationReceived", appropriation), ("BatchDecided", decision),
        ("ProjectRegistered", project), ("BudgetAdjusted", adjustment),
        ("DisbursementRecorded", disbursement), ("ExpenditureRecorded", expenditure),
        ("EntryReversed", reversal), ("RatioExceptionApproved", exception),
        ("FundsRecovered", recovery), ("YearClosed", close),
        ("MonthlyReportSubmitted", report), ("TypicalCaseReported", typical_case),
        ("AcceptanceRecorded", acceptance), ("AcceptanceConfirmed", confirmation))}
