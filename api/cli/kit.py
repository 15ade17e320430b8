"""What every `fundledger` subcommand shares: the store, the actor, and the one table that
maps errors to exit codes (0 success, 1 rule violation or failed verification, 2 usage or I/O).

Exit 1 means the ledger refused a command it could read: a hard rule (R1-R9), a reference, or
a field's value (`INVALID_FIELD`, `INVALID_TEXT`, `AMOUNT_INVALID`: a malformed date or amount
of an entry is refused like any other bad value of it). Exit 2 means the command could not be
read or carried out: click's usage errors, a file that is not UTF-8 I-JSON (`INPUT_MALFORMED`),
a store that cannot be reached, read or written (`STORE_UNAVAILABLE`), any other I/O error, and
an unexpected internal error (api.cli).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
import psycopg
from eventsourcing.persistence import PersistenceError

from api import render
from api.config import ENV_ACTOR_ID, ENV_ROLE, ENV_SCOPE, Settings
from api.snapshotkey import SnapshotKeyError
from api.wiring import Wiring
from audit.db import LogDB
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.errors import InputMalformed, LedgerError, StoreUnavailable
from ledger.stores import store_env
from projections.service import Views

EXIT_OK, EXIT_RULE, EXIT_USAGE = 0, 1, 2
# Integer options that reach the store: within what SQLite and PostgreSQL store (a 25-digit
# --at-position overflowed the driver into an internal error); beyond is a usage error.
STORE_INT = click.IntRange(min=0, max=2**63 - 1)
YEAR = click.IntRange(min=1, max=9999)
DEFAULT_PROGRAMME = "gd-2020-ecrural"
# Ledger errors that are usage or I/O errors (exit 2); every other LedgerError exits 1.
USAGE_CODES = frozenset({InputMalformed.code, StoreUnavailable.code})
STORE_ERRORS = (sqlite3.Error, psycopg.Error, PersistenceError)
CAUSE_SHOWN_MAX_CHARS = 200
# What a store error's text says, and how it is told (first match wins).
_STORE_CAUSES = (
    (("disk is full", "no space left"), "存储空间已满", "the disk is full"),
    (("disk i/o error",), "磁盘读写错误（磁盘可能已满或损坏）",
     "disk I/O error (the disk may be full or failing)"),
    (("readonly", "read-only"), "存储只读（文件或目录不可写）",
     "the store is read-only (its file or directory cannot be written)"),
    (("couldn't get a connection", "connection refused", "connection failed",
      "could not connect", "timeout expired"), "无法连接数据库服务器",
     "cannot connect to the database server"),
    (("unable to open database",), "无法打开数据库文件", "cannot open the database file"),
)


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
            fail(EXIT_USAGE, f"账本文件不存在 / no ledger at {path}: run `fundledger init` or "
                             "`fundledger demo` first, or give --db")
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


def one_line(e: BaseException) -> str:
    """An exception's text on one line, cut short: for a cause, not for a traceback."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= CAUSE_SHOWN_MAX_CHARS else text[:CAUSE_SHOWN_MAX_CHARS] + "…"


def store_unavailable(e: BaseException) -> StoreUnavailable:
    """A store's error (sqlite3, psycopg, eventsourcing) told in both languages."""
    cause = one_line(e)
    lowered = cause.lower()
    zh, en = "无法读写存储", "cannot use the store"
    for needles, zh_said, en_said in _STORE_CAUSES:
        if any(n in lowered for n in needles):
            zh, en = zh_said, en_said
            break
    return StoreUnavailable(f"{zh}，命令未完成，未记录任何内容（{cause}）",
                            f"{en}; the command did not complete and nothing was recorded "
                            f"({cause})", "db", cause=cause)


def exit_code(e: LedgerError) -> int:
    return EXIT_USAGE if e.code in USAGE_CODES or e.field == "db" else EXIT_RULE


def report(e: LedgerError, as_json: bool) -> NoReturn:
    """Print a ledger error (JSON on stdout with --json, else a line on stderr) and exit."""
    code = exit_code(e)
    if as_json:
        click.echo(render.json_text({"error": e.to_dict()}))
    elif code == EXIT_RULE:
        render.echo(f"拒绝 / rejected: {e}", err=True)
    else:
        render.echo(f"错误 / error: {e}", err=True)
    sys.exit(code)


def io_error(e: OSError) -> NoReturn:
    where = f" ({e.filename})" if e.filename else ""
    fail(EXIT_USAGE, f"读写错误 / I/O error{where}: {e.strerror or one_line(e)}")


@contextmanager
def errors_mapped(ctx: Ctx) -> Iterator[None]:
    """Ledger errors exit 1 (2 for usage and store errors); store and I/O errors exit 2."""
    try:
        yield
    except LedgerError as e:
        report(e, ctx.as_json)
    except STORE_ERRORS as e:
        report(store_unavailable(e), ctx.as_json)
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
