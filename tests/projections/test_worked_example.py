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
        "rural_products_online": (187_089_595, 1870, "below_min"),
        "public_services": (178_150_364, 1781, "ok"), "training": (120_000_000, 1200, "ok")}
    assert shares(end_2021, "actual") == {
        "rural_products_online": (379_692_331, 3796, "ok"),
        "public_services": (469_803_055, 4698, "ok"), "training": (120_000_000, 1200, "ok")}
    gross = sum(b.disbursed_fen for b in end_2020.balances if b.year == 2020)
    reversed_2020 = sum(b.disbursed_reversed_fen for b in end_2020.balances if b.year == 2020)
    assert (gross, reversed_2020) == (486_657_831, 1_417_872)
    assert execution(end_2020, 2020) == (0, 500_000_000, 500_000_000, 485_239_959, 0,
                                         14_760_041, 9704)
    assert next(e for e in end_2020.execution).status_zh == "未执行完毕（执行较好）"
    assert execution(end_2021, 2021) == (14_760_041, 500_000_000, 514_760_041, 484_255_427, 0,
                                         30_504_614, 9407)
    training_2021 = next(b for b in end_2021.balances
                         if b.year == 2021 and b.category == "training")
    assert training_2021.disbursed_reversed_fen == 490_035  # the 2021-02-03 correction
    assert execution(end_2021, 2020) == execution(end_2020, 2020)  # 2020 does not move


def test_fengshun_batch2_indicators_before_the_decision(fengshun: Views) -> None:
    """What the province saw on 2021-03-09; and the negative cash an as-of read reveals."""
    s = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 3, 9)))
    i = s.indicators
    assert (i.batch1_year, i.batch1_rate_bp, i.batch1_status_zh) == (
        2020, 9704, "未执行完毕（执行较好）")
    assert (i.plan_compliant, i.actual_issues) == (True, ["rural_products_online"])
    assert shares(s, "actual")["rural_products_online"][1] == 2183
    assert (i.reports_due, i.reports_on_time, i.reports_late, i.reports_missing) == (10, 8, 2, 0)
    late = [(r.period, r.submitted_on) for r in s.reports if r.status == "late"]
    assert late == [("2020-05", "2020-06-09"), ("2020-11", "2020-12-11")]
    assert [c.reported_on for c in s.typical_cases if c.status == "on_time"] == [
        "2020-07-10", "2021-01-10"]
    assert (i.acceptance_status_zh, i.batch2_decided_on) == ("待验收", None)
    assert s.money.cash_fen == -47_757_167
    later = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 3, 31)))
    assert later.money.cash_fen == 427_447_271
    end = fengshun.county(PROGRAMME, "441423", as_of=AsOf(day=dt.date(2021, 12, 31)))
    e = end.indicators
    assert (e.reports_due, e.reports_on_time, e.reports_late, e.reports_missing) == (19, 16, 3, 0)
    assert (e.batch2_decided_on, e.batch2_document_no, e.batch2_appropriated_fen) == (
        "2021-03-10", "粤商务建字〔2021〕2号", 500_000_000)
    assert (end.acceptance.status_zh, end.acceptance.conclusion, end.acceptance.recorded_on,
            end.acceptance.confirmed_on) == ("已验收，地市已确认", "验收合格", "2021-12-10",
                                             "2021-12-20")


def test_lagging_county_contrast(make_app: Any) -> None:
    """441825: 45.10 % in 2020, no batch 2, the recovery counted in 2022."""
    app = make_app()
    build_demo_county(app)
    views = Views(app)
    views.catch_up()
    s = views.county(PROGRAMME, "441825")
    assert execution(s, 2020) == (0, 400_000_000, 400_000_000, 180_401_957, 0, 219_598_043,
                                  4510)
    assert execution(s, 2021) == (219_598_043, 0, 219_598_043, 108_424_717, 0, 111_173_326,
                                  4937)
    assert execution(s, 2022) == (111_173_326, 0, 111_173_326, 0, 111_173_326, 0, 0)
    assert {k: v[1] for k, v in shares(s, "actual").items()} == {
        "rural_products_online": 1531, "public_services": 1183, "training": 895}
    early = views.county(PROGRAMME, "441825", as_of=AsOf(day=dt.date(2020, 12, 31))).indicators
    assert (early.reports_due, early.reports_on_time, early.reports_late,
            early.reports_missing) == (7, 4, 1, 2)
    assert (early.plan_compliant, early.batch2_decided_on) == (True, None)
    assert s.money.appropriated_by_batch_fen == {"1": 400_000_000, "2": 0}
