"""Read-model commands: `status` (one county), `summary` (the roll-up across counties) and
`projections status|rebuild|follow`. Every read first catches the views up with the log."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from api import render
from api.cli.kit import STORE_INT, YEAR, Ctx, errors_mapped
from api.config import DEFAULT_PROGRAMME
from api.present import compliance_zh, pct, provisional, with_yuan, yuan
from projections.model import BASIS_ZH, DENOMINATOR_ZH, AsOf
from projections.report import CountyStatus
from projections.rollup import Summary
from projections.service import Views

PROGRESS_EVERY_S = 2.0
POLL_INTERVAL_MIN_S, POLL_INTERVAL_MAX_S = 0.05, 3600.0


def _progress() -> Callable[[int, int], None]:
    last = [time.monotonic()]

    def report(position: int, head: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            click.echo(f"  视图追赶 catching up: {position}/{head}", err=True)

    return report


def _as_of(day: str | None, position: int | None) -> AsOf:
    if day is None:
        return AsOf(None, position)
    try:
        return AsOf(dt.date.fromisoformat(day), position)
    except ValueError:
        raise click.BadParameter("应为 YYYY-MM-DD / expected YYYY-MM-DD",
                                 param_hint="--as-of") from None


def _views(ctx: Ctx) -> Views:
    views = ctx.views()
    views.catch_up(progress=_progress())
    return views


def as_of_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--json", "as_json", is_flag=True, help="machine-readable JSON output")(f)
    f = click.option("--at-position", type=STORE_INT,
                     help="count only events at log positions ≤ N")(f)
    f = click.option("--as-of", "as_of", help="count only entries dated ≤ YYYY-MM-DD; duties "
                     "are judged on that day")(f)
    f = click.option("--year", type=YEAR, help="one year only; without --as-of, duties and "
                     "acceptance are judged at its 31 December (today if not yet ended)")(f)
    return click.option("--programme", default=DEFAULT_PROGRAMME, show_default=True)(f)


@click.command()
@as_of_options
@click.option("--county", required=True, help="6-digit county code")
@click.option("--projects", is_flag=True, help="also print the project register (项目台账)")
@click.pass_obj
def status(ctx: Ctx, programme: str, year: int | None, as_of: str | None,
           at_position: int | None, as_json: bool, county: str, projects: bool) -> None:
    """A county's balances, ratio compliance, execution and duties. 县级资金状态"""
    when = _as_of(as_of, at_position)
    with errors_mapped(ctx):
        s = _views(ctx).county(programme, county, year, when)
    if as_json or ctx.as_json:
        render.emit_json(with_yuan(s.to_dict()))
        return
    _print_status(s, projects)


def _print_status(s: CountyStatus, projects: bool) -> None:
    when = ", ".join(f"{k} ≤ {v}" for k, v in s.as_of.items() if v is not None) or "当前 current"
    render.echo(f"{s.county_name}（{s.county_code}，市 {s.city_code}）项目 {s.programme}；"
               f"截至 as of: {when}；判定日 judged on {s.judged_on}；视图位置 position "
               f"{s.position}" + (f"；年度 {s.year}" if s.year else ""))
    m = s.money
    batches = " / ".join(f"第{b}批 {yuan(v)}"
                         for b, v in m.appropriated_by_batch_fen.items())
    render.table("资金概况 county money (元)", [
        "分配额 allocation", "已下达 appropriated", "分批 by batch", "拨付净额 disbursed",
        "支出净额 expended", "收回 recovered", "可用资金 cash"],
        [[yuan(m.allocation_fen), yuan(m.appropriated_fen), batches,
          yuan(m.disbursed_fen), yuan(m.expended_fen),
          yuan(m.recovered_fen), yuan(m.cash_fen)]])
    render.table("分类别余额 balances by category (元; 年度发生额，预算与剩余为年末数)", [
        "年度", "类别 category", "预算 budget", "拨付 disbursed", "拨付冲销", "支出 expended",
        "支出冲销", "剩余预算 remaining"],
        [[b.year or "全期 all", b.category_zh, yuan(b.budget_fen),
          yuan(b.disbursed_fen), yuan(b.disbursed_reversed_fen),
          yuan(b.expended_fen), yuan(b.expended_reversed_fen),
          yuan(b.remaining_budget_fen)] for b in s.balances])
    render.table("比例合规 ratio compliance", [
        "口径 basis", "类别 category", "金额 amount", "占比 share", "规则 rule", "分母 denominator",
        "状态 status"],
        [[BASIS_ZH[c.basis], c.category_zh, yuan(c.amount_fen), pct(c.share_bp),
          _bound(c.min_share_bp, c.max_share_bp),
          f"{DENOMINATOR_ZH.get(c.denominator, c.denominator)} {yuan(c.denominator_fen)}",
          c.status_zh + (f"（{c.exception_document_no}）" if c.exception_document_no
                         and c.status == "exception" else "")] for c in s.compliance])
    _print_execution("年度执行 year-end execution", s.execution)
    _print_indicators(s)
    _print_duties(s)
    if projects:
        _print_projects(s)


