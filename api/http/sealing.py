"""The server's part in sealing: every worker stands for election as the store's one sealing
loop (`audit.sealer.follow`, elected by the store's sealer lock); the elected one seals new
events — and, with the log's key configured (`LEDGER_LOG_KEY`), signs a checkpoint every
`SIGN_EVERY_S` — until the server stops; the others stand again every `ELECTION_RETRY_S`, so
that another worker takes over within that time when the sealer's process dies."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from api.errors import STORE_ERRORS
from api.wiring import Wiring
from audit.errors import SealerRunning
from audit.keyfile import load_key_file
from audit.sealer import Loop, follow
from ledger.errors import LedgerError

ELECTION_RETRY_S = 2.0
log = logging.getLogger("fundledger.sealing")


class Sealing:
    """A thread standing for election as the sealer until `stop()`."""

    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring
        log_key_file = wiring.settings.log_key_file
        self.key = load_key_file(Path(log_key_file)) if log_key_file is not None else None
        self.elected = False
        self.last_round = 0.0  # monotonic time of the last round as the sealer
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fundledger-sealing",
                                        daemon=True)

    def start(self) -> Sealing:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _round(self, _sealed: int) -> None:
        self.elected, self.last_round = True, time.monotonic()

    def _run(self) -> None:  # the thread's top level: it outlives a store that is away
        while not self._stop.is_set():
            try:
                with self.wiring.own_log() as db:
                    follow(db, self._stop.is_set, Loop(key=self.key), on_round=self._round)
            except SealerRunning:
                pass  # another worker seals; stand again later
            except (LedgerError, *STORE_ERRORS) as e:
                self.failures += 1
                log.warning("sealing stopped: %s", " ".join(str(e).split())[:200])
            self.elected = False
            self._stop.wait(ELECTION_RETRY_S)
