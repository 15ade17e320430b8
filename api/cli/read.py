"""Read and check commands: `history`, `verify`, `demo`."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import click

from api import present, render
from api.cli import filein
from api.cli.kit import (
    EXIT_OK,
    EXIT_RULE,
    EXIT_USAGE,
    STORE_ERRORS,
    Ctx,
    errors_mapped,
    fail,
    one_line,
)
from api.config import DEFAULT_PROGRAMME
from audit.chains import iter_rows, verify_chains
from audit.errors import AuditError
from ledger.errors import LedgerError
from ledger.money import format_yuan
from ledger.stores import store_env
from projections import history as H

HASH_SHOWN_CHARS = 12
TIMESTAMP_SHOWN_CHARS = 19  # to the second in the table; --json keeps the microseconds


def _day(value: str | None, option: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter("应为 YYYY-MM-DD 日期 / expected YYYY-MM-DD",
                                 param_hint=option) from None


@click.command()
@click.option("--programme", default=DEFAULT_PROGRAMME, show_default=True)
@click.option("--county", help="a county code: its whole fund ledger")
@click.option("--project", help="only this project's events (with --county)")
@click.option("--entry", help="only this entry and its reversals (with --county)")
@click.option("--actor", help="only what this person did (acted or imported), in every county "
                              "of the programme unless --county is given")
@click.option("--since", help="only events of this business date or later (YYYY-MM-DD)")
@click.option("--until", help="only events of this business date or earlier (YYYY-MM-DD)")
@click.option("--limit", type=click.IntRange(1, H.HISTORY_PAGE_MAX_EVENTS),
              default=H.HISTORY_PAGE_DEFAULT_EVENTS, show_default=True,
              help="events per page")
@click.option("--cursor", help="the next page: the cursor the previous page printed")
@click.pass_obj
def history(ctx: Ctx, programme: str, county: str | None, project: str | None,
            entry: str | None, actor: str | None, since: str | None, until: str | None,
            limit: int, cursor: str | None) -> None:
    """Every event of a county, a project, an entry or a person: actor, dates, hash,
    prev_hash, in log order, a page at a time. 历史"""
    if (project or entry) and not county:
        raise click.UsageError("--project 与 --entry 须与 --county 同用 / --project and --entry "
                               "need --county")
    query = H.HistoryQuery(programme, county, project, entry, actor,
                           _day(since, "--since"), _day(until, "--until"))
    with errors_mapped(ctx):
        page = ctx.views().history(query, cursor, limit)
    if ctx.as_json:
        render.emit_json({"stream_id": page.stream_ids[0] if len(page.stream_ids) == 1 else None,
                          "stream_ids": list(page.stream_ids),
                          "events": [e.to_dict() for e in page.events],
                          "next_cursor": page.next_cursor})
        return
    _print_history(query, page)


def _what(q: H.HistoryQuery) -> str:
    parts = [f"县 county {q.county}" if q.county else f"项目 programme {q.programme}"]
    parts += [f"项目 project {q.project}"] if q.project else []
    parts += [f"条目 entry {q.entry}"] if q.entry else []
    parts += [f"操作人 actor {q.actor}"] if q.actor else []
    if q.since or q.until:
        parts.append(f"业务日期 dates {q.since or '…'}..{q.until or '…'}")
    return " ".join(parts)


def _entry_cell(e: H.HistoryEvent) -> str:
    if e.target_entry_id is None:
        return e.entry_id
    reason = f": {e.reason}" if e.reason else ""
    return f"{e.entry_id} 冲销 reverses {e.target_entry_id}{reason}"


def _actor_cell(e: H.HistoryEvent) -> str:
    who = f"{e.actor_id} ({e.actor_role})"
    if e.imported_by_id is not None:
        who += f" 导入人 imported by {e.imported_by_id} ({e.imported_by_role})"
    return who


def _print_history(query: H.HistoryQuery, page: H.HistoryPage) -> None:
    many = len(page.stream_ids) > 1  # then each row says its county
    streams = f"{len(page.stream_ids)} streams" if many else page.stream_ids[0]
    columns = ["位置 pos/v", *(["县 county"] if many else []), "类型 type",
               "业务日期 date", "操作人 actor", "时间戳 timestamp (UTC)", "条目 entry",
               "项目 project", "金额 yuan", "hash", "prev_hash"]
    rows = [[f"{e.position}/v{e.version}", *([e.county_code] if many else []),
             f"{present.KIND_ZH.get(e.kind, '')} {e.type}".strip(), e.business_date or "",
             _actor_cell(e), e.timestamp[:TIMESTAMP_SHOWN_CHARS].replace("T", " "),
             _entry_cell(e), e.project_code,
             "" if e.signed_amount_fen is None else format_yuan(e.signed_amount_fen, grouped=True),
             e.event_hash[:HASH_SHOWN_CHARS], e.prev_hash[:HASH_SHOWN_CHARS]]
            for e in page.events]
    render.table(f"{_what(query)} 历史 / history ({len(page.events)} events, {streams})",
                 columns, rows)
    if page.next_cursor is not None:
        click.echo(f"下一页 / next page: --cursor {page.next_cursor}")


@click.command()
@click.option("--since", "since_file", type=click.Path(dir_okay=False),
              help="a checkpoint held outside the database (a signed note, or a receipt): "
                   "the log must be consistent with it")
@click.option("--key", "keys", multiple=True,
              help="the log's verifier key (vkey), held outside: the key history must hold it")
@click.option("--witness", "witnesses", multiple=True,
              help="a witness's verifier key (type 0x04) you trust: it must have cosigned the "
                   "latest checkpoint (every witness named, unless --quorum)")
@click.option("--quorum", type=click.IntRange(min=1), default=None,
              help="how many of the witnesses named must have cosigned (default: all)")
@click.option("--reconcile", "reconcile", is_flag=True,
              help="also recompute balances and year-end execution from the events and hold "
                   "them against the read models (对账)")
@click.pass_obj
def verify(ctx: Ctx, since_file: str | None, keys: tuple[str, ...],
           witnesses: tuple[str, ...], quorum: int | None, reconcile: bool) -> None:
    """Re-read everything stored and recompute it: every event hash and chain link, every
    Merkle leaf and stored node, the root of every checkpoint, every signature and
    cosignature, and the consistency with a checkpoint held outside (--since). 校验
    With --reconcile, the statements the read models report are held against the statements
    recomputed from the events (county, category and year; both amounts).

    Exit 0 when intact, 1 naming the first broken place, 2 on usage or I/O error.
    """
    from audit.cpcheck import read_held
    from audit.note import parse_vkey
    from audit.verify import StoreReport, verify_store

    started = time.perf_counter()
    held_text = filein.read_held_file(since_file) if since_file else None
    try:
        trusted = [parse_vkey(k.strip()) for k in keys]
        trusted_witnesses = _witness_keys(witnesses, quorum)
        held = read_held(held_text) if held_text is not None else None
        report, log = verify_store(ctx.log(), trusted, trusted_witnesses, held, quorum=quorum)
        if reconcile:
            for finding in _reconcile(ctx):
                log.findings.add(finding)
    except (AuditError, LedgerError, ValueError, OSError, *STORE_ERRORS) as e:
        fail(EXIT_USAGE, f"无法读取账本 / cannot read the ledger: {one_line(e)}")
    seconds = time.perf_counter() - started
    result = StoreReport(report, log)
    intact = result.intact
    doc = {**result.to_dict(), "seconds": round(seconds, 3)}
    if reconcile:
        doc["reconciled"] = "reconciliation" not in log.findings.checks
    if ctx.as_json:
        render.emit_json(doc)
    elif intact:
        click.echo(f"完好 / intact: {report.events} events in {report.streams} streams; every "
                   f"hash and link recomputed ({seconds:.2f} s)")
        _print_log(log)
        if reconcile:
            click.echo("  reconciled / 对账一致: the read models' balances, compliance and "
                       "execution equal those recomputed from the events")
    else:
        _print_broken(result)
    sys.exit(EXIT_OK if intact else EXIT_RULE)


def _witness_keys(witnesses: tuple[str, ...], quorum: int | None) -> list[Any]:
    """The witnesses' keys; a quorum larger than the witnesses named is a usage error."""
    from audit.note import parse_vkey

    keys = [parse_vkey(w.strip()) for w in witnesses]
    if quorum is not None and quorum > len(set(keys)):
        fail(EXIT_USAGE, f"--quorum {quorum} 多于 --witness 指定的见证人数 / --quorum {quorum} "
                         f"exceeds the {len(set(keys))} witnesses named with --witness")
    return keys


