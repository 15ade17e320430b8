"""`fundledger serve` answers over a real socket, with 2 workers on PostgreSQL, and a write made
through one is read back through the API (whichever worker answers)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from api.tokens import TokenStore
from audit.keyfile import create_key_file
from tests.conftest import PROGRAMME
from tests.http.server import serving
from tests.http.test_writes import APPROPRIATION, DISBURSEMENT, PROJECT

ORIGIN = "fundledger.test/served"
SEALED_WITHIN_S = 20


@pytest.fixture
def served(app: Any, store_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The server, with the log's key: it seals and signs by itself."""
    create_key_file(tmp_path / "log.key", ORIGIN)
    workers = 2 if store_url.startswith("postgresql") else 1
    with serving(store_url, workers, {"LEDGER_LOG_KEY": str(tmp_path / "log.key")}) as base:
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
        deadline = time.monotonic() + SEALED_WITHIN_S
        while True:  # one worker seals, and signs every SIGN_EVERY_S: the receipt comes
            receipt = http.get(f"{base}/v1/audit/receipts/D1?programme={PROGRAMME}"
                               "&county=441423", headers={"Authorization": f"Bearer {county}"})
            if receipt.status_code == 200:
                break
            assert time.monotonic() < deadline, receipt.text
            time.sleep(0.5)
        ready = http.get(base + "/readyz").json()  # after the last write was sealed and signed
        assert ready["unsealed_positions"] == 0 and ready["last_checkpoint_age_s"] is not None
        assert http.get(base + "/openapi.json").json()["info"]["title"].startswith("fundledger")
