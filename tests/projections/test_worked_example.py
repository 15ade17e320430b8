"""The worked example of docs/rules.md, number for number, on SQLite and PostgreSQL: 丰顺县
(441423) and 连山壮族瑶族自治县 (441825) of the GD-2020 demo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from projections.model import AsOf
from projections.report import CountyStatus
from projections.service import Views
from tests.projections.demo_county import build_demo_county

PROGRAMME = "gd-2020-ecrural"


def shares(s: CountyStatus, basis: str) -> dict[str, tuple[int, int, str]]:
    return {c.category: (c.amount_fen, c.share_bp, c.status) for c in s.compliance
            if c.basis == basis}


def execution(s: CountyStatus, year: int) -> tuple[int, ...]:
    e = next(e for e in s.execution if e.year == year)
    return (e.carry_in_fen, e.appropriated_fen, e.available_fen, e.disbursed_fen,
            e.recovered_fen, e.carry_out_fen, e.rate_bp or 0)


@pytest.fixture
def fengshun(make_app: Any) -> Views:
    app = make_app()
    build_demo_county(app, "441423")
    views = Views(app)
    views.catch_up()
    return views


def test_fengshun_shares_execution_and_carry_over(fengshun: Views) -> None:
    """Plan and actual shares, 2020 and 2021 execution, the cross-year correction."""
    end_2020 = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2020, 12, 31)))
    end_2021 = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 12, 31)))
    assert shares(end_2020, "plan") == {
        "rural_products_online": (380_000_000, 3800, "ok"),
        "public_services": (490_000_000, 4900, "ok"), "training": (120_000_000, 1200, "ok")}
    assert shares(end_2020, "actual") == {
        "rural_products_online": (186_886_501, 1868, "below_min"),
        "public_services": (177_043_244, 1770, "ok"), "training": (120_000_000, 1200, "ok")}
    assert shares(end_2021, "actual") == {
        "rural_products_online": (378_610_450, 3786, "ok"),
        "public_services": (439_704_994, 4397, "ok"), "training": (120_000_000, 1200, "ok")}
    gross = sum(b.disbursed_fen for b in end_2020.balances if b.year == 2020)
    reversed_2020 = sum(b.disbursed_reversed_fen for b in end_2020.balances if b.year == 2020)
    assert (gross, reversed_2020) == (485_478_092, 1_548_347)
    assert execution(end_2020, 2020) == (0, 500_000_000, 500_000_000, 483_929_745, 0,
                                         16_070_255, 9678)
    assert next(e for e in end_2020.execution).status_zh == "未执行完毕（执行较好）"
    assert execution(end_2021, 2021) == (16_070_255, 500_000_000, 516_070_255, 454_385_699, 0,
                                         61_684_556, 8804)
    training_2021 = next(b for b in end_2021.balances
                         if b.year == 2021 and b.category == "training")
    assert training_2021.disbursed_reversed_fen == 457_366  # the 2021-02-01 correction
    assert execution(end_2021, 2020) == execution(end_2020, 2020)  # 2020 does not move


def test_fengshun_batch2_indicators_before_the_decision(fengshun: Views) -> None:
    """What the province saw on 2021-02-24, the day before its decision; cash as of dates."""
    s = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 2, 24)))
    i = s.indicators
    assert (i.batch1_year, i.batch1_rate_bp, i.batch1_status_zh) == (
        2020, 9678, "未执行完毕（执行较好）")
    assert (i.plan_compliant, i.actual_issues) == (True, ["rural_products_online"])
    assert shares(s, "actual")["rural_products_online"][1] == 1963
    assert (i.reports_due, i.reports_on_time, i.reports_late, i.reports_missing) == (9, 8, 1, 0)
    late = [(r.period, r.submitted_on) for r in s.reports if r.status == "late"]
    assert late == [("2020-05", "2020-06-09")]
    assert [c.reported_on for c in s.typical_cases if c.status == "on_time"] == [
        "2020-07-10", "2021-01-10"]
    assert (i.acceptance_status_zh, i.batch2_decided_on) == ("待验收", None)
    assert s.money.cash_fen == 0  # February spent exactly the 2020 carry-over, never more
    feb = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 2, 28)))
    assert feb.money.cash_fen == 0
    later = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 3, 31)))
    assert later.money.cash_fen == 455_325_557
    end = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 12, 31)))
    e = end.indicators
    assert (e.reports_due, e.reports_on_time, e.reports_late, e.reports_missing) == (19, 17, 2, 0)
    assert (e.batch2_decided_on, e.batch2_document_no, e.batch2_appropriated_fen) == (
        "2021-02-25", "粤商务建字〔2021〕2号", 500_000_000)
    assert (end.acceptance.status_zh, end.acceptance.conclusion, end.acceptance.recorded_on,
            end.acceptance.confirmed_on) == ("已验收，地市已确认", "验收合格", "2021-12-10",
                                             "2021-12-20")


def test_lagging_county_contrast(make_app: Any) -> None:
    """441825: 44.98 % in 2020, no batch 2, the recovery counted in 2022."""
    app = make_app()
    build_demo_county(app)
    views = Views(app)
    views.catch_up()
    s = views.county(PROGRAMME, "441825")
    assert execution(s, 2020) == (0, 400_000_000, 400_000_000, 179_934_019, 0, 220_065_981,
                                  4498)
    assert execution(s, 2021) == (220_065_981, 0, 220_065_981, 108_065_940, 0, 112_000_041,
                                  4910)
    assert execution(s, 2022) == (112_000_041, 0, 112_000_041, 0, 112_000_041, 0, 0)
    assert {k: v[1] for k, v in shares(s, "actual").items()} == {
        "rural_products_online": 1503, "public_services": 1187, "training": 909}
    early = views.county(PROGRAMME, "441825", as_of=AsOf(day=dt.date(2020, 12, 31))).indicators
    assert (early.reports_due, early.reports_on_time, early.reports_late,
            early.reports_missing) == (7, 5, 0, 2)
    assert (early.plan_compliant, early.batch2_decided_on) == (True, None)
    assert s.money.appropriated_by_batch_fen == {"1": 400_000_000, "2": 0}
