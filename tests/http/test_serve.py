"""`fundledger serve` answers over a real socket, with 2 workers on PostgreSQL, and a write made
through one is read back through the API (whichever worker answers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from api.tokens import TokenStore
from tests.conftest import PROGRAMME
from tests.http.server import serving
from tests.http.test_writes import APPROPRIATION, DISBURSEMENT, PROJECT


@pytest.fixture
def served(app: Any, store_url: str) -> Iterator[tuple[str, str]]:
    workers = 2 if store_url.startswith("postgresql") else 1
    with serving(store_url, workers) as base:
        yield base, store_url


def test_serve_answers_writes_and_reads_over_a_socket(served: tuple[str, str]) -> None:
    base, url = served
    now = dt.datetime.now(dt.UTC)
    store = TokenStore(url)
    prov, _ = store.issue("province", "p1", "440000", None, now)
    county, _ = store.issue("county", "c1", "441423", None, now)
    path = f"{base}/v1/programmes/{PROGRAMME}/counties/441423"
    with httpx2.Client(timeout=10) as http:
        for token, tail, body in ((prov, "/appropriations", APPROPRIATION),
                                  (county, "/projects", PROJECT),
                                  (county, "/disbursements", DISBURSEMENT)):
            r = http.post(path + tail, json=body, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": f"k{tail}"})
            assert r.status_code == 201, r.text
        for _ in range(4):  # with 2 workers, either may answer: both see the write
            doc = http.get(path + "/balances", headers={"Authorization": f"Bearer {county}"})
            assert doc.json()["money"]["disbursed_fen"] == 10_000_000
        assert http.get(base + "/readyz").json()["status"] == "ready"
        assert http.get(base + "/openapi.json").json()["info"]["title"].startswith("fundledger")
