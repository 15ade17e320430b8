"""`fundledger demo`: builds the GD-2020 programme with synthetic data through the same
application service a user writes through (every rule is checked; nothing bypasses it).

Each county's history is simulated month by month and imported one month per transaction.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api import demo_data as D
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.rules import packaged_rules

DEMO_SEED = 2020
DISBURSEMENTS_PER_MONTH = 45
REVERSAL_CHANCE = 0.025
PROVINCE = Actor("demo-province-1", "province", "440000")
MONTHS_2020 = [(2020, m) for m in range(6, 13)]
MONTHS_2021 = [(2021, m) for m in range(2, 13)]
Item = tuple[dict[str, Any], Actor]


@dataclass
class CountyPlan:
    code: str
    name: str
    allocation_fen: int
    rng: random.Random
    county: Actor = field(init=False)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    cash_fen: int = 0
    disbursed_by_year: dict[int, int] = field(default_factory=dict)
    disbursements: list[dict[str, Any]] = field(default_factory=list)
    n: int = 0

    def __post_init__(self) -> None:
        self.county = Actor(f"demo-county-{self.code}", "county", self.code)

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{self.code}-{prefix}-{self.n:05d}"

    def cmd(self, kind: str, day: dt.date, **fields: Any) -> dict[str, Any]:
        return {"kind": kind, "programme": D.PROGRAMME, "county_code": self.code,
                "business_date": day.isoformat(), **fields}


def _day(rng: random.Random, year: int, month: int, lo: int = 1, hi: int = 28) -> dt.date:
    return dt.date(year, month, rng.randint(lo, hi))


def _register_projects(plan: CountyPlan) -> list[Item]:
    shares = D.PLAN_BP.get(plan.code, D.PLAN_BP["default"])
    categories = ("rural_products_online", "public_services", "training")
    items: list[Item] = []
    for category, share_bp in zip(categories, shares, strict=True):
        names = D.PROJECT_NAMES[category]
        total_yuan = plan.allocation_fen * share_bp // 10_000 // 100
        weights = [plan.rng.uniform(0.6, 1.4) for _ in names]
        budgets = [int(total_yuan * w / sum(weights)) for w in weights]
        budgets[-1] += total_yuan - sum(budgets)
        for i, (name, budget) in enumerate(zip(names, budgets, strict=True)):
            code = f"{category[:2].upper()}{i + 1:02d}"
            plan.projects[code] = {"budget": budget * 100, "disbursed": 0, "expended": 0}
            items.append((plan.cmd(
                "project", dt.date(2020, 4, 20), project_code=code, name=f"{plan.name}{name}",
                category=category, budget_fen=budget * 100,
                responsible_person=f"负责人{plan.rng.randint(1, 40):02d}",
                implementing_unit=f"{plan.name}商务局", start_date="2020-05-01",
                end_date="2021-12-31"), plan.county))
    return items


def _appropriate(plan: CountyPlan, batch: int, amount_fen: int, day: dt.date) -> Item:
    plan.cash_fen += amount_fen
    return (plan.cmd("appropriation", day, entry_id=plan.next_id("A"), batch=batch,
                     amount_fen=amount_fen, document_no=f"粤商务建字〔{day.year}〕{batch}号"),
            PROVINCE)


def _month_of_spending(plan: CountyPlan, year: int, month: int, target_fen: int) -> list[Item]:
    """One month's disbursements (with their expenditures and a few reversals)."""
    rng, items = plan.rng, []
    per = max(1, target_fen // DISBURSEMENTS_PER_MONTH)
    for _ in range(DISBURSEMENTS_PER_MONTH):
        open_projects = [c for c, p in plan.projects.items() if p["budget"] > p["disbursed"]]
        if not open_projects or plan.cash_fen <= 0:
            break
        code = rng.choice(open_projects)
        p = plan.projects[code]
        amount = min(int(per * rng.uniform(0.5, 1.5)), p["budget"] - p["disbursed"], plan.cash_fen)
        if amount <= 0:
            continue
        day = _day(rng, year, month, 1, 20)
        entry = plan.next_id("D")
        items.append((plan.cmd("disbursement", day, entry_id=entry, project_code=code,
                               amount_fen=amount, payee=rng.choice(D.PAYEES),
                               voucher_no=f"PZ{year}{month:02d}{plan.n:05d}",
                               attachments=[f"{rng.getrandbits(256):064x}"]), plan.county))
        p["disbursed"] += amount
        plan.cash_fen -= amount
        plan.disbursed_by_year[year] = plan.disbursed_by_year.get(year, 0) + amount
        if rng.random() < REVERSAL_CHANCE:
            back = amount * rng.randint(10, 50) // 100
            if back > 0:
                items.append((plan.cmd("reversal", day, entry_id=plan.next_id("R"),
                                       target_entry_id=entry, amount_fen=back,
                                       reason="凭证金额录入错误，红字冲销"), plan.county))
                p["disbursed"] -= back
                plan.cash_fen += back
                plan.disbursed_by_year[year] -= back
                amount -= back
        spend = amount * rng.randint(70, 100) // 100
        if spend > 0:
            items.append((plan.cmd("expenditure", day + dt.timedelta(days=rng.randint(0, 7)),
                                   entry_id=plan.next_id("E"), project_code=code,
                                   amount_fen=spend, purpose="项目建设支出",
                                   invoice_no=f"FP{year}{month:02d}{plan.n:05d}"), plan.county))
            p["expended"] += spend
        plan.disbursements.append({"entry": entry, "project": code, "left": amount})
    return items


def _reports(plan: CountyPlan, months: list[tuple[int, int]]) -> list[Item]:
    items: list[Item] = []
    for year, month in months:
        if plan.code == D.LAGS_2020 and month in (8, 11):
            continue  # missing reports: the duties calendar shows them
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        late = plan.rng.random() < 0.1
        day = nxt.replace(day=plan.rng.randint(6, 12) if late else plan.rng.randint(1, 4))
        items.append((plan.cmd("monthly_report", day, period=f"{year}-{month:02d}",
                               summary=f"{plan.name}{year}年{month}月示范创建进展（演示数据）"),
                      plan.county))
    return items


def _correction_2021(plan: CountyPlan) -> list[Item]:
    """A 2020 disbursement corrected after the 2020 close: a reversal dated in 2021."""
    for d in plan.disbursements:
        p = plan.projects[d["project"]]
        amount = min(d["left"] // 5, p["disbursed"] - p["expended"])
        if amount > 0:
            p["disbursed"] -= amount
            plan.cash_fen += amount
            d["left"] -= amount
            return [(plan.cmd("reversal", dt.date(2021, 2, 1), entry_id=plan.next_id("R"),
                              target_entry_id=d["entry"], amount_fen=amount,
                              reason="更正2020年度拨付（跨年度红字冲销，引用原条目）"),
                     plan.county)]
    return []


def county_history(plan: CountyPlan) -> list[Item]:
    """The whole simulated 2020-2022 history of one county, in the order it is entered."""
    rng, items = plan.rng, []
    if plan.code == D.HAS_EXCEPTION:
        items.append((plan.cmd("ratio_exception", dt.date(2020, 4, 10),
                               category="public_services",
                               limit_fen=plan.allocation_fen * 55 // 100,
                               reason="县级物流配送中心建设需要", approver="省商务厅分管领导",
                               document_no="粤商务建函〔2020〕88号"), PROVINCE))
    items += _register_projects(plan)
    batch1 = plan.allocation_fen // 2
    items.append(_appropriate(plan, 1, batch1, dt.date(2020, 5, 15)))
    rate = 0.45 if plan.code == D.LAGS_2020 else rng.uniform(0.95, 0.995)
    for year, month in MONTHS_2020:
        items += _month_of_spending(plan, year, month, int(batch1 * rate / len(MONTHS_2020)))
    items += _reports(plan, [(2020, m) for m in range(5, 13)])
    items.append((plan.cmd("typical_case", dt.date(2020, 7, 10),
                           title=f"{plan.name}电商扶贫典型案例",
                           summary="演示数据"), plan.county))
    items.append((plan.cmd("year_close", dt.date(2021, 1, 15), year=2020), PROVINCE))
    items += _correction_2021(plan)
    # February spends only what 2020 carried over: batch 2 arrives on 1 March.
    batch2 = 0 if plan.code == D.LAGS_2020 else plan.allocation_fen - batch1
    target_2021 = int((plan.cash_fen + batch2) * (0.5 if plan.code == D.LAGS_2020 else 0.97))
    for year, month in MONTHS_2021:
        if (year, month) == (2021, 3) and batch2:
            items.append((plan.cmd("batch_decision", dt.date(2021, 2, 25), batch=2,
                                   document_no="粤商务建字〔2021〕2号"), PROVINCE))
            items.append(_appropriate(plan, 2, batch2, dt.date(2021, 3, 1)))
        month_target = target_2021 // len(MONTHS_2021)
        items += _month_of_spending(plan, year, month, month_target)
    items += _reports(plan, [(2021, m) for m in range(1, 13)])
    for day in (dt.date(2021, 1, 10), dt.date(2021, 7, 10)):
        items.append((plan.cmd("typical_case", day, title=f"{plan.name}典型案例{day:%Y%m}",
                               summary="演示数据"), plan.county))
    items += _acceptance(plan)
    if plan.code == D.LAGS_2020 and plan.cash_fen > 0:
        items.append((plan.cmd("recovery", dt.date(2022, 1, 10), entry_id=plan.next_id("H"),
                               amount_fen=plan.cash_fen, reason="未执行资金收回",
                               document_no="粤商务建字〔2022〕3号"), PROVINCE))
        plan.cash_fen = 0
    items.append((plan.cmd("year_close", dt.date(2022, 1, 20), year=2021), PROVINCE))
    return items


def _acceptance(plan: CountyPlan) -> list[Item]:
    city = plan.code[:4] + "00"
    conclusion = "验收不合格" if plan.code == D.FAILS_ACCEPTANCE else "验收合格"
    auditor = Actor(f"demo-auditor-{city}", "auditor", city)
    return [
        (plan.cmd("acceptance", dt.date(2021, 12, 10), conclusion=conclusion,
                  report_no=f"验收〔2021〕{plan.code}", assessor="某会计师事务所（演示）"),
         auditor),
        (plan.cmd("acceptance_confirmation", dt.date(2021, 12, 20), conclusion=conclusion),
         Actor(f"demo-city-{city}", "city", city)),
    ]


IMPORT_CHUNK_ITEMS = 400


def build_demo(app: FundLedger, progress: Callable[[str, int], None] | None = None,
               seed: int = DEMO_SEED) -> dict[str, Any]:
    """Build the demo into an empty ledger; return what was built."""
    started = time.perf_counter()
    rules = packaged_rules(D.PROGRAMME)
    total_fen = sum(a for _, _, a in D.COUNTIES) * 100
    app.open_programme(rules, total_fen, PROVINCE, dt.date(2020, 3, 1))
    plans = []
    for code, name, allocation in D.COUNTIES:
        app.admit_county(D.PROGRAMME, code, name, allocation * 100, "粤商务建字〔2020〕1号",
                         PROVINCE, dt.date(2020, 3, 20))
        plans.append(CountyPlan(code, name, allocation * 100, random.Random(f"{seed}-{code}")))
    money_events = 0
    for plan in plans:
        items = county_history(plan)
        for i in range(0, len(items), IMPORT_CHUNK_ITEMS):
            app.import_entries(items[i:i + IMPORT_CHUNK_ITEMS])
        money_events += sum(1 for p, _ in items if p["kind"] in (
            "appropriation", "disbursement", "expenditure", "reversal", "recovery"))
        if progress is not None:
            progress(plan.name, len(items))
    return {
        "programme": D.PROGRAMME,
        "counties": [_county_summary(app, p) for p in plans],
        "money_events": money_events,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _county_summary(app: FundLedger, plan: CountyPlan) -> dict[str, Any]:
    fund = app.county(D.PROGRAMME, plan.code)
    batch1 = fund.by_batch.get("1", 0)
    notes = {D.BREAKS_MIN_SHARE: "培训类预算低于10%下限 / training below its 10% minimum",
             D.LAGS_2020: "2020年执行滞后，未获第二批 / 2020 execution lags; no batch 2",
             D.HAS_EXCEPTION: "公共服务体系超50%，已批准例外 / public services above 50% "
                              "under an approved exception",
             D.FAILS_ACCEPTANCE: "验收不合格 / acceptance failed"}
    return {
        "county_code": plan.code, "county_name": plan.name,
        "allocation_fen": fund.allocation_fen, "appropriated_fen": fund.appropriated_fen,
        "batch2_fen": fund.by_batch.get("2", 0),
        "budget_by_category_fen": dict(fund.budget_by_category),
        "disbursed_fen": fund.disbursed_fen, "expended_fen": fund.expended_fen,
        "recovered_fen": fund.recovered_fen, "cash_fen": fund.cash_fen,
        "execution_2020_bp": plan.disbursed_by_year.get(2020, 0) * 10_000 // batch1
        if batch1 else 0,
        "projects": len(fund.projects), "events": fund.version,
        "note": notes.get(plan.code, ""),
    }
