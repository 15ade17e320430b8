"""Concurrent writers to one county stream, each through its own FundLedger instance (as separate
API processes would be): the county's hard rules hold by optimistic concurrency alone, every
accepted entry is stored exactly once, and the stream's hash chain stays intact.

PostgreSQL is the store that matters here (the one several processes share); the shared
`store_url` fixture makes its tests fail, not skip, in CI when the server is unreachable.
SQLite runs the same tests too.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from typing import Any

import pytest

from ledger import errors as E
from ledger.application import FundLedger, Result
from ledger.chain import GENESIS_HASH
from ledger.county import CountyFund, county_stream_id
from ledger.errors import LedgerError
from ledger.events import recompute_hash
from ledger.rules import packaged_rules
from tests.conftest import (
    ALLOCATION_FEN,
    COUNTY,
    COUNTY_ACTOR,
    PROGRAMME,
    PROVINCE,
    cmd,
    event_count,
)
from tests.test_hard_rules import appropriation, disbursement, project

THREADS = 8
PER_THREAD = 8
CASH_FEN = 3_000_000_00  # batch 1 partly appropriated: 3 million yuan
BUDGET_FEN = 3_500_000_00  # the project's budget is above the cash: cash binds first
MAX_EXHAUSTED = 3  # of THREADS * PER_THREAD commands, at most this many may give up
JOIN_TIMEOUT_S = 120


@pytest.fixture
def ledgers(make_app: Any) -> list[FundLedger]:
    """THREADS ledger instances on one store; the county funded with CASH_FEN and project P1."""
    first: FundLedger = make_app()
    first.open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE, dt.date(2020, 3, 1))
    first.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "粤商务建字〔2020〕1号",
                       PROVINCE, dt.date(2020, 3, 2))
    first.execute(appropriation("A1", "3000000.00"), PROVINCE)
    first.execute(project("P1", "3500000.00"), COUNTY_ACTOR)
    return [first] + [make_app() for _ in range(THREADS - 1)]


def run_threads(work: list[Any]) -> None:
    """Start one thread per callable at the same moment and wait for all of them."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(fn: Any) -> None:
        try:
            barrier.wait(timeout=30)
            fn()
        except BaseException as e:  # reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT_S)
        assert not t.is_alive(), "a writer thread hung"
    assert not errors, errors


def stream_events(app: FundLedger) -> list[Any]:
    return list(app.events.get(county_stream_id(PROGRAMME, COUNTY)))


def assert_chain_intact(events: list[Any]) -> None:
    """Versions 1..n; each event's hash recomputes; each prev_hash is its predecessor's hash."""
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    prev = GENESIS_HASH
    for e in events:
        assert e.prev_hash == prev, f"broken link at version {e.originator_version}"
        assert recompute_hash(e) == e.event_hash, f"bad hash at version {e.originator_version}"
        prev = e.event_hash


