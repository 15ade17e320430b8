"""Load test of the HTTP API: concurrent writes over real sockets against a bare single save.

On a fresh PostgreSQL database: opens GD-2020, admits K counties (each with an appropriation),
issues a county token per county, starts `fundledger serve --workers 2` on a free port, and
drives it with N concurrent clients (asyncio, one httpx2 connection pool each) for D seconds.
Client i writes to county i mod K: first its own project, then disbursements and expenditures
in turn; a timeout, a dropped connection or a 5xx is retried with the SAME Idempotency-Key.
Prints writes/s, p50/p99 latency (first attempt to acknowledgement, retries included), the
bare eventsourcing single-save rate measured in the same run (`bench_append.bare_rate`, on
PostgreSQL) and the ratio. Then checks, exiting 1 if one fails: every acknowledged entry is
stored exactly once and nothing unacknowledged was stored (entry ids decoded per county), the
events counted per county in SQL equal the count before the run plus the acknowledged
writes, and `fundledger verify` exits 0. `--kill-worker` SIGKILLs one uvicorn worker halfway
through and reports whether the supervisor started a new one.

    python scripts/load_test.py [--clients 32] [--counties 16] [--seconds 20] [--kill-worker]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import load_profile
from bench_append import PROGRAMME, PROVINCE, Store, bare_rate
from load_checks import CLI, ROOT, Tally, checks, events_per_county

from api.config import Settings
from api.tokens import TokenStore
from api.wiring import Wiring
from ledger.rules import packaged_rules

ALLOCATION_FEN = 10**11
APPROPRIATION_FEN = 5 * 10**10
PROJECTS_FEN = 4 * 10**10  # shared among a county's projects: the category's limit holds
CLIENT_TIMEOUT_S = 10.0
MAX_ATTEMPTS = 30
STARTUP_S = 60


def county_codes(k: int) -> list[str]:
    """Synthetic county codes 4460xx… (as bench_projections uses): demo data, not real ones."""
    return [str(446001 + i) for i in range(k)]  # k <= 99: 446100 would be a city


def set_up(url: str, counties: list[str]) -> dict[str, str]:
    """The programme opened, each county admitted with an appropriation; a token per county."""
    wiring = Wiring(Settings(url))
    try:
        app = wiring.ledger()
        app.open_programme(packaged_rules(PROGRAMME), 10**13, PROVINCE, dt.date(2020, 3, 1))
        for c in counties:
            app.admit_county(PROGRAMME, c, "压测县", ALLOCATION_FEN, "load", PROVINCE,
                             dt.date(2020, 3, 2))
            app.execute({"kind": "appropriation", "programme": PROGRAMME, "county_code": c,
                         "entry_id": "A1", "batch": 1, "amount_fen": APPROPRIATION_FEN,
                         "document_no": "load", "business_date": "2020-04-01"}, PROVINCE)
    finally:
        wiring.close()
    store, now = TokenStore(url), dt.datetime.now(dt.UTC)
    return {c: store.issue("county", f"load-{c}", c, None, now)[0] for c in counties}


async def post(client: httpx2.AsyncClient, path: str, body: dict[str, Any], key: str,
               tally: Tally) -> bool:
    """POST until answered (same Idempotency-Key on every attempt); True if acknowledged."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            r = await client.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx2.TransportError:  # timeouts, resets: the write may or may not have run
            r = None
        if r is not None and r.status_code < 500:
            if r.status_code in (200, 201):
                # a replay: the kept answer (header), or the ledger recognised the entry (200)
                tally.replays += (r.status_code == 200
                                  or r.headers.get("Idempotent-Replayed") == "true")
                return True
            tally.failures.append(f"{path} {key}: {r.status_code} {r.text[:200]}")
            return False
        tally.retries += 1
        tally.retried[why(r)] += 1
        await asyncio.sleep(min(0.05 * (attempt + 1), 1.0))
    tally.failures.append(f"{path} {key}: no answer after {MAX_ATTEMPTS} attempts")
    return False


def why(r: httpx2.Response | None) -> str:
    if r is None:
        return "no answer"
    try:
        doc = r.json()
        return f"{r.status_code} {doc.get('code')} {str(doc.get('detail'))[-100:]!r}"
    except ValueError:
        return str(r.status_code)


