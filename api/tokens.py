"""API tokens: who may call the HTTP API, as which actor (docs/security.md).

A token is 256 random bits, shown once when it is issued (`fl_` and 43 characters of base64url).
The store keeps only its SHA-256 (a token this long needs no slow hash: there is nothing to
guess), with the actor it stands for — its name (the actor id every event it records carries),
role and scope — its expiry date and, once revoked, when. A token is found by its hash alone.

The tokens live in the ledger's own store (table `fundledger_tokens`), written only by the
`fundledger tokens` command: whoever can write that table can make a token, exactly as whoever
can write the store can use the command line; docs/security.md says how PostgreSQL's roles
keep the server's role from writing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from api.sidetables import SideTable
from ledger import fields as F
from ledger.actors import Actor, city_of
from ledger.errors import InvalidField, LedgerError

TOKEN_PREFIX = "fl_"
TOKEN_RANDOM_BYTES = 32
TOKEN_MAX_CHARS = 64  # a longer bearer value is refused before it is hashed
TOKEN_ID_HEX_CHARS = 12
TOKENS_TABLE = "fundledger_tokens"
DEFAULT_PROVINCE = "440000"  # the scope of province, auditor and reviewer tokens unless told
_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TOKENS_TABLE} (
    token_id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires TEXT,
    revoked_at TEXT
)"""
_COLUMNS = "token_id, name, role, scope, issued_at, expires, revoked_at"


class TokenRefused(LedgerError):
    """The bearer token is missing, unknown, expired or revoked (HTTP 401). The message does
    not say which of the unknown cases it was: a guesser learns nothing."""

    code = "TOKEN_REFUSED"
    rule = "auth"
    template_zh = "令牌无效、已过期或已吊销（{reason_zh}）"
    template_en = "the token is invalid, expired or revoked ({reason})"


class TokenUnknown(LedgerError):
    """`tokens revoke` names a token id that was never issued."""

    code = "TOKEN_UNKNOWN"
    rule = "reference"
    template_zh = "没有编号为 {token_id} 的令牌"
    template_en = "no token with id {token_id}"


@dataclass(frozen=True)
class TokenRecord:
    """What the store knows of a token (never the token itself)."""

    token_id: str
    name: str
    role: str
    scope: str
    issued_at: str
    expires: str | None
    revoked_at: str | None

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role, self.scope)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_scope(role: str, county: str | None, city: str | None, province: str | None) -> str:
    """The scope code of a role's token: its county, its city, or the province."""
    wanted = {"county": ("county", county), "city": ("city", city)}.get(role)
    for name, value in (("county", county), ("city", city)):
        if value is not None and (wanted is None or wanted[0] != name):
            raise InvalidField(f"角色 {role} 的令牌不取 --{name}",
                               f"a {role} token takes no --{name}", name)
    if wanted is not None:
        name, code = wanted
        if code is None:
            raise InvalidField(f"角色 {role} 的令牌须给出 --{name}",
                               f"a {role} token needs --{name}", name)
        code = F.division_code(code, name)
        if name == "city" and city_of(code) != code:
            raise InvalidField(f"--city 应为地市代码（如 441400），不是 {code}",
                               f"--city must be a city code (like 441400), not {code}", "city")
        return code
    return F.division_code(province or DEFAULT_PROVINCE, "province")


class TokenStore(SideTable):
    """The tokens table of one store (SQLite file or PostgreSQL database)."""

    table = TOKENS_TABLE
    schema = _SCHEMA

    def issue(self, role: str, name: str, scope: str, expires: dt.date | None,
              now: dt.datetime) -> tuple[str, TokenRecord]:
        """A new token (returned once, never stored) and its record."""
        Actor(name, role, scope)  # the actor it stands for must be valid
        if expires is not None and expires <= now.date():
            raise InvalidField(f"到期日 {expires} 须晚于今天", f"--expires {expires} must be "
                               "after today", "expires")
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)
        record = TokenRecord(f"tok_{secrets.token_hex(TOKEN_ID_HEX_CHARS // 2)}", name, role,
                             scope, now.isoformat(timespec="seconds"),
                             expires.isoformat() if expires else None, None)
        with self.cursor(create=True) as cur:
            assert cur is not None
            cur.execute(f"INSERT INTO {TOKENS_TABLE} (token_id, token_sha256, name, role, scope,"
                        " issued_at, expires, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (record.token_id, token_sha256(token), name, role, scope,
                         record.issued_at, record.expires, None))
        return token, record

    def list(self) -> list[TokenRecord]:
        with self.cursor() as cur:
            rows = [] if cur is None else cur.execute(
                f"SELECT {_COLUMNS} FROM {TOKENS_TABLE} ORDER BY issued_at, token_id").fetchall()
        return [TokenRecord(*row) for row in rows]

    def revoke(self, token_id: str, now: dt.datetime) -> TokenRecord:
        """Revoke a token from now on (a second revocation keeps the first time)."""
        with self.cursor() as cur:
            row = None
            if cur is not None:
                cur.execute(f"UPDATE {TOKENS_TABLE} SET revoked_at = ? "
                            "WHERE token_id = ? AND revoked_at IS NULL",
                            (now.isoformat(timespec="seconds"), token_id))
                row = cur.execute(f"SELECT {_COLUMNS} FROM {TOKENS_TABLE} WHERE token_id = ?",
                                  (token_id,)).fetchone()
        if row is None:
            raise TokenUnknown.of("token_id", token_id=F.shown(token_id))
        return TokenRecord(*row)

    def authenticate(self, token: str | None, today: dt.date) -> TokenRecord:
        """The record of a valid token; TokenRefused for anything else."""
        if not token or len(token) > TOKEN_MAX_CHARS or not token.startswith(TOKEN_PREFIX):
            raise TokenRefused.of("token", reason="malformed", reason_zh="格式不对")
        with self.cursor() as cur:
            row = None if cur is None else cur.execute(
                f"SELECT {_COLUMNS} FROM {TOKENS_TABLE} WHERE token_sha256 = ?",
                (token_sha256(token),)).fetchone()
        if row is None:
            raise TokenRefused.of("token", reason="unknown", reason_zh="未知令牌")
        record = TokenRecord(*row)
        if record.revoked_at is not None:
            raise TokenRefused.of("token", reason="revoked", reason_zh="已吊销")
        if record.expires is not None and dt.date.fromisoformat(record.expires) <= today:
            raise TokenRefused.of("token", reason="expired", reason_zh="已过期")
        return record
