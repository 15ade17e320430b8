"""Loading a long county stream: with snapshots (what the ledger does) and by replaying every
event (what it would do without them), on SQLite and PostgreSQL.

    python scripts/bench_load.py [--events 20000] [--repeat 7]   (from the repository root)

Prints the median time to load a county with EVENTS events from the store with a cold cache
(its newest snapshot and the events after it, as a new process does), and the time to replay
the whole stream instead.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial
from typing import Any

from bench_append import COUNTY, PROGRAMME, Store, disbursement, ready_ledger
from eventsourcing.application import project_aggregate

from ledger.application import FundLedger
from ledger.county import county_stream_id


def build(env: dict[str, str], events: int) -> None:
    app = ready_ledger(env, "441423")
    items = [(disbursement("441423", i), COUNTY) for i in range(events)]
    for start in range(0, events, 5000):
        app.import_entries(items[start:start + 5000])
    app.close()


def load(app: FundLedger, stream: Any) -> None:
    app._evict(stream)  # cold: as a new process would load it
    app.repository.get(stream)


def replay(app: FundLedger, stream: Any) -> None:
    project_aggregate(None, app.events.get(stream))


def timed(fn: Any, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    stream = county_stream_id(PROGRAMME, "441423")
    print(f"county stream of {args.events} disbursements; medians of {args.repeat}")
    print(f"{'store':<10} {'load with snapshots ms':>23} {'replay all events ms':>21}")
    for kind in ("sqlite", "postgres"):
        store = Store(kind)
        try:
            env = store.env()
            build(env, args.events)

            app = FundLedger(env)
            print(f"{kind:<10} {timed(partial(load, app, stream), args.repeat):>23.1f} "
                  f"{timed(partial(replay, app, stream), max(3, args.repeat // 2)):>21.1f}",
                  flush=True)
            app.close()
        finally:
            store.close()


if __name__ == "__main__":
    main()
