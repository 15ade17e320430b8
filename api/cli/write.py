"""Write commands: `init`, `admit`, `record ...`, `import`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from api import render
from api.cli import filein
from api.cli.kit import (
    Ctx,
    actor_options,
    errors_mapped,
    make_actor,
)
from api.config import DEFAULT_PROGRAMME
from ledger import fields as F
from ledger.commands import COUNTY_COMMANDS, CommandSpec, FieldSpec
from ledger.commands.lines import import_refused_on_line, parse_import
from ledger.commands.spec import ATTACHMENTS, INTEGER
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


def _execute(ctx: Ctx, payload: dict[str, Any], who: tuple[str | None, ...]) -> None:
    with errors_mapped(ctx):
        actor = make_actor(*who)
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


def _option(field: FieldSpec) -> Callable[[Any], Any]:
    """A field's CLI option. Integers are typed (not an integer: a usage error, exit 2); every
    other value, amounts and dates included, is judged by the ledger (exit 1)."""
    help_text = f"{field.zh} / {field.en}"
    if field.type == ATTACHMENTS:
        return click.option(field.option, field.name, multiple=True, help=help_text)
    return click.option(field.option, field.name, required=field.required, help=help_text,
                        type=int if field.type == INTEGER else str)


def _subcommand(spec: CommandSpec) -> click.Command:
    """`record <kind>`: the kind's fields as options, made into the command's JSON payload."""
    def run(actor_id: str | None, role: str | None, scope: str | None, **values: Any) -> None:
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        _execute(click.get_current_context().ensure_object(Ctx),
                 {"kind": spec.kind, **values}, (actor_id, role, scope))

    command: Any = run
    for field in reversed(spec.fields):
        command = _option(field)(command)
    roles = ", ".join(sorted(spec.roles))
    return click.command(spec.cli_name, help=f"{spec.name_zh}: {spec.summary_en} ({roles}). "
                         "See docs/commands.md.")(_common(command))


@click.group()
def record() -> None:
    """Record an entry of any kind (one subcommand per kind), or any command from a JSON file.
    记账"""


for _spec in COUNTY_COMMANDS.values():
    record.add_command(_subcommand(_spec))


@record.command("json")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@actor_options
@click.pass_obj
def record_json(ctx: Ctx, file: str, actor_id: str, role: str, scope: str) -> None:
    """Any county command as one JSON object (see docs/commands.md)."""
    with errors_mapped(ctx):
        payload = filein.read_command_file(file)
    _execute(ctx, payload, (actor_id, role, scope))


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
        items, numbers = parse_import(filein.import_raw_lines(file))
        started = time.perf_counter()
        try:
            results = ctx.open().import_entries(items, runner=runner)
        except ImportFailed as e:
            raise import_refused_on_line(e, numbers) from None
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
