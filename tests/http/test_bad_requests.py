"""The corpus of bad requests (tests/data/bad_requests.jsonl) sent to the HTTP API on SQLite and
PostgreSQL: each is answered with its documented 4xx status and `code` as
application/problem+json in Chinese and English, never a 5xx, and records nothing."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.http.app import create_app
from api.tokens import TokenStore
from ledger.application import FundLedger
from ledger.rules import packaged_rules
from ledger.stores import store_env
from tests.conftest import (
    ALLOCATION_FEN,
    COUNTY,
    PROGRAMME,
    PROVINCE,
    create_pg_database,
    drop_pg_database,
    event_count,
)
from tests.http.conftest import BASE, TOKENS

DATA = Path(__file__).parents[1] / "data"
CASES = [json.loads(line) for line in
         (DATA / "bad_requests.jsonl").read_text("utf-8").splitlines()]
CJK_RE = re.compile("[\u4e00-\u9fff]")
ENGLISH_RE = re.compile(r"\b[A-Za-z]{2,} [A-Za-z]{2,}\b")  # two English words in a row


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_bad_requests",
                                                  DATA / "make_bad_requests.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Base:
    """A store holding the corpus's base state, a client on it, and a token per sender."""

    client: TestClient
    ledger: FundLedger
    tokens: dict[str, str]

    def send(self, method: str, path: str, who: str, headers: dict[str, str],
             body: bytes | None) -> Any:
        sent = dict(headers)
        if who == "malformed":
            sent["Authorization"] = "Bearer not-a-token"
        elif who != "none":
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.request(method, path, headers=sent, content=body)

    def post(self, who: str, path: str, doc: dict[str, Any], key: str) -> Any:
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        return self.send("POST", path if path.startswith("/v1/") else BASE + path, who,
                         headers, json.dumps(doc, ensure_ascii=False).encode("utf-8"))


def _tokens(url: str) -> dict[str, str]:
    """A token per role of the HTTP tests, and an expired and a revoked county token."""
    store, now = TokenStore(url), dt.datetime.now(dt.UTC)
    tokens = {}
    for who, (name, scope) in TOKENS.items():
        tokens[who] = store.issue("county" if who == "other_county" else who, name, scope,
                                  None, now)[0]
    long_ago = now - dt.timedelta(days=30)  # issued then, expired yesterday
    tokens["expired"] = store.issue("county", "c-expired", COUNTY,
                                    now.date() - dt.timedelta(days=1), long_ago)[0]
    tokens["revoked"], record = store.issue("county", "c-revoked", COUNTY, None, now)
    store.revoke(record.token_id, now)
    return tokens


def _build(url: str) -> tuple[FundLedger, dict[str, str]]:
    ledger = FundLedger(store_env(url))
    ledger.open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE,
                          dt.date(2020, 3, 1))
    ledger.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "粤商务建字〔2020〕1号",
                        PROVINCE, dt.date(2020, 3, 2))
    return ledger, _tokens(url)


def _base_writes(base: Base, used_key: str) -> None:
    """Appropriation A1, project P1, disbursement D1 (under `used_key`), 2020 closed."""
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("province", "/appropriations", {"entry_id": "A1", "batch": 1, "amount": "5000000",
                                         "document_no": "粤5号", "business_date": "2020-04-01"}),
        ("county", "/projects", {"project_code": "P1", "name": "县级电商公共服务中心",
                                 "category": "public_services", "budget": "3000000.00",
                                 "responsible_person": "张三", "implementing_unit": "县商务局",
                                 "start_date": "2020-04-01", "end_date": "2021-06-30",
                                 "business_date": "2020-04-02"}),
        ("county", "/disbursements", {"entry_id": "D1", "project_code": "P1",
                                      "amount": "100000.00", "payee": "某公司",
                                      "voucher_no": "V1", "business_date": "2020-04-03"}),
        ("province", "/year-close", {"year": 2020, "business_date": "2021-01-15"}),
    ]
    for n, (who, path, doc) in enumerate(steps):
        key = used_key if path == "/disbursements" else f"base-{n}"
        r = base.post(who, path, doc, key)
        assert r.status_code == 201, r.text


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def base(request: Any, tmp_path_factory: Any, pg_available: bool) -> Iterator[Base]:
    """The corpus's base state, built once per store for every case (none records anything)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('badreq') / 'ledger.db'}"
    elif not pg_available:
        pytest.skip("PostgreSQL unreachable (developer machine; CI fails instead)")
    else:
        url = create_pg_database()
    ledger, tokens = _build(url)
    try:
        with TestClient(create_app(Settings(url)), raise_server_exceptions=False) as client:
            built = Base(client, ledger, tokens)
            _base_writes(built, _generator().USED_KEY)
            yield built
    finally:
        ledger.close()
        if request.param == "postgres":
            drop_pg_database(url)


def body_bytes(body: Any) -> bytes | None:
    if body is None or isinstance(body, str):
        return None if body is None else body.encode("utf-8")
    return b"".join(p.encode("utf-8") if isinstance(p, str) else
                    base64.b64decode(p["b64"]) if "b64" in p else (p["t"] * p["n"]).encode()
                    for p in body)


def test_corpus_is_large_and_generated() -> None:
    """At least 80 cases, unique names, and the file is what the generator writes."""
    assert len(CASES) >= 80 and len({c["name"] for c in CASES}) == len(CASES)
    lines = "".join(json.dumps(c, ensure_ascii=True) + "\n" for c in _generator().cases())
    assert lines == (DATA / "bad_requests.jsonl").read_text("utf-8")


def test_templates_are_accepted(tmp_path: Path) -> None:
    """Each template the corpus changes is recorded as it stands, on the same base state: a
    case is refused for the one thing it changes, not for a mistake in the template."""
    gen = _generator()
    url = f"sqlite:///{tmp_path / 'ok.db'}"
    ledger, tokens = _build(url)
    try:
        with TestClient(create_app(Settings(url)), raise_server_exceptions=False) as client:
            base = Base(client, ledger, tokens)
            _base_writes(base, gen.USED_KEY)
            for name, (who, path, doc) in gen.TEMPLATES.items():
                r = base.post(who, path, doc, f"template-{name}")
                assert r.status_code == 201, (name, r.text)
    finally:
        ledger.close()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_request(case: dict[str, Any], base: Base) -> None:
    """One bad request: its status and code, problem+json in both languages, nothing
    recorded."""
    before = event_count(base.ledger)
    r = base.send(case["method"], case["path"], case["who"], case["headers"],
                  body_bytes(case["body"]))
    after = event_count(base.ledger)
    assert r.status_code < 500, r.text
    assert (r.status_code, r.headers.get("content-type")) == (
        case["status"], "application/problem+json"), r.text
    doc = r.json()
    assert doc["code"] == case["code"], doc
    assert doc["status"] == case["status"] and doc["type"].endswith(
        case["code"].lower().replace("_", "-"))
    assert CJK_RE.search(doc["message_zh"]) and ENGLISH_RE.search(doc["message_en"]), doc
    assert after == before, f"{after - before} events recorded by a refused request"
