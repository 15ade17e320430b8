"""What every `fundledger` subcommand shares: the store, the actor, and how an error ends a
command: its exit code from the one table (api.errors: 0 success, 1 rule violation or failed
verification, 2 usage or I/O), its text for people from api.render, or its JSON with --json.

Exit 1 means the ledger refused a command it could read: a hard rule (R1-R9), a reference, or
a field's value (`INVALID_FIELD`, `INVALID_TEXT`, `AMOUNT_INVALID`: a malformed date or amount
of an entry is refused like any other bad value of it). Exit 2 means the command could not be
read or carried out: click's usage errors, a file that is not UTF-8 I-JSON (`INPUT_MALFORMED`),
a store that cannot be reached, read or written (`STORE_UNAVAILABLE`), any other I/O error, and
an unexpected internal error (api.cli).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from api import render
from api.config import ENV_ACTOR_ID, ENV_ROLE, ENV_SCOPE, Settings
from api.errors import (
    EXIT_OK,
    EXIT_RULE,
    EXIT_USAGE,
    LOWER_ERRORS,
    STORE_ERRORS,
    exit_code,
    ledger_error,
    one_line,
    store_unavailable,
)
from api.snapshotkey import SnapshotKeyError
from api.wiring import Wiring
from audit.db import LogDB, StoreMissing
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.errors import LedgerError
from ledger.stores import store_env
from projections.service import Views

# Integer options that reach the store: within what SQLite and PostgreSQL store (a 25-digit
# --at-position overflowed the driver into an internal error); beyond is a usage error.
STORE_INT = click.IntRange(min=0, max=2**63 - 1)
YEAR = click.IntRange(min=1, max=9999)


class Seconds(click.ParamType[float]):
    """A duration in seconds within [lo, hi]: finite (click's FloatRange lets NaN through,
    since every comparison with NaN is false)."""

    name = "seconds"

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and self.lo <= seconds <= self.hi):
            self.fail(f"应为 {self.lo} 至 {self.hi} 秒 / expected {self.lo} to {self.hi} "
                      f"seconds, not {value!r}", param, ctx)
        return seconds
# Re-exported for the other CLI modules (the codes and the mapping live in api.errors).
__all__ = ["EXIT_OK", "EXIT_RULE", "EXIT_USAGE", "STORE_ERRORS", "one_line", "store_unavailable"]



class Ctx:
    """The global options (the store URL, the output form) and the process's stores, opened
    through the composition root (`api.wiring`) and closed when the command ends."""

    def __init__(self, db: str, as_json: bool, settings: Settings | None = None) -> None:
        self.settings = (settings or Settings.from_env()).with_db(db)
        self.db, self.as_json = self.settings.db_url, as_json
        self._wiring: Wiring | None = None

    @property
    def wiring(self) -> Wiring:
        if self._wiring is None:
            self._wiring = Wiring(self.settings)
            click_ctx = click.get_current_context(silent=True)
            if click_ctx is not None:  # closed when the command ends, not by the collector
                click_ctx.call_on_close(self._wiring.close)
        return self._wiring

    def open(self, must_exist: bool = True) -> FundLedger:
        """The ledger on the chosen store; a named SQLite file must exist unless told not."""
        path = store_env(self.db).get("SQLITE_DBNAME")
        if must_exist and path and not Path(path).exists():
            raise StoreMissing.of("db", path=path)
        try:
            return self.wiring.ledger()
        except SnapshotKeyError as e:
            fail(EXIT_USAGE, str(e))
        except STORE_ERRORS as e:
            raise store_unavailable(e) from None

    def views(self) -> Views:
        """The read models of the ledger (which must exist)."""
        self.open()
        return self.wiring.views()

    def log(self) -> LogDB:
        """The store's audit log (it says itself when the store is missing)."""
        return self.wiring.log()


def fail(code: int, message: str) -> NoReturn:
    render.echo(message, err=True)
    sys.exit(code)


def report(e: LedgerError, as_json: bool) -> NoReturn:
    """Print a ledger error (JSON on stdout with --json, else a line on stderr) and exit."""
    code = exit_code(e)
    if as_json:
        click.echo(render.json_text({"error": e.to_dict()}))
    else:
        render.echo(render.error_text(e, refused=code == EXIT_RULE), err=True)
    sys.exit(code)


def io_error(e: OSError) -> NoReturn:
    where = f" ({e.filename})" if e.filename else ""
    fail(EXIT_USAGE, f"读写错误 / I/O error{where}: {e.strerror or one_line(e)}")


@contextmanager
def errors_mapped(ctx: Ctx) -> Iterator[None]:
    """Ledger errors, and the lower layers' errors that map to one, reported as the table says;
    any other I/O error exits 2."""
    try:
        yield
    except LedgerError as e:
        report(e, ctx.as_json)
    except LOWER_ERRORS as e:
        report(ledger_error(e), ctx.as_json)
    except OSError as e:
        io_error(e)


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
