"""The HTTP API on a real store (SQLite and PostgreSQL), through FastAPI's TestClient, with a
token per role."""

from __future__ import annotations

import datetime as dt
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
from tests.conftest import COUNTY, PROGRAMME, event_count

NOW = dt.datetime.now(dt.UTC)
# role -> (name, scope) of the token issued for it
TOKENS = {
    "province": ("prov-officer-1", "440000"),
    "city": ("city-officer-1", "441400"),
    "county": ("county-officer-1", COUNTY),
    "other_county": ("county-officer-2", "441424"),
    "auditor": ("auditor-1", "440000"),
    "reviewer": ("reviewer-1", "440000"),
}
BASE = f"/v1/programmes/{PROGRAMME}/counties/{COUNTY}"


@dataclass
class Api:
    client: TestClient
    ledger: FundLedger
    tokens: dict[str, str]
    _keys: int = 0

    def headers(self, who: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if key is None:
            self._keys += 1
            key = f"test-key-{self._keys}"
        headers["Idempotency-Key"] = key
        return headers

    def post(self, who: str, path: str, body: Any, key: str | None = None) -> Any:
        return self.client.post(path if path.startswith("/v1/") else BASE + path, json=body,
                                headers=self.headers(who, key))

    def events(self) -> int:
        return event_count(self.ledger)


@pytest.fixture
def api(app: FundLedger, store_url: str, tmp_path: Path) -> Iterator[Api]:
    """GD-2020 opened, county 441423 admitted with 10 million yuan, a token for each role."""
    store = TokenStore(store_url)
    tokens = {}
    for who, (name, scope) in TOKENS.items():
        role = "county" if who == "other_county" else who
        tokens[who] = store.issue(role, name, scope, None, NOW)[0]
    settings = Settings(store_url, attachments_dir=str(tmp_path / "attachments"))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, app, tokens)
