"""Keeping the views current in the background: on PostgreSQL a subscription to the event
table's notification channel, with a periodic poll as the fallback (a lost NOTIFY must not stall
the views: eventsourcing issue #305); on SQLite, which has no notifications, the poll alone.

Each wake-up runs `Runner.catch_up`, which is exactly-once by itself, so a spurious or missed
wake-up only changes when the views move, never what they hold.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from projections.db import ViewDB
from projections.runner import Runner

POLL_INTERVAL_S = 1.0
ERROR_BACKOFF_S = 2.0


class Follower:
    """A thread that catches the views up whenever the log may have grown."""

    def __init__(self, runner: Runner, db: ViewDB, poll_interval_s: float = POLL_INTERVAL_S,
                 listen: bool = True) -> None:
        self.runner, self.db = runner, db
        self.poll_interval_s = poll_interval_s
        self.listen = listen and db.postgres
        self.errors = 0
        self.last_error: BaseException | None = None
        self.wakeups = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fundledger-views", daemon=True)

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        if self.listen:
            with self.db.recorder.datastore.get_connection() as conn:
                conn.execute(f'LISTEN "{self.db.channel}"')
                try:
                    self._loop(conn)
                finally:
                    conn.execute("UNLISTEN *")
        else:
            self._loop(None)

    def _loop(self, conn: Any) -> None:
        while not self._stop.is_set():
            try:
                self.runner.catch_up()
            # The top level of this thread: a failed catch-up (the database restarting, say)
            # is kept for `status` and retried; the views stay exactly-once either way.
            except Exception as e:
                self.errors, self.last_error = self.errors + 1, e
                self._stop.wait(ERROR_BACKOFF_S)
                continue
            self._wait(conn)

    def _wait(self, conn: Any) -> None:
        """Until a notification, the poll interval, or stop: whichever comes first."""
        self.wakeups += 1
        if conn is None:
            self._stop.wait(self.poll_interval_s)
            return
        deadline = time.monotonic() + self.poll_interval_s
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            # Short slices, so that stop() is honoured promptly.
            for _ in conn.notifies(timeout=min(left, 0.2), stop_after=1):
                return
