"""Write commands: `init`, `admit`, `record ...`, `import`."""

from __future__ import annotations

import time
from typing import Any

import click

from api import render
from api.cli import filein
from api.cli.kit import (
    DEFAULT_PROGRAMME,
    Ctx,
    actor_options,
    errors_mapped,
    make_actor,
)
from ledger import fields as F
from ledger.actors import Actor
from ledger.errors import ImportFailed
from ledger.money import parse_yuan
from ledger.rules import packaged_rules, parse_rules_toml


@click.command()
@click.option("--programme", default=DEFAULT_PROGRAMME, show_default=True)
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False),
              help="a rules TOML file (default: the one shipped for the programme)")
@click.option("--total", required=True, help="the programme's total fund, in yuan")
@click.option("--date", "day", default=None, help="business date YYYY-MM-DD (default today)")
@actor_options
@click.pass_obj
def init(ctx: Ctx, programme: str, rules_file: str | None, total: str, day: str | None,
         actor_id: str | None, role: str | None, scope: str | None) -> None:
    """Create the store and open a programme under its rules (province). 开设项目"""
    with errors_mapped(ctx):
        rules = (parse_rules_toml(filein.read_text_file(rules_file)) if rules_file
                 else packaged_rules(programme))
        when = F.date(day) if day else None
        total_fen = parse_yuan(total, "total")
        actor = make_actor(actor_id, role, scope)
        app = ctx.open(must_exist=False)
        render.result(app.open_programme(rules, total_fen, actor, when or app.today()),
                      ctx.as_json)


@click.command()
@click.option("--programme", default=DEFAULT_PROGRAMME, show_default=True)
@click.option("--county", required=True, help="6-digit county code")
@click.option("--name", required=True, help="county name, e.g. 丰顺县")
@click.option("--allocation", required=True, help="the county's allocation, in yuan")
@click.option("--document-no", required=True, help="文号 of the admission")
@click.option("--date", "day", required=True, help="business date YYYY-MM-DD")
@actor_options
@click.pass_obj
def admit(ctx: Ctx, programme: str, county: str, name: str, allocation: str, document_no: str,
          day: str, actor_id: str | None, role: str | None, scope: str | None) -> None:
    """Admit a county with its allocation (province). 纳入示范县"""
    with errors_mapped(ctx):
        allocation_fen, when = parse_yuan(allocation, "allocation"), F.date(day)
        actor = make_actor(actor_id, role, scope)
        result = ctx.open().admit_county(programme, county, name, allocation_fen, document_no,
                                         actor, when)
        render.result(result, ctx.as_json)


def _execute(ctx: Ctx, payload: dict[str, Any], actor: Actor) -> None:
    with errors_mapped(ctx):
        payload = {k: v for k, v in payload.items() if v is not None}
        render.result(ctx.open().execute(payload, actor), ctx.as_json)


def _common(f: Any) -> Any:
    for option in reversed([
        click.option("--programme", default=DEFAULT_PROGRAMME, show_default=True),
        click.option("--county", "county_code", required=True, help="6-digit county code"),
        click.option("--entry-id", help="the entry's id: the idempotency key"),
        click.option("--date", "business_date", required=True, help="business date YYYY-MM-DD"),
    ]):
        f = option(f)
    return actor_options(f)


@click.group()
def record() -> None:
    """Record an entry: appropriation, project, disbursement, expenditure, reversal, or any
    command from a JSON file. 记账"""


@record.command("appropriation")
@_common
@click.option("--batch", type=int, required=True, help="1 or 2")
@click.option("--amount", required=True, help="yuan, at most two decimals")
@click.option("--document-no", required=True, help="文号")
def appropriation(actor_id: str, role: str, scope: str, **fields: Any) -> None:
    """资金下达 (province)."""
    _execute(click.get_current_context().ensure_object(Ctx),
             {"kind": "appropriation", **fields}, make_actor(actor_id, role, scope))


@record.command("project")
@_common
@click.option("--project", "project_code", required=True)
@click.option("--name", required=True)
@click.option("--category", required=True,
              help="rural_products_online | public_services | training")
@click.option("--budget", required=True, help="yuan")
@click.option("--responsible-person", required=True, help="责任人")
@click.option("--implementing-unit", required=True, help="实施单位")
@click.option("--start-date", required=True)
@click.option("--end-date", required=True)
def project(actor_id: str, role: str, scope: str, **fields: Any) -> None:
    """项目登记 (county)."""
    _execute(click.get_current_context().ensure_object(Ctx),
             {"kind": "project", **fields}, make_actor(actor_id, role, scope))


