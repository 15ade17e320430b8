"""The composition root of every edge: from one `Settings`, the ledger (write side), its read
models and its audit log, each opened once per process when first asked for, closed together.

The command line reaches it through `api.cli.kit.Ctx`; the HTTP edge will hold one for the
process. Nothing else in `api/` or `scripts/` constructs a `FundLedger`, `Views` or `LogDB`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from api.config import Settings
from api.snapshotkey import load_snapshot_key
from audit.db import LogDB
from ledger.application import FundLedger
from ledger.snapshots import SNAPSHOT_KEY_SETTING
from ledger.stores import store_env
from projections.service import Views

Clock = Callable[[], dt.date]


class Wiring:
    """The stores of one ledger, opened lazily and at most once (thread-safe)."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.RLock()
        self._ledger: FundLedger | None = None
        self._views: Views | None = None
        self._log: LogDB | None = None

    def ledger_env(self) -> dict[str, str]:
        """The event-store settings of the store URL, with the snapshot key if one is set
        (SnapshotKeyError if its file is missing, readable by others or malformed)."""
        env = store_env(self.settings.db_url)
        if self.settings.snapshot_key_file is not None:
            key = load_snapshot_key(Path(self.settings.snapshot_key_file))
            env[SNAPSHOT_KEY_SETTING] = key.hex()
        return env

    def ledger(self) -> FundLedger:
        """The write side: the one way to record (opens the store, and creates its tables)."""
        with self._lock:
            if self._ledger is None:
                self._ledger = FundLedger(self.ledger_env(), clock=self.clock or dt.date.today)
            return self._ledger

    def views(self) -> Views:
        """The read models over the ledger's event log."""
        with self._lock:
            if self._views is None:
                self._views = Views(self.ledger())
            return self._views

    def log(self) -> LogDB:
        """The Merkle log and the stored events as the audit reads them (its own connection:
        it never needs the ledger's classes to read a store)."""
        with self._lock:
            if self._log is None:
                self._log = LogDB(self.settings.db_url)
            return self._log

    def own_log(self) -> LogDB:
        """A connection to the log of its own, which the caller closes: for a loop that holds
        it for long (the sealing loop keeps the store's sealer lock on it)."""
        return LogDB(self.settings.db_url)

    @property
    def opened(self) -> bool:
        return any(x is not None for x in (self._ledger, self._views, self._log))

    def close(self) -> None:
        """Close whatever was opened, readers before the ledger they read; idempotent."""
        with self._lock:
            views, ledger, log = self._views, self._ledger, self._log
            self._views = self._ledger = self._log = None
        try:
            if views is not None:
                views.close()
        finally:
            try:
                if log is not None:
                    log.close()
            finally:
                if ledger is not None:
                    ledger.close()

    def __enter__(self) -> Wiring:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
