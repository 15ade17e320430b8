"""What one server process opens once and shares between its requests: the stores of the
composition root (`api.wiring`), the tokens and the idempotency records."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request

from api.attachments import AttachmentStore
from api.config import Settings
from api.http.idempotency import IdempotencyStore
from api.http.sealing import Sealing
from api.sidetables import side_pool
from api.tokens import TokenStore
from api.wiring import Wiring
from audit.db import LogDB
from audit.log import StoredCheckpoint, latest_checkpoint
from audit.log import tail as log_tail
from projections.follower import Follower

T = TypeVar("T")


class Services:
    """The ledger, its read models, the log, the tokens and the idempotency records."""

    def __init__(self, settings: Settings, background: bool = False) -> None:
        """`background`: also keep the read models caught up (a follower thread) and stand for
        election as the store's sealer (`api.http.sealing`), as a served process does."""
        self.wiring = Wiring(settings)
        self.ledger = self.wiring.ledger()
        self.views = self.wiring.views()
        # one pool of connections for both side tables (None on SQLite)
        self._side_pool = side_pool(settings.db_url)
        self.tokens = TokenStore(settings.db_url, self._side_pool)
        self.idempotency = IdempotencyStore(settings.db_url, self._side_pool)
        self.attachments = (AttachmentStore(Path(settings.attachments_dir))
                            if settings.attachments_dir is not None else None)
        self._log_lock = threading.Lock()  # the log has one connection: one request at a time
        self.follower: Follower | None = self.views.follow() if background else None
        self.sealing: Sealing | None = Sealing(self.wiring).start() if background else None

    def today(self) -> dt.date:
        return dt.datetime.now(dt.UTC).date()

    def read_log(self, read: Callable[[LogDB], T]) -> T:
        """Run `read` on the log's connection (one request at a time: it is one connection)."""
        with self._log_lock:
            return read(self.wiring.log())

    def checkpoint_age_s(self) -> int | None:
        """Seconds since the latest signed checkpoint, None if there is none."""
        def latest(db: LogDB) -> StoredCheckpoint | None:
            with db.snapshot() as cur:
                return latest_checkpoint(cur) if db.has_log(cur) else None
        cp = self.read_log(latest)
        if cp is None:
            return None
        made = dt.datetime.strptime(cp.created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        return int((dt.datetime.now(dt.UTC) - made).total_seconds())

    def unsealed_positions(self) -> int | None:
        """How far the log's last sealed event is behind the store's head (None: never
        sealed); a sealer that keeps up keeps this near 0."""
        def sealed(db: LogDB) -> int | None:
            with db.snapshot() as cur:
                return log_tail(cur)[1] if db.has_log(cur) else None
        last = self.read_log(sealed)
        return None if last is None else max(self.views.db.head_position() - last, 0)

    def close(self) -> None:
        if self.sealing is not None:
            self.sealing.stop()
        if self.follower is not None:
            self.follower.stop()
        try:
            self.wiring.close()
        finally:
            if self._side_pool is not None:
                self._side_pool.close()


def services(request: Request) -> Services:
    found: Any = request.app.state.services
    assert isinstance(found, Services)
    return found