@record.command("disbursement")
@_common
@click.option("--project", "project_code", required=True)
@click.option("--amount", required=True, help="yuan")
@click.option("--payee", required=True, help="收款人")
@click.option("--voucher-no", required=True, help="凭证号")
@click.option("--attachment", "attachments", multiple=True, help="SHA-256 of an attachment")
def disbursement(actor_id: str, role: str, scope: str, **fields: Any) -> None:
    """拨付 (county)."""
    fields["attachments"] = list(fields["attachments"])
    _execute(click.get_current_context().ensure_object(Ctx),
             {"kind": "disbursement", **fields}, make_actor(actor_id, role, scope))


@record.command("expenditure")
@_common
@click.option("--project", "project_code", required=True)
@click.option("--amount", required=True, help="yuan")
@click.option("--purpose", required=True, help="用途")
@click.option("--invoice-no", required=True, help="发票号")
@click.option("--attachment", "attachments", multiple=True, help="SHA-256 of an attachment")
def expenditure(actor_id: str, role: str, scope: str, **fields: Any) -> None:
    """支出 (county)."""
    fields["attachments"] = list(fields["attachments"])
    _execute(click.get_current_context().ensure_object(Ctx),
             {"kind": "expenditure", **fields}, make_actor(actor_id, role, scope))


@record.command("reversal")
@_common
@click.option("--target", "target_entry_id", required=True, help="the entry reversed")
@click.option("--amount", required=True, help="yuan (part or all of the entry)")
@click.option("--reason", required=True, help="冲销原因")
def reversal(actor_id: str, role: str, scope: str, **fields: Any) -> None:
    """红字冲销 (county; province for appropriations and recoveries)."""
    _execute(click.get_current_context().ensure_object(Ctx),
             {"kind": "reversal", **fields}, make_actor(actor_id, role, scope))


@record.command("json")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@actor_options
@click.pass_obj
def record_json(ctx: Ctx, file: str, actor_id: str, role: str, scope: str) -> None:
    """Any county command as one JSON object (see docs/commands.md)."""
    with errors_mapped(ctx):
        payload = filein.read_command_file(file)
    _execute(ctx, payload, make_actor(actor_id, role, scope))


def _read_lines(file: str) -> tuple[list[tuple[dict[str, Any], Actor | None]], list[int]]:
    """The file's commands with the actor each names (None: the runner), and their line
    numbers (blank lines are skipped), read under the strict JSON rules of `api.cli.filein`."""
    items: list[tuple[dict[str, Any], Actor | None]] = []
    numbers: list[int] = []
    for n, payload in filein.import_lines(file):
        who = payload.pop("actor", None)
        items.append((payload, filein.line_actor(who, n) if who is not None else None))
        numbers.append(n)
    return items, numbers


def _on_line(e: ImportFailed, numbers: list[int]) -> ImportFailed:
    """The import's refusal, naming the file's line rather than the item's rank."""
    item = e.details.get("item")
    if not isinstance(item, int) or not 0 < item <= len(numbers):
        return e
    line = numbers[item - 1]
    cause = e.details.get("cause") or {}
    return ImportFailed(
        f"第 {line} 行被拒绝，整个文件未导入：{cause.get('message_zh', e.zh)}",
        f"line {line} was rejected, so nothing in the file was imported: "
        f"{cause.get('message_en', e.en)}", e.field, line=line, **e.details)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@actor_options
@click.pass_obj
def import_(ctx: Ctx, file: str, actor_id: str | None, role: str | None,
            scope: str | None) -> None:
    """Import a JSON-lines file of entries, all or nothing. 批量导入

    Each line is one command (as for `record json`). The actor given here
    (--actor-id/--role/--scope) runs the import and is recorded on every event it
    writes; a line may name another actor of the same role within that actor's scope,
    as "actor": {"id", "role", "scope"}, to record the entry in that actor's name.
    """
    with errors_mapped(ctx):
        runner = make_actor(actor_id, role, scope)
        items, numbers = _read_lines(file)
        started = time.perf_counter()
        try:
            results = ctx.open().import_entries(items, runner=runner)
        except ImportFailed as e:
            raise _on_line(e, numbers) from None
        seconds = time.perf_counter() - started
    new = sum(1 for r in results if not r.replayed)
    summary = {"lines": len(items), "recorded": new, "replayed": len(results) - new,
               "imported_by": runner.as_fields(), "seconds": round(seconds, 3),
               "entries_per_second": round(len(items) / seconds) if seconds else None}
    if ctx.as_json:
        render.emit_json(summary)
    else:
        click.echo(f"已导入 / imported {len(items)} lines: {new} recorded, "
                   f"{summary['replayed']} replayed, in {seconds:.2f} s; 导入人 / run by "
                   f"{runner.id} ({runner.role} {runner.scope})")


COMMANDS = [init, admit, record, import_]
