"""Idempotent writes: every POST carries an `Idempotency-Key`; a replay gets the original answer.

A record is kept per (token, key): the SHA-256 of the request (method, path and body bytes),
the answer's status and body. The same key with the same request returns the stored answer
and records nothing (header `Idempotent-Replayed: true`); with another request it is refused
with 409 `IDEMPOTENCY_KEY_REUSED`. Only successful answers are kept: a refused request
recorded nothing, so running it again is safe, and its answer may rightly change.

A write and its record are not one transaction: if the process dies between them, the retry
runs the command again, and the ledger's own idempotency (every money entry's `entry_id`, the
natural key of the others) answers it with the original entry, recording nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from api.http.problems import Problem
from api.sidetables import SideTable
from ledger.sql import QmarkCursor

IDEMPOTENCY_KEY_MAX_CHARS = 128
_KEY_RE = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_CHARS}}}")
IDEMPOTENCY_TABLE = "fundledger_http_idempotency"


@dataclass(frozen=True)
class Stored:
    status: int
    body: bytes


def request_sha256(method: str, path: str, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def checked_key(key: str | None) -> str:
    """The header's value, or a 400 problem saying what a key must be."""
    if key is None:
        raise Problem(400, "IDEMPOTENCY_KEY_MISSING", "写请求须带 Idempotency-Key 请求头",
                      "a write needs an Idempotency-Key header", "Idempotency-Key")
    if not _KEY_RE.fullmatch(key):
        raise Problem(400, "IDEMPOTENCY_KEY_INVALID",
                      f"Idempotency-Key 须为1至{IDEMPOTENCY_KEY_MAX_CHARS}个可见 ASCII 字符",
                      f"an Idempotency-Key is 1..{IDEMPOTENCY_KEY_MAX_CHARS} visible ASCII "
                      "characters", "Idempotency-Key")
    return key


class IdempotencyStore(SideTable):
    table = IDEMPOTENCY_TABLE
    schema = f"""CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} (
        token_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (token_id, idem_key)
    )"""

    def find(self, token_id: str, key: str, digest: str) -> Stored | None:
        """The stored answer to this request; a 409 problem if the key named another."""
        with self.cursor() as cur:
            row = None if cur is None else self._row(cur, token_id, key)
        return _stored(row, digest)

    def keep(self, token_id: str, key: str, digest: str, status: int, body: bytes) -> Stored:
        """Keep an answer; if a concurrent twin kept one first, that one is the answer.
        One transaction: the insert waits for a twin's uncommitted one, then the read sees it."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        conflict = "ON CONFLICT (token_id, idem_key) DO NOTHING"
        with self.cursor(create=True) as cur:
            assert cur is not None
            cur.execute(f"INSERT INTO {IDEMPOTENCY_TABLE} (token_id, idem_key, request_sha256,"
                        f" status, body, created_at) VALUES (?, ?, ?, ?, ?, ?) {conflict}",
                        (token_id, key, digest, status, body.decode("utf-8"), now))
            row = self._row(cur, token_id, key)
        found = _stored(row, digest)
        assert found is not None
        return found

    @staticmethod
    def _row(cur: QmarkCursor, token_id: str, key: str) -> Any:
        return cur.execute(f"SELECT request_sha256, status, body FROM {IDEMPOTENCY_TABLE} "
                           "WHERE token_id = ? AND idem_key = ?", (token_id, key)).fetchone()


def _stored(row: Any, digest: str) -> Stored | None:
    """The answer kept in `row` for a request of this digest; None if no row; 409 if the key
    was used for another request."""
    if row is None:
        return None
    if row[0] != digest:
        raise Problem(409, "IDEMPOTENCY_KEY_REUSED",
                      "此 Idempotency-Key 已用于另一个请求，未记录任何内容",
                      "this Idempotency-Key was used for another request; nothing was "
                      "recorded", "Idempotency-Key")
    return Stored(int(row[1]), str(row[2]).encode("utf-8"))
