"""Append throughput: the ledger against bare eventsourcing, on SQLite and PostgreSQL.

Prints, per store, in one run: disbursements recorded per second through the ledger (one entry
per transaction, every rule checked, hash chained), the bare eventsourcing append rate for an
event of the same size (one per save), their ratio (target ≥ 0.80), and `import` throughput
(entries per second, all-or-nothing per file; target ≥ 5,000/s on PostgreSQL). Each figure is
the median of ROUNDS rounds, alternating which of ledger and bare runs first.

    python scripts/bench_append.py [--events 2000] [--import-entries 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from api.config import Settings
from api.wiring import Wiring
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.rules import packaged_rules
from ledger.stores import store_env

PG_ADMIN = os.environ.get("FUNDLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PROGRAMME = "gd-2020-ecrural"
PROVINCE = Actor("bench-prov", "province", "440000")
COUNTY = Actor("bench-county", "county", "441423")
TODAY = dt.date(2022, 6, 30)


class Bare(Aggregate):
    """A bare aggregate whose event has the same fields and sizes as a disbursement."""

    class Disbursed(Aggregate.Event):
        actor_id: str
        actor_role: str
        actor_scope: str
        business_date: str
        prev_hash: str
        event_hash: str
        entry_id: str
        project_code: str
        amount_fen: int
        payee: str
        voucher_no: str
        attachments: list[str]

        def apply(self, aggregate: Any) -> None:
            pass


class BareApp(Application[uuid.UUID]):
    name = "fundledger"


def bare_rate(url: str, n: int) -> float:
    app = BareApp(store_env(url))
    agg = Bare()
    app.save(agg)
    started = time.perf_counter()
    for i in range(n):
        agg.trigger_event(
            Bare.Disbursed, actor_id="bench-county", actor_role="county", actor_scope="441423",
            business_date="2020-04-03", prev_hash=uuid.uuid4().hex * 2,
            event_hash=uuid.uuid4().hex * 2, entry_id=f"D{i:07d}", project_code="P1",
            amount_fen=100 + i, payee="某网络科技公司", voucher_no=f"V{i:07d}",
            attachments=[uuid.uuid4().hex * 2])
        app.save(agg)
    seconds = time.perf_counter() - started
    app.close()
    return n / seconds


def ready_ledger(settings: Settings, county: str) -> FundLedger:
    app = Wiring(settings, clock=lambda: TODAY).ledger()
    app.open_programme(packaged_rules(PROGRAMME), 10**12, PROVINCE, dt.date(2020, 3, 1))
    app.admit_county(PROGRAMME, county, "基准县", 10**11, "bench", PROVINCE, dt.date(2020, 3, 2))
    app.execute({"kind": "appropriation", "programme": PROGRAMME, "county_code": county,
                 "entry_id": "A1", "batch": 1, "amount_fen": 5 * 10**10, "document_no": "b",
                 "business_date": "2020-04-01"}, PROVINCE)
    app.execute({"kind": "project", "programme": PROGRAMME, "county_code": county,
                 "project_code": "P1", "name": "基准项目", "category": "public_services",
                 "budget_fen": 4 * 10**10, "responsible_person": "张三",
                 "implementing_unit": "县商务局", "start_date": "2020-04-01",
                 "end_date": "2021-12-31", "business_date": "2020-04-02"},
                Actor("bench-county", "county", county))
    return app


def disbursement(county: str, i: int) -> dict[str, Any]:
    return {"kind": "disbursement", "programme": PROGRAMME, "county_code": county,
            "entry_id": f"D{i:07d}", "project_code": "P1", "amount_fen": 100 + i,
            "payee": "某网络科技公司", "voucher_no": f"V{i:07d}",
            "attachments": [uuid.uuid4().hex * 2], "business_date": "2020-04-03"}


def ledger_rate(url: str, n: int, county: str) -> float:
    app = ready_ledger(Settings(url), county)
    actor = Actor("bench-county", "county", county)
    started = time.perf_counter()
    for i in range(n):
        app.execute(disbursement(county, i), actor)
    seconds = time.perf_counter() - started
    app.close()
    return n / seconds


def import_rate(url: str, n: int, county: str) -> float:
    app = ready_ledger(Settings(url), county)
    actor = Actor("bench-county", "county", county)
    items = [(disbursement(county, i), actor) for i in range(n)]
    started = time.perf_counter()
    app.import_entries(items)
    seconds = time.perf_counter() - started
    app.close()
    return n / seconds


class Store:
    """A fresh store per measurement, so one round's data does not slow the next."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.tmp = tempfile.mkdtemp(prefix="fl-bench-")
        self.dbs: list[str] = []

    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp}/{uuid.uuid4().hex}.db"
        name = f"fl_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.dbs.append(name)
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + name

    def close(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            for name in self.dbs:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--import-entries", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"events per append run: {args.events}; import file: {args.import_entries} entries; "
          f"rounds: {args.rounds} (medians)")
    header = (f"{'store':<10} {'ledger ev/s':>12} {'bare ev/s':>10} {'ratio':>6} "
              f"{'import entries/s':>17}")
    print(header)
    for kind in ("sqlite", "postgres"):
        store = Store(kind)
        ledger, bare, imported, ratios = [], [], [], []
        try:
            for r in range(args.rounds):
                # Alternate which runs first, so drift on a shared machine does not favour one.
                if r % 2:
                    ledger_r = ledger_rate(store.url(), args.events, "441423")
                    b = bare_rate(store.url(), args.events)
                else:
                    b = bare_rate(store.url(), args.events)
                    ledger_r = ledger_rate(store.url(), args.events, "441423")
                ledger.append(ledger_r)
                bare.append(b)
                ratios.append(ledger_r / b)
                imported.append(import_rate(store.url(), args.import_entries, "441423"))
                print(f"  round {r + 1} {kind}: ledger {ledger_r:,.0f}/s, bare {b:,.0f}/s, "
                      f"import {imported[-1]:,.0f}/s", flush=True)
        finally:
            store.close()
        print(f"{kind:<10} {statistics.median(ledger):>12,.0f} {statistics.median(bare):>10,.0f} "
              f"{statistics.median(ratios):>6.2f} {statistics.median(imported):>17,.0f}")


if __name__ == "__main__":
    main()