def test_concurrent_disbursements_never_overdraw(make_app: Any, ledgers: list[FundLedger]) -> None:
    """8 instances disbursing concurrently, more than the cash allows: the total never exceeds
    the cash or budget, each accepted entry is stored once, rejections are R4 (or a few
    exhausted retries), and the chain is intact."""
    rng = random.Random(20200630)
    plans = [[(f"T{t}-D{i}", rng.randint(50_000_00, 150_000_00)) for i in range(PER_THREAD)]
             for t in range(THREADS)]
    assert sum(a for plan in plans for _, a in plan) > CASH_FEN
    before = event_count(ledgers[0])
    accepted: dict[str, tuple[int, Result]] = {}
    rejected: dict[str, tuple[int, LedgerError]] = {}
    lock = threading.Lock()

    def worker(app: FundLedger, plan: list[tuple[str, int]]) -> Any:
        def go() -> None:
            for entry_id, amount_fen in plan:
                payload = disbursement(entry_id, "P1", "1.00")
                del payload["amount"]
                payload["amount_fen"] = amount_fen
                try:
                    result = app.execute(payload, COUNTY_ACTOR)
                except LedgerError as e:
                    with lock:
                        rejected[entry_id] = (amount_fen, e)
                else:
                    with lock:
                        accepted[entry_id] = (amount_fen, result)
        return go

    run_threads([worker(app, plan) for app, plan in zip(ledgers, plans, strict=True)])

    assert len(accepted) + len(rejected) == THREADS * PER_THREAD
    assert accepted and rejected
    kinds = Counter(type(e).__name__ for _, e in rejected.values())
    allowed = {"InsufficientCash", "DisbursementExceedsBudget", "ConcurrencyExhausted"}
    assert set(kinds) <= allowed, kinds
    assert kinds["ConcurrencyExhausted"] <= MAX_EXHAUSTED, kinds
    assert not any(r.replayed for _, r in accepted.values())

    fresh = make_app()  # no cache: the state as stored
    fund: CountyFund = fresh.county(PROGRAMME, COUNTY)
    total = sum(a for a, _ in accepted.values())
    assert fund.disbursed_fen == total
    assert fund.projects["P1"]["disbursed_fen"] == total
    assert total <= CASH_FEN and total <= BUDGET_FEN
    assert fund.cash_fen == CASH_FEN - total >= 0
    for amount_fen, e in rejected.values():
        if isinstance(e, E.InsufficientCash):  # cash only fell afterwards
            assert amount_fen > fund.cash_fen

    events = stream_events(fresh)
    assert_chain_intact(events)
    stored = Counter(e.entry_id for e in events if isinstance(e, CountyFund.DisbursementRecorded))
    assert set(stored) == set(accepted)
    assert all(n == 1 for n in stored.values())
    by_version = {e.originator_version: e for e in events}
    for entry_id, (amount_fen, result) in accepted.items():
        event = by_version[result.version]
        assert event.entry_id == entry_id and event.amount_fen == amount_fen
        assert event.event_hash == result.event_hash
    assert len({r.version for _, r in accepted.values()}) == len(accepted)
    assert event_count(fresh) == before + len(accepted)


def test_same_entry_from_eight_instances_is_recorded_once(
    make_app: Any, ledgers: list[FundLedger]
) -> None:
    """The same entry id sent by 8 instances at once is recorded exactly once, and all 8 get
    the same version and hash (one original, seven replays)."""
    before = event_count(ledgers[0])
    results: list[Result] = []
    lock = threading.Lock()

    def worker(app: FundLedger) -> Any:
        def go() -> None:
            result = app.execute(disbursement("SAME-1", "P1", "12345.67"), COUNTY_ACTOR)
            with lock:
                results.append(result)
        return go

    run_threads([worker(app) for app in ledgers])

    assert len(results) == THREADS
    assert len({(r.stream_id, r.version, r.event_hash) for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    fresh = make_app()
    assert event_count(fresh) == before + 1
    events = stream_events(fresh)
    assert_chain_intact(events)
    assert [e.entry_id for e in events if getattr(e, "entry_id", None) == "SAME-1"] == ["SAME-1"]
    assert fresh.county(PROGRAMME, COUNTY).disbursed_fen == 1234567


@pytest.mark.parametrize("case", ["cash", "project", "decision"])
def test_an_instance_judges_commands_on_the_current_state(
    ledgers: list[FundLedger], case: str
) -> None:
    """What another instance recorded (more cash, a new project, the batch-2 decision) counts
    for the next command through this instance: no rejection comes from a stale cache."""
    mine, other = ledgers[0], ledgers[1]  # `mine` has the county cached from the set-up
    if case == "cash":
        other.execute(appropriation("A2", "1000000.00"), PROVINCE)
        payload, actor = disbursement("D1", "P1", "3200000.00"), COUNTY_ACTOR
    elif case == "project":
        other.execute(project("P2", "1000.00"), COUNTY_ACTOR)
        payload, actor = disbursement("D1", "P2", "1000.00"), COUNTY_ACTOR
    else:
        other.execute(cmd("batch_decision", batch=2, document_no="粤商务建〔2021〕9号",
                          business_date="2021-02-01"), PROVINCE)
        payload, actor = appropriation("B2", "1.00", batch=2, date="2021-03-01"), PROVINCE
    before = event_count(mine)
    result = mine.execute(payload, actor)
    assert not result.replayed
    assert event_count(mine) == before + 1