def money_write(i: int, n: int) -> tuple[str, dict[str, Any]]:
    """Client i's n-th write: a disbursement of 2.00, then an expenditure of 1.00 from it."""
    if n % 2 == 0:
        return "/disbursements", {"entry_id": f"LT-{i}-{n}", "project_code": f"P{i}",
                                  "amount": "2.00", "payee": "压测收款单位",
                                  "voucher_no": f"V-{i}-{n}", "business_date": "2020-04-03"}
    return "/expenditures", {"entry_id": f"LT-{i}-{n}", "project_code": f"P{i}",
                             "amount": "1.00", "purpose": "压测支出", "invoice_no": f"I-{i}-{n}",
                             "business_date": "2020-04-03"}


def client_for(base: str, county: str, token: str) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=f"{base}/v1/programmes/{PROGRAMME}/counties/{county}",
                              timeout=CLIENT_TIMEOUT_S,
                              headers={"Authorization": f"Bearer {token}"})


async def register(client: httpx2.AsyncClient, i: int, budget_fen: int, tally: Tally) -> bool:
    """Client i's own project, before the clock starts."""
    project = {"project_code": f"P{i}", "name": f"压测项目{i}", "category": "public_services",
               "budget": f"{budget_fen // 100}.00", "responsible_person": "张三",
               "implementing_unit": "县商务局", "start_date": "2020-04-01",
               "end_date": "2021-12-31", "business_date": "2020-04-02"}
    return await post(client, "/projects", project, f"LT-P{i}", tally)


async def write_until(client: httpx2.AsyncClient, i: int, county: str, stop_at: float,
                      tally: Tally) -> None:
    """Client i's money writes, one after another, until the deadline (or a failure)."""
    n = 0
    while time.monotonic() < stop_at:
        path, body = money_write(i, n)
        began = time.perf_counter()
        if not await post(client, path, body, f"LT-{i}-{n}", tally):
            return
        tally.latencies_ms.append((time.perf_counter() - began) * 1000)
        tally.acked.append((county, body["entry_id"]))
        n += 1


