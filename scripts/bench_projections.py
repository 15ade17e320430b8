"""Read-model benchmark on PostgreSQL, at ≥ 1,000,000 events.

Prints, in one run: the rebuild rate (drop every view, replay the whole log; target ≥ 10,000
events/s), the catch-up lag of a background follower under a steady write load from another
process, and p50/p99 latency of a county's balance read (target ≤ 5 ms p99) and of as-of reads
(target ≤ 100 ms p99), in-process.

The ledger is the GD-2020 demo scaled out: 640 synthetic counties (codes 4460xx..4499xx, demo
data, labelled 合成县) with the demo's month-by-month history, written through the application
(`import_entries`, 400 items per transaction). It is built once into the database
`fundledger_bench_1m` and reused; a run adds the load test's writes (a few thousand events).

    python scripts/bench_projections.py [--events 1000000] [--reads 1000] [--load-seconds 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from typing import Any

import psycopg

from api import demo
from api.config import Settings
from api.wiring import Wiring
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.rules import packaged_rules
from projections.model import AsOf
from projections.service import Views

PG_ADMIN = os.environ.get("FUNDLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("FUNDLEDGER_BENCH_DB", "fundledger_bench_1m")
PROGRAMME = "gd-2020-ecrural"
CITIES = range(60, 100)  # synthetic city codes 4460..4499: not real Guangdong cities
COUNTIES_PER_CITY = 16
WORKERS = 2
LOAD_COUNTY = "449999"
LOAD_ALLOCATION_FEN = 100_000_000_00
LOAD_RATE_PER_S = 200
AS_OF_DAY = dt.date(2021, 6, 30)
WARM_UP_READS = 50
EVENTS_PER_COUNTY_MIN = 1570  # the demo history of one county: 1,578 to 1,595 events


def bench_url() -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + BENCH_DB


def ensure_database() -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,))
        if found.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def counties() -> list[tuple[str, str, int]]:
    rng = random.Random(1_000_000)
    return [(f"44{city}{n:02d}", f"合成县{city}{n:02d}", rng.choice((8, 10, 12)) * 1_000_000_00)
            for city in CITIES for n in range(1, COUNTIES_PER_CITY + 1)]


def event_count(app: FundLedger) -> int:
    return int(app.recorder.max_notification_id() or 0)


def import_counties(url: str, chunk: list[tuple[str, str, int]]) -> int:
    """A worker: import each county's whole demo history unless it is already complete."""
    app, done = Wiring(Settings(url)).ledger(), 0
    for code, name, allocation in chunk:
        plan = demo.CountyPlan(code, name, allocation, random.Random(f"bench-{code}"))
        items = demo.county_history(plan)
        if app.county(PROGRAMME, code).version >= len(items) + 1:
            continue
        for i in range(0, len(items), demo.IMPORT_CHUNK_ITEMS):  # replays are answered, not
            app.import_entries(items[i:i + demo.IMPORT_CHUNK_ITEMS])  # recorded again
        done += 1
    app.close()
    return done


def generate(url: str, target: int) -> None:
    app = Wiring(Settings(url)).ledger()
    if event_count(app) >= target:
        return
    every = counties()
    total = sum(a for _, _, a in every) + LOAD_ALLOCATION_FEN
    plans = every[:min(len(every), target // EVENTS_PER_COUNTY_MIN + 1)]
    started = time.perf_counter()
    app.open_programme(packaged_rules(PROGRAMME), total, demo.PROVINCE, dt.date(2020, 3, 1))
    for code, name, allocation in [*plans, (LOAD_COUNTY, "压测县", LOAD_ALLOCATION_FEN)]:
        app.admit_county(PROGRAMME, code, name, allocation, "合成数据", demo.PROVINCE,
                         dt.date(2020, 3, 20))
    _prepare_load_county(app)
    print(f"generating {len(plans)} synthetic counties with {WORKERS} workers ...",
          file=sys.stderr)
    with mp.get_context("spawn").Pool(WORKERS) as pool:
        pool.starmap(import_counties, [(url, plans[i::WORKERS]) for i in range(WORKERS)])
    print(f"generated {event_count(app)} events in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    app.close()


def _prepare_load_county(app: FundLedger) -> None:
    county = Actor("bench-load", "county", LOAD_COUNTY)
    base = {"programme": PROGRAMME, "county_code": LOAD_COUNTY}
    app.execute({**base, "kind": "appropriation", "entry_id": "LOAD-A1", "batch": 1,
                 "amount_fen": LOAD_ALLOCATION_FEN // 2, "document_no": "合成数据",
                 "business_date": "2020-05-01"}, demo.PROVINCE)
    app.execute({**base, "kind": "project", "project_code": "LOAD1", "name": "压测项目",
                 "category": "rural_products_online", "budget_fen": LOAD_ALLOCATION_FEN // 2,
                 "responsible_person": "压测", "implementing_unit": "压测",
                 "start_date": "2020-05-01", "end_date": "2022-12-31",
                 "business_date": "2020-05-02"}, county)


def percentiles(samples_s: list[float]) -> tuple[float, float, float]:
    ms = sorted(x * 1000 for x in samples_s)
    return (statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))], ms[-1])


