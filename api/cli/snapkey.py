"""`fundledger keys snapshot-init`: make the snapshot key (`api.snapshotkey`)."""

from __future__ import annotations

from pathlib import Path

import click

from api import render
from api.cli.kit import EXIT_USAGE, Ctx, fail
from api.config import ENV_SNAPSHOT_KEY_FILE
from api.snapshotkey import SnapshotKeyError, create_snapshot_key, load_snapshot_key

__all__ = ["SnapshotKeyError", "create_snapshot_key", "load_snapshot_key", "snapshot_init"]


@click.command("snapshot-init")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="new key file")
@click.pass_obj
def snapshot_init(ctx: Ctx, out: str) -> None:
    """Make the snapshot key (32 random bytes, file mode 0600). 快照密钥

    Give it to the application only (LEDGER_SNAPSHOT_KEY_FILE), never to the database role:
    with it, long counties load from snapshots; without it, they are replayed from events.
    """
    try:
        create_snapshot_key(Path(out))
    except SnapshotKeyError as e:
        fail(EXIT_USAGE, str(e))
    if ctx.as_json:
        render.emit_json({"snapshot_key_file": out})
    else:
        click.echo(f"快照密钥已写入 / snapshot key written to {out} (mode 0600); set "
                   f"{ENV_SNAPSHOT_KEY_FILE}={out} for the application, and keep it out of the "
                   "database role's reach")
