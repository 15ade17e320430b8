"""`fundledger`: the command line of the fund ledger (专项资金台账)."""

from __future__ import annotations

import click

from api import cli_audit, cli_read, cli_status, cli_write, snapkey
from api.clikit import Ctx
from api.config import ENV_DB, default_db_url


@click.group()
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


def main() -> None:
    """Console entry point."""
    cli(prog_name="fundledger")