def worker_pids(server: subprocess.Popen[bytes]) -> list[int]:
    """The uvicorn worker processes: the serve process's children made by multiprocessing."""
    path = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    pids = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [p for p in pids
            if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


async def kill_one_worker(server: subprocess.Popen[bytes], after_s: float,
                          report: dict[str, Any]) -> None:
    """SIGKILL one worker after `after_s`; note how long until the supervisor has two again."""
    await asyncio.sleep(after_s)
    before = worker_pids(server)
    # the busiest worker: the one holding connections (an idle one would prove nothing)
    victim = max(before, key=load_profile.proc_cpu_s)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    report["killed"] = victim
    while time.monotonic() - killed_at < 30:
        now = worker_pids(server)
        if len(now) == len(before) and victim not in now:
            report["replaced_by"] = sorted(set(now) - set(before))
            report["replaced_after_s"] = time.monotonic() - killed_at
            return
        await asyncio.sleep(0.05)


async def drive(base: str, tokens: dict[str, str], args: argparse.Namespace,
                server: subprocess.Popen[bytes], url: str,
                ) -> tuple[Tally, float, dict[str, Any]]:
    """All clients: their projects, then D seconds of money writes; the elapsed seconds."""
    counties = list(tokens)
    of = [counties[i % len(counties)] for i in range(args.clients)]
    budget = PROJECTS_FEN // -(-args.clients // len(counties))
    clients = [client_for(base, of[i], tokens[of[i]]) for i in range(args.clients)]
    tally, kill = Tally(), dict[str, Any]()
    try:
        registered = await asyncio.gather(*(register(c, i, budget, tally)
                                            for i, c in enumerate(clients)))
        if not all(registered):
            return tally, 0.0, kill
        began = time.monotonic()
        meter = load_profile.CpuMeter(worker_pids(server), url)
        jobs = [write_until(c, i, of[i], began + args.seconds, tally)
                for i, c in enumerate(clients)]
        if args.kill_worker:
            jobs.append(kill_one_worker(server, args.seconds / 2, kill))
        await asyncio.gather(*jobs)
        tally.cpu = meter.read(worker_pids(server), url)
        return tally, time.monotonic() - began, kill
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def start_server(url: str, workers: int, log: Path, profile: Path | None,
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """`fundledger serve` on a free port (or, to profile, the same app with its steps timed:
    scripts/load_profile.py); its base URL once /healthz answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    cmd = ([*CLI, "--db", url, "serve", "--port", str(port), "--workers", str(workers)]
           if profile is None else
           [sys.executable, str(Path(__file__).with_name("load_profile.py")), url, str(port),
            str(workers)])
    env = {**os.environ, "LEDGER_DB": "", "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}",
           load_profile.ENV_DIR: str(profile or "")}
    # cwd: `python -m` puts the working directory first on the path; serve this tree's code
    server = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
                              cwd=ROOT)
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + STARTUP_S
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx2.TransportError):
            if httpx2.get(base + "/healthz", timeout=1).status_code == 200:
                return server, base
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not start; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else (values[0] if values else float("nan"))


def report(tally: Tally, seconds: float, bare: list[float], kill: dict[str, Any],
           results: list[tuple[str, bool, str]]) -> bool:
    """Print the figures and the checks; True if every check passed."""
    rate, bare_mean = len(tally.acked) / seconds, statistics.fmean(bare)
    n = max(len(tally.acked), 1)
    print(f"{'writes acknowledged':<34} {len(tally.acked):>10,} in {seconds:.1f} s")
    print(f"{'API writes/s':<34} {rate:>10,.0f}")
    print(f"{'latency p50 / p99 (ms)':<34} {percentile(tally.latencies_ms, 50):>10.1f} / "
          f"{percentile(tally.latencies_ms, 99):.1f}")
    print(f"{'bare single-save/s (before, after)':<34} {bare_mean:>10,.0f} "
          f"({bare[0]:,.0f}, {bare[1]:,.0f})")
    print(f"{'ratio API / bare (target >= 1.0)':<34} {rate / bare_mean:>10.2f}")
    print(f"{'retries / replayed answers':<34} {tally.retries:>10} / {tally.replays}"
          + (f"  ({', '.join(f'{k}: {n}' for k, n in tally.retried.most_common())})"
             if tally.retried else ""))
    for name, seconds_cpu in tally.cpu.items():
        if name == "all cores busy":
            print(f"{'all cores busy during the run':<34} {seconds_cpu:>10.0%}")
        else:
            print(f"{'CPU ms per write: ' + name:<34} {1000 * seconds_cpu / n:>10.2f}")
    if kill:
        restarted = (f"restarted as {kill['replaced_by']} after {kill['replaced_after_s']:.1f} s"
                     if "replaced_by" in kill else "NOT restarted within 30 s")
        print(f"{'worker SIGKILLed':<34} {kill.get('killed', 'none'):>10} ({restarted})")
    for name, ok, detail in results:
        print(f"  [{'ok' if ok else 'FAIL'}] {name}" + ("" if ok else f" — {detail}"))
    return all(ok for _, ok, _ in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--counties", type=int, choices=range(1, 100), default=16,
                        metavar="1..99")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bare-events", type=int, default=2000)
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="time each step of a write in the workers (scripts/load_profile.py)")
    args = parser.parse_args()
    store, counties = Store("postgres"), county_codes(args.counties)
    try:
        bare = [bare_rate(store.url(), args.bare_events)]
        url = store.url()
        tokens = set_up(url, counties)
        before = events_per_county(url, counties)
        log = Path(store.tmp) / "serve.log"
        profile = Path(store.tmp) / "profile" if args.profile else None
        if profile is not None:
            profile.mkdir()
        server, base = start_server(url, args.workers, log, profile)
        try:
            tally, seconds, kill = asyncio.run(drive(base, tokens, args, server, url))
        finally:
            stop_server(server)
        bare.append(bare_rate(store.url(), args.bare_events))
        print(f"{args.clients} clients, {args.counties} counties, {args.workers} workers, "
              f"{args.seconds:g} s; load average {os.getloadavg()[0]:.2f}; server log {log}")
        ok = report(tally, max(seconds, 1e-9), bare,
                    kill, checks(url, counties, before, tally, args.clients))
        if profile is not None:
            print(load_profile.summary(profile))
    finally:
        store.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