def timed(fn: Any, n: int) -> tuple[float, float, float]:
    for _ in range(WARM_UP_READS):
        fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def write_load(url: str, seconds: float, rate: int, out: Any) -> None:
    """The load: one disbursement per transaction, paced at `rate` per second."""
    app = Wiring(Settings(url)).ledger()
    county, run = Actor("bench-load", "county", LOAD_COUNTY), f"{time.time_ns():x}"
    written, started = [], time.monotonic()
    for i in range(int(seconds * rate)):
        time.sleep(max(0.0, started + i / rate - time.monotonic()))
        r = app.execute({"kind": "disbursement", "programme": PROGRAMME,
                         "county_code": LOAD_COUNTY, "entry_id": f"L{run}-{i}",
                         "project_code": "LOAD1", "amount_fen": 100, "payee": "压测",
                         "voucher_no": f"V{i}", "business_date": "2022-06-30"}, county)
        written.append((r.position, time.monotonic()))
    out.put(written)
    app.close()


def bench_lag(views: Views, url: str, seconds: float) -> dict[str, Any]:
    """Visibility lag of each write: from its commit to the follower having applied it."""
    follower = views.follow(poll_interval_s=1.0)
    queue: Any = mp.get_context("spawn").Queue()
    writer = mp.get_context("spawn").Process(target=write_load,
                                             args=(url, seconds, LOAD_RATE_PER_S, queue))
    writer.start()
    seen: list[tuple[float, int]] = []
    deadline = time.monotonic() + seconds + 30
    while writer.is_alive() or queue.empty():
        seen.append((time.monotonic(), min(views.runner.positions().values())))
        time.sleep(0.005)
        if time.monotonic() > deadline:
            break
    written = queue.get(timeout=30)
    writer.join()
    end = time.monotonic() + 10
    while min(views.runner.positions().values()) < written[-1][0] and time.monotonic() < end:
        seen.append((time.monotonic(), min(views.runner.positions().values())))
        time.sleep(0.005)
    follower.stop()
    lags, behind = [], 0
    for position, at in written:
        visible = next((t for t, p in seen if p >= position and t >= at), None)
        lags.append((visible if visible is not None else end) - at)
    for t, p in seen:
        behind = max(behind, sum(1 for pos, at in written if at <= t and pos > p))
    p50, p99, worst = percentiles(lags)
    return {"writes": len(written), "rate_per_s": LOAD_RATE_PER_S, "lag_ms_p50": p50,
            "lag_ms_p99": p99, "lag_ms_max": worst, "max_events_behind": behind,
            "follower_errors": follower.errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--load-seconds", type=float, default=20.0)
    args = parser.parse_args()
    ensure_database()
    url = bench_url()
    generate(url, args.events)
    wiring = Wiring(Settings(url))
    app, views = wiring.ledger(), wiring.views()
    print(f"rebuilding the views over {event_count(app)} events ...", file=sys.stderr)
    rebuilt = views.rebuild()
    county = counties()[0][0]
    bal = timed(lambda: views.balances(PROGRAMME, county), args.reads)
    bal_as_of = timed(lambda: views.balances(PROGRAMME, county, AsOf(day=AS_OF_DAY)), args.reads)
    status_as_of = timed(lambda: views.county(PROGRAMME, county, as_of=AsOf(day=AS_OF_DAY)),
                         max(1, args.reads // 4))
    lag = bench_lag(views, url, args.load_seconds)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nfundledger read models on PostgreSQL ({BENCH_DB}), {os.cpu_count()} cores, "
          f"in-process; load average {load}\n")
    print(f"rebuild: {rebuilt.events} events in {rebuilt.seconds:.1f} s = "
          f"{rebuilt.events_per_s} events/s (target >= 10,000)")
    print(f"catch-up under load: {lag['writes']} writes at {lag['rate_per_s']}/s from another "
          f"process; visible after p50 {lag['lag_ms_p50']:.1f} ms, p99 {lag['lag_ms_p99']:.1f} "
          f"ms, max {lag['lag_ms_max']:.1f} ms; at most {lag['max_events_behind']} events behind")
    for name, (p50, p99, worst), target in (
            ("balance read (current)", bal, 5), ("balance read as of 2021-06-30", bal_as_of, 100),
            ("full county status as of 2021-06-30", status_as_of, 100)):
        print(f"{name}, county {county}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms"
              f" (target p99 <= {target} ms)")


if __name__ == "__main__":
    main()
