"""`fundledger serve` answers over a real socket, with 2 workers on PostgreSQL, and a write made
through one is read back through the API (whichever worker answers)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from api.tokens import TokenStore
from tests.conftest import PROGRAMME
from tests.http.test_writes import APPROPRIATION, DISBURSEMENT, PROJECT

STARTUP_S = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(app: Any, store_url: str) -> Iterator[tuple[str, str]]:
    port = _free_port()
    workers = "2" if store_url.startswith("postgresql") else "1"
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "--db", store_url, "serve",
                             "--port", str(port), "--workers", workers],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "LEDGER_DB": ""})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                if httpx2.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base, store_url
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reads and closes stderr


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
