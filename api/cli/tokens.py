"""`fundledger tokens issue|list|revoke`: the HTTP API's bearer tokens (api.tokens)."""

from __future__ import annotations

import datetime as dt

import click

from api import render
from api.cli.kit import Ctx, errors_mapped
from api.tokens import TokenRecord, TokenStore, token_scope
from ledger import fields as F
from ledger.actors import ROLE_NAMES_ZH, ROLES


def _store(ctx: Ctx) -> TokenStore:
    ctx.open()  # the ledger must exist (a SQLite file is never created for tokens alone)
    return TokenStore(ctx.db)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _status(record: TokenRecord, today: dt.date) -> str:
    if record.revoked_at is not None:
        return f"已吊销 revoked {record.revoked_at}"
    if record.expires is not None and dt.date.fromisoformat(record.expires) <= today:
        return f"已过期 expired {record.expires}"
    return "有效 valid" + (f" (until {record.expires})" if record.expires else "")


@click.group("tokens")
def tokens() -> None:
    """The HTTP API's tokens: issue, list, revoke (only their hashes are stored). 接口令牌"""


@tokens.command("issue")
@click.option("--role", required=True, type=click.Choice(ROLES), help="the token's role")
@click.option("--county", help="a county token's county code")
@click.option("--city", help="a city token's city code (its counties)")
@click.option("--province", help="the province code of a province, auditor or reviewer "
              "token (default 440000)")
@click.option("--name", required=True, help="the actor id every event it records carries")
@click.option("--expires", help="the day it stops working (YYYY-MM-DD); default never")
@click.pass_obj
def issue(ctx: Ctx, role: str, county: str | None, city: str | None, province: str | None,
          name: str, expires: str | None) -> None:
    """Issue a token and print it once: it cannot be shown again."""
    with errors_mapped(ctx):
        scope = token_scope(role, county, city, province)
        until = F.date(expires, "expires") if expires is not None else None
        token, record = _store(ctx).issue(role, name, scope, until, _now())
    if ctx.as_json:
        render.emit_json({"token": token, **record.to_dict()})
        return
    click.echo(token)
    render.echo(f"# {record.token_id}: {name}（{ROLE_NAMES_ZH[role]} {role} {scope}）; "
                "令牌只显示这一次 / the token is shown this once: keep it secret", err=True)


@tokens.command("list")
@click.pass_obj
def list_(ctx: Ctx) -> None:
    """Every token issued: its id, actor, role, scope and whether it still works."""
    with errors_mapped(ctx):
        records = _store(ctx).list()
    today = _now().date()
    if ctx.as_json:
        render.emit_json([{**r.to_dict(), "status": _status(r, today)} for r in records])
        return
    render.table("接口令牌 / API tokens", ["id", "name", "role", "scope", "issued", "status"],
                 [[r.token_id, r.name, r.role, r.scope, r.issued_at, _status(r, today)]
                  for r in records])


@tokens.command("revoke")
@click.argument("token_id")
@click.pass_obj
def revoke(ctx: Ctx, token_id: str) -> None:
    """Revoke a token by its id (see `tokens list`): it stops working at once."""
    with errors_mapped(ctx):
        record = _store(ctx).revoke(token_id, _now())
    if ctx.as_json:
        render.emit_json(record.to_dict())
    else:
        render.echo(f"已吊销 / revoked {record.token_id} ({record.name}) at {record.revoked_at}")
