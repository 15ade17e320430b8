"""A real `fundledger serve` for tests that talk over a socket (curl, schemathesis, workers)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2

STARTUP_S = 30
ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(store_url: str, workers: int = 1,
            env: dict[str, str] | None = None) -> Iterator[str]:
    """`fundledger serve` on `store_url` until the block ends; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "--db", store_url, "serve",
                             "--port", str(port), "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "LEDGER_DB": "", "PYTHONPATH": str(ROOT),
                                 **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reads and closes stderr