def _print_projects(s: CountyStatus) -> None:
    render.table("项目台账 project register (元)", [
        "项目", "名称", "类别", "预算 budget", "拨付净额 disbursed", "支出净额 expended",
        "剩余预算 remaining", "进度", "责任人", "实施单位", "最近条目"],
        [[p.project_code, p.name, p.category_zh, yuan(p.budget_fen), yuan(p.disbursed_fen),
          yuan(p.expended_fen), yuan(p.remaining_budget_fen), pct(p.progress_bp),
          p.responsible_person, p.implementing_unit,
          f"{p.last_entry_on} {p.last_entry_kind_zh} {p.last_entry_id}"]
         for p in s.projects])


def _bound(lo: int | None, hi: int | None) -> str:
    return " ".join(x for x in (f"≥ {pct(lo)}" if lo is not None else "",
                                f"≤ {pct(hi)}" if hi is not None else "") if x)


def _print_execution(title: str, rows: list[Any]) -> None:
    render.table(title, [
        "年度", "上年结转 carry-in", "本年下达", "可执行 available", "拨付 disbursed",
        "执行率 rate", "收回 recovered", "结转 carry-over", "状态 status"],
        [[e.year, yuan(e.carry_in_fen), yuan(e.appropriated_fen),
          yuan(e.available_fen), yuan(e.disbursed_fen), pct(e.rate_bp),
          yuan(e.recovered_fen), yuan(e.carry_out_fen),
          provisional(e.status_zh, e.final)] for e in rows])


def _print_indicators(s: CountyStatus) -> None:
    i, names = s.indicators, {c.category: c.category_zh for c in s.compliance}
    render.table("第二批资金指标 batch-2 indicators", [
        f"{i.batch1_year}年第一批执行率", "预算比例", "实际比例", "月报 按时/逾期/未报/应报",
        "验收", "第二批决定", "第二批下达"],
        [[provisional(f"{pct(i.batch1_rate_bp)} {i.batch1_status_zh}", i.batch1_final),
          compliance_zh(i.plan_issues, names), compliance_zh(i.actual_issues, names),
          f"{i.reports_on_time}/{i.reports_late}/{i.reports_missing}/{i.reports_due}",
          i.acceptance_status_zh,
          f"{i.batch2_decided_on} {i.batch2_document_no}" if i.batch2_decided_on else "未决定",
          yuan(i.batch2_appropriated_fen)]])


def _print_duties(s: CountyStatus) -> None:
    render.table("月报 monthly reports (每月5日前报送上月)", [
        "月份", "截止 due", "报送日期", "状态", "必报"],
        [[r.period, r.due, r.submitted_on or "", r.status_zh, "是" if r.required else "否"]
         for r in s.reports])
    render.table("典型案例 typical cases (至少每半年一次)", ["自", "截止 due", "报送日期", "状态",
                                                         "标题"],
                 [[c.window_start, c.due, c.reported_on or "", c.status_zh, c.title]
                  for c in s.typical_cases])
    a = s.acceptance
    render.table(f"验收 acceptance (截止 {a.deadline})", [
        "状态", "结论", "验收日期", "报告号", "验收机构", "地市确认"],
        [[a.status_zh, a.conclusion, (a.recorded_on or "") + ("（逾期）" if a.late else ""),
          a.report_no, a.assessor, a.confirmed_on or ""]])


@click.command()
@as_of_options
@click.option("--city", help="one city's counties (its 6-digit code, e.g. 441800)")
@click.pass_obj
def summary(ctx: Ctx, programme: str, year: int | None, as_of: str | None,
            at_position: int | None, as_json: bool, city: str | None) -> None:
    """The roll-up across counties, per city and for the province. 汇总"""
    when = _as_of(as_of, at_position)
    with errors_mapped(ctx):
        s = _views(ctx).summary(programme, city, year, when)
    if as_json or ctx.as_json:
        render.emit_json(with_yuan(s.to_dict()))
        return
    _print_summary(s)


