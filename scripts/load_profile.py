"""Where a write's time goes in `fundledger serve`: wall-time accounting per step, per worker.

`scripts/load_test.py --profile DIR` serves through this module instead of `fundledger serve`
(same uvicorn settings, same app factory, same worker count). In each worker process the steps
of a write are wrapped with timers (calls, wall seconds and the thread's CPU seconds; they
overlap where one step calls another: `ledger save` is inside `ledger execute`), every
request's time from arrival to answer is taken by a middleware, and the event loop's thread
(HTTP parsing, routing, the answer) runs under cProfile. Each worker rewrites DIR/PID.json and
DIR/PID.prof (pstats) every second; `summary(DIR)` adds the workers up.
"""

from __future__ import annotations

import cProfile
import functools
import io
import json
import marshal
import os
import pstats
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ENV_DIR = "FUNDLEDGER_LOAD_PROFILE_DIR"
STEPS = {  # label -> (module, class, method)
    "token lookup": ("api.tokens", "TokenStore", "authenticate"),
    "idempotency find": ("api.http.idempotency", "IdempotencyStore", "find"),
    "idempotency keep (+find)": ("api.http.idempotency", "IdempotencyStore", "keep"),
    "side-table connect": ("api.sidetables", "SideTable", "_connect"),
    "ledger execute": ("ledger.application", "FundLedger", "execute"),
    "ledger save (commit)": ("ledger.application", "FundLedger", "save"),
}
_totals: dict[str, list[float]] = {}
_guard = threading.Lock()


def _add(label: str, seconds: float, cpu: float) -> None:
    with _guard:
        t = _totals.setdefault(label, [0, 0.0, 0.0])
        t[0] += 1
        t[1] += seconds
        t[2] += cpu


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(label, time.perf_counter() - began, time.thread_time() - cpu)
    return wrapper


def _dump(folder: Path, loop_profile: cProfile.Profile) -> None:
    while True:
        time.sleep(1)
        with _guard:
            doc = {"cpu_s": time.process_time(), "steps": dict(_totals)}
        (folder / f"{os.getpid()}.json").write_text(json.dumps(doc))
        loop_profile.snapshot_stats()  # what dump_stats does
        with (folder / f"{os.getpid()}.prof").open("wb") as f:
            marshal.dump(loop_profile.stats, f)


def app() -> Any:
    """uvicorn's factory in each worker: the served app, its steps timed."""
    import importlib

    from api.http.app import app_from_env

    for label, (module, cls, method) in STEPS.items():
        owner = getattr(importlib.import_module(module), cls)
        setattr(owner, method, _timed(label, getattr(owner, method)))
    served = app_from_env()

    @served.middleware("http")
    async def whole(request: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        began = time.perf_counter()
        answer = await call_next(request)
        _add(f"request {request.method}", time.perf_counter() - began, 0.0)
        return answer

    loop_profile = cProfile.Profile()  # uvicorn runs its loop in the thread that calls this
    loop_profile.enable()
    threading.Thread(target=_dump, args=(Path(os.environ[ENV_DIR]), loop_profile),
                     daemon=True).start()
    return served


def summary(folder: Path) -> str:
    """The workers' totals: calls, mean ms per call, and share of the requests' time."""
    steps: dict[str, list[float]] = {}
    cpu = 0.0
    for f in folder.glob("*.json"):
        doc = json.loads(f.read_text())
        cpu += doc["cpu_s"]
        for label, values in doc["steps"].items():
            t = steps.setdefault(label, [0, 0.0, 0.0])
            for i, v in enumerate(values):
                t[i] += v
    whole = steps.get("request POST", [0, 0.0, 0.0])
    lines = [f"{'step (all workers)':<26} {'calls':>6} {'wall ms':>8} {'share':>6} {'CPU ms':>7}"]
    for label, (n, s, c) in sorted(steps.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"{label:<26} {int(n):>6} {1000 * s / max(n, 1):>8.2f} "
                     f"{s / (whole[1] or 1):>6.0%} {1000 * c / max(n, 1):>7.2f}")
    lines.append(f"workers' CPU (all threads): {cpu:.1f} s = "
                 f"{1000 * cpu / max(whole[0], 1):.2f} ms per write")
    out = io.StringIO()
    loop = pstats.Stats(*map(str, folder.glob("*.prof")), stream=out)
    loop.sort_stats("tottime").print_stats(15)
    lines.append("event-loop threads (cProfile), by own time:")
    lines += [line for line in out.getvalue().splitlines()[4:] if line.strip()]
    return "\n".join(lines)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)  # not idle, not iowait


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process so far; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_backends(url: str) -> list[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [int(r[0]) for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()").fetchall()]


class CpuMeter:
    """CPU spent in a window by this process, the server's workers and the database's
    backends (processes present at both ends), and the share of all cores busy."""

    def __init__(self, workers: list[int], url: str) -> None:
        self.began = (time.process_time(), cpu_ticks())
        self.workers = {p: proc_cpu_s(p) for p in workers}
        self.backends = {p: proc_cpu_s(p) for p in pg_backends(url)}

    def read(self, workers: list[int], url: str) -> dict[str, float]:
        ticks = cpu_ticks()
        def spent(before: dict[int, float], now: list[int]) -> float:
            return sum(proc_cpu_s(p) - before[p] for p in now if p in before)
        return {"client": time.process_time() - self.began[0],
                "server workers": spent(self.workers, workers),
                "PostgreSQL": spent(self.backends, pg_backends(url)),
                "all cores busy": (ticks[0] - self.began[1][0])
                / max(ticks[1] - self.began[1][1], 1)}


if __name__ == "__main__":  # python scripts/load_profile.py URL PORT WORKERS
    import uvicorn

    os.environ["LEDGER_DB"] = sys.argv[1]
    uvicorn.run("load_profile:app", factory=True, host="127.0.0.1", port=int(sys.argv[2]),
                workers=int(sys.argv[3]), log_level="info", proxy_headers=False)
