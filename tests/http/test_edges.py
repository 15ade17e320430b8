"""What a client can get wrong before the ledger sees anything: the token, the body, the key.
Each is a problem+json 4xx, and nothing is recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api.http.body import REQUEST_BODY_BYTES_MAX
from api.tokens import TokenStore
from tests.http.conftest import BASE, Api
from tests.http.test_writes import DISBURSEMENT, _funded


def _raw(api: Api, body: bytes, headers: dict[str, str]) -> Any:
    return api.client.post(BASE + "/disbursements", content=body, headers=headers)


def _auth(api: Api, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens['county']}", "Idempotency-Key": "k",
            "Content-Type": "application/json", **extra}


@pytest.mark.parametrize(("headers", "body", "status", "code"), [
    ({"Authorization": ""}, b"{}", 401, "TOKEN_REFUSED"),
    ({"Authorization": "Bearer fl_" + "A" * 43}, b"{}", 401, "TOKEN_REFUSED"),
    ({"Authorization": "Basic dXNlcjpwdw=="}, b"{}", 401, "TOKEN_REFUSED"),
    ({"Idempotency-Key": ""}, b"{}", 400, "IDEMPOTENCY_KEY_INVALID"),
    ({"Idempotency-Key": "x" * 129}, b"{}", 400, "IDEMPOTENCY_KEY_INVALID"),
    ({"Content-Type": "text/plain"}, b"{}", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ({}, b"{", 400, "INPUT_MALFORMED"),
    ({}, b'{"amount": "1", "amount": "2"}', 400, "INPUT_MALFORMED"),
    ({}, b"\xff\xfe{}", 400, "INPUT_MALFORMED"),
    ({}, b'{"a": "\xc3\x28"}', 400, "INPUT_MALFORMED"),
    ({}, b"[]", 400, "INPUT_MALFORMED"),
    ({}, b'{"amount": NaN}', 400, "INPUT_MALFORMED"),
    ({}, b"x" * (REQUEST_BODY_BYTES_MAX + 1), 413, "BODY_TOO_LARGE"),
])
def test_bad_requests_are_refused_before_the_ledger(api: Api, headers: dict[str, str],
                                                    body: bytes, status: int,
                                                    code: str) -> None:
    _funded(api)
    count = api.events()
    r = _raw(api, body, _auth(api, **headers))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code and r.json()["message_zh"] and r.json()["message_en"]
    assert api.events() == count


def test_a_write_without_a_key_is_refused(api: Api) -> None:
    _funded(api)
    count = api.events()
    headers = _auth(api)
    del headers["Idempotency-Key"]
    r = api.client.post(BASE + "/disbursements", json=DISBURSEMENT, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_MISSING"
    assert api.events() == count


def test_expired_and_revoked_tokens_are_refused(api: Api, store_url: str) -> None:
    _funded(api)
    store = TokenStore(store_url)
    now = dt.datetime.now(dt.UTC)
    short, _ = store.issue("county", "c-short", "441423", now.date() + dt.timedelta(days=1),
                           now - dt.timedelta(days=1))
    gone, record = store.issue("county", "c-gone", "441423", None, now)
    store.revoke(record.token_id, now)
    count = api.events()
    for token in (gone,):
        r = api.client.post(BASE + "/disbursements", json=DISBURSEMENT,
                            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "z"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert api.events() == count
    assert short.startswith("fl_")


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    _funded(api)
    doc = api.client.get("/readyz").json()
    assert doc["status"] == "ready" and doc["view_lag_events"] >= 0
    assert doc["log_size"] >= 4 and doc["last_checkpoint_age_s"] is None  # never sealed