def _print_summary(s: Summary) -> None:
    when = ", ".join(f"{k} ≤ {v}" for k, v in s.as_of.items() if v is not None) or "当前 current"
    render.echo(f"项目 {s.programme} 汇总；截至 {when}；判定日 {s.judged_on}；"
                f"视图位置 {s.position}")
    render.table("各县 counties (元)", [
        "县代码", "县", "市", "分配额", "已下达", "拨付净额", "可用资金", "收回", "预算比例",
        "实际比例", "执行率（按年）", "月报 按时/逾期/未报", "验收"],
        [[c.county_code, c.county_name, c.city_code, yuan(c.money.allocation_fen),
          yuan(c.money.appropriated_fen), yuan(c.money.disbursed_fen),
          yuan(c.money.cash_fen), yuan(c.money.recovered_fen),
          compliance_zh(c.plan_issues), compliance_zh(c.actual_issues),
          " ".join(provisional(f"{e.year}:{pct(e.rate_bp)}", e.final) for e in c.execution),
          f"{c.reports_on_time}/{c.reports_late}/{c.reports_missing}", c.acceptance_status_zh]
         for c in s.counties])
    rows = [(r.scope, t) for r in (*s.cities, s.total) for t in r.execution]
    render.table("年度执行汇总 execution roll-up (市 / 全省)", [
        "范围", "年度", "县数", "全部执行完毕县数", "可执行", "拨付", "执行率", "收回", "结转",
        "状态"],
        [[scope, t.year, t.counties, t.fully_executed_counties, yuan(t.row.available_fen),
          yuan(t.row.disbursed_fen), pct(t.row.rate_bp), yuan(t.row.recovered_fen),
          yuan(t.row.carry_out_fen), provisional(t.row.status_zh, t.row.final)]
         for scope, t in rows])
    _print_inconsistent(s.inconsistent)


def _print_inconsistent(flags: list[Any]) -> None:
    """Counties left out because their stored events are inconsistent (also on stderr)."""
    if not flags:
        return
    counties = sorted({f.county_code or f"stream {f.stream_id}" for f in flags})
    click.echo(f"存储不一致 / STORE_INCONSISTENT: {', '.join(counties)} — 未计入上表与合计 / "
               "left out of the lines and totals above; run `fundledger verify`", err=True)
    render.table("存储不一致的县 counties with inconsistent stored events (未计入汇总)", [
        "县代码 county", "流 stream", "版本 version", "位置 position", "问题 problem"],
        [[f.county_code or "?", f.stream_id, f.version, f.position,
          f"{f.problem_zh} / {f.problem_en}"] for f in flags])


@click.group()
def projections() -> None:
    """The read models: their positions, rebuild, follow. 读模型"""


@projections.command("status")
@click.pass_obj
def projections_status(ctx: Ctx) -> None:
    """Each projection's position in the log and its lag behind the head."""
    with errors_mapped(ctx):
        states = ctx.views().status()
    if ctx.as_json:
        render.emit_json([s.__dict__ for s in states])
        return
    render.table("读模型 projections", ["名称 name", "提供 feeds", "位置 position",
                                       "日志头 head", "滞后 lag (events)", "更新 updated (UTC)"],
                 [[s.name, ", ".join(s.feeds), s.position, s.head, s.lag_events, s.updated_at]
                  for s in states])


@projections.command("rebuild")
@click.pass_obj
def projections_rebuild(ctx: Ctx) -> None:
    """Drop every view and replay the whole event log into it. 重建"""
    with errors_mapped(ctx):
        views = ctx.views()
        done = views.rebuild(progress=_progress())
        flags = views.inconsistencies()
    if ctx.as_json:
        render.emit_json(done.__dict__ | {"events_per_s": done.events_per_s,
                                          "inconsistent": [f.__dict__ for f in flags]})
        return
    click.echo(f"重建完成 rebuilt: {done.events} events to position {done.position} in "
               f"{done.seconds} s ({done.events_per_s} events/s)")
    _print_inconsistent(flags)


def _poll_interval(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    """Checked before a follower starts (NaN, a negative or an endless wait failed in sleep)."""
    if not POLL_INTERVAL_MIN_S <= value <= POLL_INTERVAL_MAX_S:  # NaN is in no range
        raise click.BadParameter(
            f"应为 {POLL_INTERVAL_MIN_S}..{POLL_INTERVAL_MAX_S} 秒 / must be "
            f"{POLL_INTERVAL_MIN_S}..{POLL_INTERVAL_MAX_S} seconds", param_hint="--poll-interval")
    return value


@projections.command("follow")
@click.option("--poll-interval", type=float, default=1.0, show_default=True,
              callback=_poll_interval, help="seconds between polls")
@click.pass_obj
def projections_follow(ctx: Ctx, poll_interval: float) -> None:
    """Keep the views current until interrupted (PostgreSQL: LISTEN, with polling)."""
    with errors_mapped(ctx):
        follower = ctx.views().follow(poll_interval_s=poll_interval)
    click.echo("following the log; Ctrl-C to stop", err=True)
    try:
        while follower.alive:
            time.sleep(poll_interval)
    except KeyboardInterrupt:
        follower.stop()
    sys.exit(0)


COMMANDS = [status, summary, projections]


def register(group: click.Group) -> None:
    """Add the read-model commands to the `fundledger` group."""
    for command in COMMANDS:
        group.add_command(command)
