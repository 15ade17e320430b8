"""What every `fundledger` subcommand shares: the store, the actor, and the one table that
maps errors to exit codes (0 success, 1 rule violation or failed verification, 2 usage or I/O).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from api.config import ENV_ACTOR_ID, ENV_ROLE, ENV_SCOPE, snapshot_key_file
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.errors import LedgerError
from ledger.snapshots import SNAPSHOT_KEY_SETTING
from ledger.stores import store_env

EXIT_OK, EXIT_RULE, EXIT_USAGE = 0, 1, 2
DEFAULT_PROGRAMME = "gd-2020-ecrural"


class Ctx:
    """The global options: the store URL and the output form."""

    def __init__(self, db: str, as_json: bool) -> None:
        self.db, self.as_json = db, as_json

    def open(self, must_exist: bool = True) -> FundLedger:
        """The ledger on the chosen store; a named SQLite file must exist unless told not."""
        env = store_env(self.db)
        path = env.get("SQLITE_DBNAME")
        if must_exist and path and not Path(path).exists():
            fail(EXIT_USAGE, f"账本文件不存在 / no ledger at {path}: run `fundledger init` or "
                             "`fundledger demo` first, or give --db")
        key_file = snapshot_key_file()
        if key_file is not None:
            from api.snapkey import SnapshotKeyError, load_snapshot_key

            try:
                env[SNAPSHOT_KEY_SETTING] = load_snapshot_key(Path(key_file)).hex()
            except SnapshotKeyError as e:
                fail(EXIT_USAGE, str(e))
        return FundLedger(env)


def fail(code: int, message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


@contextmanager
def errors_mapped(ctx: Ctx) -> Iterator[None]:
    """Ledger errors exit 1 (2 for a bad store URL); I/O errors exit 2."""
    try:
        yield
    except LedgerError as e:
        if ctx.as_json:
            click.echo(json.dumps({"error": e.to_dict()}, ensure_ascii=False, indent=2))
        else:
            click.echo(f"拒绝 / rejected: {e}", err=True)
        sys.exit(EXIT_USAGE if e.field == "db" else EXIT_RULE)
    except OSError as e:
        fail(EXIT_USAGE, f"读写错误 / I/O error: {e}")


def actor_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--actor-id, --role, --scope (or LEDGER_ACTOR_ID, LEDGER_ROLE, LEDGER_SCOPE)."""
    f = click.option("--scope", envvar=ENV_SCOPE, help="the actor's 6-digit division code")(f)
    f = click.option("--role", envvar=ENV_ROLE,
                     help="province | city | county | auditor | reviewer")(f)
    return click.option("--actor-id", envvar=ENV_ACTOR_ID, help="who is acting")(f)


def make_actor(actor_id: str | None, role: str | None, scope: str | None) -> Actor:
    if not (actor_id and role and scope):
        raise click.UsageError(
            f"请指明操作人、角色与范围 / name the actor: --actor-id, --role, --scope (or "
            f"{ENV_ACTOR_ID}, {ENV_ROLE}, {ENV_SCOPE})"
        )
    return Actor(actor_id, role, scope)
