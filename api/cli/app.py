"""`fundledger`: the command line of the fund ledger (专项资金台账).

This is the process's top level: whatever a command raises ends here as a message in Chinese
and English and an exit code (api.cli.kit), never as a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from api import render
from api.cli import audit as cli_audit
from api.cli import read as cli_read
from api.cli import serve as cli_serve
from api.cli import snapkey
from api.cli import status as cli_status
from api.cli import tokens as cli_tokens
from api.cli import write as cli_write
from api.cli.kit import Ctx, io_error, report
from api.config import ENV_DB, ENV_NAMES, default_db_url
from api.errors import EXIT_USAGE, LOWER_ERRORS, ledger_error, one_line
from ledger.errors import LedgerError

log = logging.getLogger("fundledger")

# click's own messages, in Chinese (the English stays after it).
_CLICK_ZH = (
    (re.compile(r"Missing option '([^']+)'"), "缺少选项 {0}"),
    (re.compile(r"Missing argument '([^']+)'"), "缺少参数 {0}"),
    (re.compile(r"No such option: (\S+)"), "没有选项 {0}"),
    (re.compile(r"No such command '([^']+)'"), "没有命令 {0}"),
    (re.compile(r"Got unexpected extra arguments? \((.*)\)"), "多余的参数 {0}"),
    (re.compile(r"Option '([^']+)' requires an argument"), "选项 {0} 需要一个值"),
    (re.compile(r"Invalid value for '([^']+)'"), "选项 {0} 的值无效"),
    (re.compile(r"Missing command"), "缺少子命令"),
)
_CJK_RE = re.compile("[\u4e00-\u9fff]")


def _zh(message: str) -> str:
    """The Chinese for one of click's messages (a generic phrase for the others)."""
    if _CJK_RE.search(message):
        return ""  # ours: already in both languages
    for pattern, zh in _CLICK_ZH:
        match = pattern.search(message)
        if match:
            return zh.format(*match.groups()) + "；"
    return "命令行用法错误；"


def _not_utf8(named: Sequence[tuple[str, str]]) -> None:
    """Refuse arguments or variables that were not valid UTF-8 (decoded with surrogate escapes:
    they would reach the ledger as lone surrogates)."""
    for name, value in named:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = render.safe(value.encode("utf-8", "surrogateescape"))
            raise click.UsageError(
                f"{name} 不是有效的 UTF-8 / {name} is not valid UTF-8: {shown}") from None


class LedgerGroup(click.Group):
    """The `fundledger` group: bilingual usage errors, no traceback for anything."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _not_utf8([(f"argument {n}", a) for n, a in enumerate(args, start=1)])
        _not_utf8([(name, os.environ.get(name, "")) for name in ENV_NAMES])
        return super().parse_args(ctx, args)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as e:
            _show_usage_error(e)
        except click.Abort:
            render.echo("已中止 / aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except LedgerError as e:
            report(e, _as_json(ctx))
        except LOWER_ERRORS as e:
            report(ledger_error(e), _as_json(ctx))
        except OSError as e:
            io_error(e)
        except Exception as e:  # the process's top level: no traceback for any input
            _internal_error(e)


def _as_json(ctx: click.Context) -> bool:
    return isinstance(ctx.obj, Ctx) and ctx.obj.as_json


def _show_usage_error(e: click.ClickException) -> NoReturn:
    if isinstance(e, click.exceptions.NoArgsIsHelpError):  # the help itself: both languages
        e.show()
        sys.exit(e.exit_code)
    message = e.format_message()
    if isinstance(e, click.UsageError) and e.ctx is not None:
        click.echo(e.ctx.get_usage(), err=True)
        click.echo(f"Try '{e.ctx.command_path} --help' for help.\n", err=True)
    render.echo(f"用法错误 / usage error: {_zh(message)}{message}", err=True)
    sys.exit(e.exit_code if e.exit_code != 1 else EXIT_USAGE)


def _internal_error(e: Exception) -> NoReturn:
    render.echo("内部错误，命令未完成 / internal error: the command did not complete. "
                "请将下面一行报告给运维 / report the line below to the operator.", err=True)
    log.error("cause: %s", render.safe(f"{type(e).__name__}: {one_line(e)}"))
    sys.exit(EXIT_USAGE)


@click.group(cls=LedgerGroup)
@click.option("--db", envvar=ENV_DB, default=None,
              help="store URL: sqlite:///path (default ./ledger.db) or postgresql://user@host/db")
@click.option("--json", "as_json", is_flag=True, help="machine-readable JSON output")
@click.pass_context
def cli(click_ctx: click.Context, db: str | None, as_json: bool) -> None:
    """fundledger — a tamper-evident ledger for special-purpose funds (专项资金防篡改台账).

    Exit codes: 0 success, 1 rule violation or verification failure, 2 usage or I/O error.
    """
    click_ctx.obj = Ctx(db or default_db_url(), as_json)


for command in (*cli_write.COMMANDS, *cli_read.COMMANDS):
    cli.add_command(command)
cli_status.register(cli)  # status, summary, projections
cli_audit.register(cli)  # seal, keys, checkpoint, witness, receipt, proof, export
cli_audit.keys.add_command(snapkey.snapshot_init)  # keys snapshot-init
cli.add_command(cli_tokens.tokens)  # tokens issue, list, revoke
cli.add_command(cli_serve.serve)  # the HTTP API


def main() -> None:
    """Console entry point."""
    cli(prog_name="fundledger")
