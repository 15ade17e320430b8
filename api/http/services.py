"""What one server process opens once and shares between its requests."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from fastapi import Request

from api.config import snapshot_key_file
from api.http.idempotency import IdempotencyStore
from api.tokens import TokenStore
from audit.db import LogDB
from audit.log import latest_checkpoint
from ledger.application import FundLedger
from ledger.snapshots import SNAPSHOT_KEY_SETTING
from ledger.stores import store_env
from projections.service import Views


def open_ledger(url: str) -> FundLedger:
    """The ledger on `url`, with the snapshot key if one is configured."""
    env = store_env(url)
    key_file = snapshot_key_file()
    if key_file is not None:
        from api.cli.snapkey import load_snapshot_key

        env[SNAPSHOT_KEY_SETTING] = load_snapshot_key(Path(key_file)).hex()
    return FundLedger(env)


class Services:
    """The ledger, its read models, the log, the tokens and the idempotency records."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ledger = open_ledger(url)
        self.views = Views(self.ledger)
        self.tokens = TokenStore(url)
        self.idempotency = IdempotencyStore(url)
        self._log = LogDB(url)
        self._log_lock = threading.Lock()  # one connection: one request at a time uses it

    def today(self) -> dt.date:
        return dt.datetime.now(dt.UTC).date()

    def checkpoint_age_s(self) -> int | None:
        """Seconds since the latest signed checkpoint, None if there is none."""
        with self._log_lock, self._log.snapshot() as cur:
            cp = latest_checkpoint(cur) if self._log.has_log(cur) else None
        if cp is None:
            return None
        made = dt.datetime.strptime(cp.created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        return int((dt.datetime.now(dt.UTC) - made).total_seconds())

    def close(self) -> None:
        self.views.close()
        self._log.close()
        self.ledger.close()


def services(request: Request) -> Services:
    found: Any = request.app.state.services
    assert isinstance(found, Services)
    return found