def _reconcile(ctx: Ctx) -> list[Any]:
    from audit.reconcile import reconcile

    views = ctx.views()
    return reconcile(views.app, views)


def _print_broken(result: Any) -> None:
    log, lines = result.log, result.descriptions()
    if log.findings.checks == {"reconciliation"} and result.chain.intact:
        click.echo(f"对账不一致 / NOT RECONCILED ({log.findings.count} differences; the "
                   f"events and the log are intact): first at {lines[0]}", err=True)
    else:
        render.echo(f"已被篡改 / BROKEN: first at {lines[0]}", err=True)
    for line in lines[1:10]:
        render.echo(f"  also: {line}", err=True)


def _print_log(log: Any) -> None:
    if not log.sealed:
        click.echo(f"  log: not sealed yet; no checkpoint verified ({log.unsealed} events)")
        return
    click.echo(f"  log: {log.leaves} leaves, each matching its event; every stored node and "
               f"the Merkle root recomputed; {log.unsealed} events not yet sealed")
    latest = log.latest
    if latest is None:
        click.echo("  no checkpoint verified: no key has signed one yet (fundledger seal --key)")
    else:
        trust = {True: "a key held outside (--key)", False: "NOT the key held outside",
                 None: "the recorded key history (give --key to check it)"}[log.keys_trusted]
        click.echo(f"  checkpoint: size {latest['size']} verified with {trust}; "
                   f"{log.checkpoints} checkpoints in all, each matching the recomputed tree")
        for c in latest["cosignatures"]:
            when = dt.datetime.fromtimestamp(c["timestamp"], dt.UTC).strftime("%Y-%m-%d %H:%M")
            render.echo(f"  cosigned by {'trusted witness ' if c['trusted'] else ''}"
                        f"{c['witness']} at {when} UTC")
        if log.leaves > latest["size"]:
            click.echo(f"  {log.leaves - latest['size']} leaves not yet in a signed checkpoint")
    if log.held is not None:
        click.echo(f"  held checkpoint: size {log.held['size']}, consistent with the log")


