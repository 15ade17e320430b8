"""Loading a long county stream: with the snapshot key (its newest snapshot, tag and head
checked, plus the events after it) and without it (every event replayed), on SQLite and
PostgreSQL.

    python scripts/bench_load.py [--events 20000] [--repeat 7]   (from the repository root)

Prints the median time to load a county with EVENTS events from the store with a cold cache,
as a new process does: with the key (the ledger uses its newest authenticated snapshot), with
no key (snapshots are not read: the repository replays the stream), and the bare replay of
the whole stream by the library for reference.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from bench_append import COUNTY, PROGRAMME, Store, disbursement, ready_ledger
from eventsourcing.application import project_aggregate

from api.config import Settings
from api.snapshotkey import create_snapshot_key
from api.wiring import Wiring
from ledger.application import FundLedger
from ledger.county import county_stream_id


def build(settings: Settings, events: int) -> None:
    app = ready_ledger(settings, "441423")
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
    print(f"{'store':<10} {'load, key ms':>13} {'load, no key ms':>16} "
          f"{'replay all events ms':>21}")
    for kind in ("sqlite", "postgres"):
        store = Store(kind)
        try:
            plain = Settings(store.url())
            key_file = f"{store.tmp}/snapshot-{len(store.dbs)}.key"
            create_snapshot_key(Path(key_file))
            keyed = replace(plain, snapshot_key_file=key_file)
            build(keyed, args.events)
            with_key, no_key = Wiring(keyed).ledger(), Wiring(plain).ledger()
            fewer = max(3, args.repeat // 2)
            print(f"{kind:<10} {timed(partial(load, with_key, stream), args.repeat):>13.1f} "
                  f"{timed(partial(load, no_key, stream), fewer):>16.1f} "
                  f"{timed(partial(replay, with_key, stream), fewer):>21.1f}", flush=True)
            assert with_key.snapshots is not None and no_key.snapshots is not None
            assert with_key.snapshots.used >= args.repeat and no_key.snapshots.used == 0
            with_key.close()
            no_key.close()
        finally:
            store.close()


if __name__ == "__main__":
    main()
