"""API tokens (api.tokens, `fundledger tokens`): shown once, stored as a hash, refused when
unknown, malformed, expired or revoked; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from api.cli import cli
from api.tokens import TOKENS_TABLE, TokenRefused, TokenStore, token_scope
from ledger.errors import InvalidField
from tests.conftest import event_count

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def _rows(url: str) -> list[tuple[Any, ...]]:
    sql = f"SELECT * FROM {TOKENS_TABLE}"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(sql))
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql))


def test_a_token_is_stored_only_as_its_hash_and_stands_for_its_actor(app: Any,
                                                                     store_url: str) -> None:
    store = TokenStore(store_url)
    token, record = store.issue("county", "张三", "441423", None, NOW)
    assert token.startswith("fl_") and len(token) == 46
    stored = _rows(store_url)
    assert len(stored) == 1 and token not in repr(stored)
    assert hashlib.sha256(token.encode()).hexdigest() in repr(stored)
    found = store.authenticate(token, NOW.date())
    assert found == record
    assert (found.actor.id, found.actor.role, found.actor.scope) == ("张三", "county", "441423")


@pytest.mark.parametrize("bad", ["", "fl_", "Bearer x", "fl_" + "A" * 43, "x" * 10_000])
def test_unknown_and_malformed_tokens_are_refused(app: Any, store_url: str, bad: str) -> None:
    store = TokenStore(store_url)
    store.issue("auditor", "auditor-1", "440000", None, NOW)
    with pytest.raises(TokenRefused) as e:
        store.authenticate(bad, NOW.date())
    assert e.value.code == "TOKEN_REFUSED" and e.value.field == "token"
    assert "令牌" in e.value.zh and "token" in e.value.en


def test_expired_and_revoked_tokens_stop_working(app: Any, store_url: str) -> None:
    store = TokenStore(store_url)
    token, record = store.issue("reviewer", "rev-1", "440000", dt.date(2026, 12, 10), NOW)
    assert store.authenticate(token, dt.date(2026, 12, 9)) == record
    with pytest.raises(TokenRefused, match="expired"):
        store.authenticate(token, dt.date(2026, 12, 10))  # the expiry day is the first refused
    other, other_record = store.issue("province", "prov-1", "440000", None, NOW)
    revoked = store.revoke(other_record.token_id, NOW)
    assert revoked.revoked_at is not None
    assert store.revoke(revoked.token_id, NOW + dt.timedelta(days=1)) == revoked  # first time
    with pytest.raises(TokenRefused, match="revoked"):
        store.authenticate(other, NOW.date())


@pytest.mark.parametrize(("role", "county", "city", "province", "scope"), [
    ("county", "441423", None, None, "441423"),
    ("city", None, "441400", None, "441400"),
    ("province", None, None, None, "440000"),
    ("auditor", None, None, "450000", "450000"),
])
def test_a_tokens_scope_follows_its_role(role: str, county: str | None, city: str | None,
                                         province: str | None, scope: str) -> None:
    assert token_scope(role, county, city, province) == scope


@pytest.mark.parametrize(("role", "county", "city"), [
    ("county", None, None), ("county", "4414", None), ("city", "441423", None),
    ("city", None, "441423"), ("province", "441423", None), ("reviewer", None, "441400"),
])
def test_a_scope_that_does_not_fit_the_role_is_refused(role: str, county: str | None,
                                                       city: str | None) -> None:
    with pytest.raises(InvalidField):
        token_scope(role, county, city, None)


def _run(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", url, *args])


def test_the_tokens_command_issues_lists_and_revokes(app: Any, store_url: str) -> None:
    before = event_count(app)
    r = _run(store_url, "--json", "tokens", "issue", "--role", "city", "--city", "441400",
             "--name", "city-officer-1", "--expires", "2099-01-01")
    assert r.exit_code == 0, r.output
    issued = json.loads(r.stdout)
    assert issued["scope"] == "441400" and issued["token"].startswith("fl_")
    listed = json.loads(_run(store_url, "--json", "tokens", "list").stdout)
    assert [t["token_id"] for t in listed] == [issued["token_id"]]
    assert "token" not in listed[0] and issued["token"] not in json.dumps(listed)
    r = _run(store_url, "tokens", "revoke", issued["token_id"])
    assert r.exit_code == 0 and "revoked" in r.output
    with pytest.raises(TokenRefused):
        TokenStore(store_url).authenticate(issued["token"], NOW.date())
    assert event_count(app) == before  # tokens are not events


@pytest.mark.parametrize("args", [
    ["tokens", "issue", "--role", "county", "--name", "x"],                       # no county
    ["tokens", "issue", "--role", "county", "--county", "441423", "--name", " x"],  # padding
    ["tokens", "issue", "--role", "county", "--county", "441423", "--name", "x",
     "--expires", "2020-13-01"],
    ["tokens", "issue", "--role", "county", "--county", "441423", "--name", "x",
     "--expires", "2000-01-01"],                                                  # past
    ["tokens", "issue", "--role", "mayor", "--name", "x"],
    ["tokens", "revoke", "tok_000000000000"],
])
def test_bad_token_commands_are_refused_bilingually(app: Any, store_url: str,
                                                    args: list[str]) -> None:
    r = _run(store_url, *args)
    assert r.exit_code in (1, 2), r.output
    assert ("Traceback" not in r.output and r.exception is None) or isinstance(r.exception,
                                                                             SystemExit)
    assert any("\u4e00" <= c <= "\u9fff" for c in r.output), r.output
    assert not TokenStore(store_url).list()


def test_reading_tokens_never_creates_their_table(app: Any, store_url: str) -> None:
    """The server's role may read tokens but not create tables: before any token is issued,
    every token is refused and nothing is made."""
    store = TokenStore(store_url)
    with pytest.raises(TokenRefused, match="unknown"):
        store.authenticate("fl_" + "A" * 43, NOW.date())
    assert store.list() == []
    with pytest.raises(Exception, match="fundledger_tokens"):
        _rows(store_url)