def _is_empty(app: Any) -> bool:
    return not app.recorder.select_notifications(1, 1)


@click.command()
@click.option("--fresh", is_flag=True, help="delete an existing SQLite demo file first")
@click.pass_obj
def demo(ctx: Ctx, fresh: bool) -> None:
    """Build the GD-2020 demo (synthetic amounts) and print what was built. 演示"""
    from api.demo import build_demo

    env = store_env(ctx.db)
    path = env.get("SQLITE_DBNAME")
    if fresh and path and Path(path).exists():
        Path(path).unlink()
    with errors_mapped(ctx):
        app = ctx.open(must_exist=False)
        if not _is_empty(app):
            fail(EXIT_USAGE, "账本非空 / the store already holds events: use --fresh (SQLite) or "
                             "an empty database")
        summary = build_demo(app, progress=None if ctx.as_json else _progress)
        report = verify_chains(iter_rows(app.recorder))
    summary["verify"] = {"intact": report.intact, "events": report.events}
    if ctx.as_json:
        render.emit_json(summary)
    else:
        _print_demo(ctx, summary)
    sys.exit(EXIT_OK if report.intact else EXIT_RULE)


def _progress(county: str, items: int) -> None:
    click.echo(f"  {county}: {items} entries", err=True)


def _print_demo(ctx: Ctx, s: dict[str, Any]) -> None:
    rows = []
    for c in s["counties"]:
        budgets = c["budget_by_category_fen"]
        shares = "/".join(present.pct(budgets.get(k, 0) * 10_000 // c["allocation_fen"])
                          for k in ("rural_products_online", "public_services", "training"))
        rows.append([c["county_code"], c["county_name"], present.yuan(c["allocation_fen"]),
                     present.yuan(c["appropriated_fen"]), shares,
                     present.yuan(c["disbursed_fen"]), present.yuan(c["expended_fen"]),
                     present.pct(c["execution_2020_bp"]), present.yuan(c["recovered_fen"]),
                     c["projects"], c["events"], c["note"]])
    render.table(
        "演示数据（金额为虚构）/ DEMO DATA — synthetic amounts: 2020年广东省电子商务进农村综合示范",
        ["县代码", "县 county", "分配 allocation", "已下达 appropriated",
         "预算占比 上行/公共服务/培训", "拨付净额 disbursed", "支出净额 expended",
         "2020执行率", "收回 recovered", "项目", "事件", "说明 note"], rows)
    v = s["verify"]
    click.echo(f"\n{len(s['counties'])} counties, {sum(c['projects'] for c in s['counties'])} "
               f"projects, {s['money_events']} money events, {v['events']} events in all; "
               f"built in {s['seconds']} s. Chains verified: "
               f"{'intact / 完好' if v['intact'] else 'BROKEN'}.")
    db = f" --db {ctx.db}" if ctx.db != "sqlite:///ledger.db" else ""
    click.echo("\nTry next / 接下来可以试试:")
    for line in (f"fundledger{db} verify",
                 f"fundledger{db} status --county 441825 --year 2020      # the lagging county",
                 f"fundledger{db} status --county 441423 --as-of 2020-12-31",
                 f"fundledger{db} summary --year 2020                     # the roll-up",
                 f"fundledger{db} history --county 441423 --project PU01",
                 f"fundledger{db} --json history --county 441423 --entry 441423-D-00030",
                 f"fundledger{db} keys init --out log.key && fundledger{db} seal --key log.key",
                 "see README.md for recording entries, the signed log and audit bundles"):
        click.echo(f"  {line}")


COMMANDS = [history, verify, demo]
