"""Exactly once, on SQLite and PostgreSQL: a runner killed mid-batch (a real SIGKILL of another
process) resumes without skipping or repeating an event; concurrent catch-ups apply each event
once; the tracking compare-and-set refuses a batch whose position moved; a write is visible to
the next read of its writer; the background follower keeps up by notification and by polling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.application import FundLedger
from projections.model import MEASURES, AsOf
from projections.runner import ViewsMoved
from projections.schema import FACTS, TRACKING
from projections.service import Views
from tests.conftest import COUNTY, PROGRAMME, PROVINCE, TODAY, cmd
from tests.projections.demo_county import LAGGING, build_demo_county
from tests.projections.histories import History, next_county
from tests.projections.oracle import normalize, read_log, truth

REPO = Path(__file__).resolve().parents[2]
KILL_BATCH_EVENTS = 200
KILLED_BATCH = 3
# The child catches up in batches of KILL_BATCH_EVENTS and stops for good inside batch
# KILLED_BATCH, after writing its rows and before committing them; the parent kills it there.
CHILD = f"""
import sys, time
from ledger.application import FundLedger
from ledger.stores import store_env
from projections.service import Views

def hook(n):
    if n == {KILLED_BATCH}:
        print("MID-BATCH", flush=True)
        time.sleep(600)

views = Views(FundLedger(store_env(sys.argv[1])), after_rows=hook)
views.runner.catch_up(batch_events={KILL_BATCH_EVENTS})
"""


def money_events(events: list[tuple[int, Any]]) -> int:
    kinds = ("ProjectRegistered", "BudgetAdjusted", "AppropriationReceived",
             "DisbursementRecorded", "ExpenditureRecorded", "EntryReversed", "FundsRecovered")
    return sum(type(e).__name__ in kinds for _, e in events)


def fact_count(views: Views) -> int:
    with views.db.read() as cur:
        row = cur.execute(f"SELECT COUNT(*) FROM {FACTS}").fetchone()
    return int(row[0]) if row else 0


def test_runner_killed_mid_batch_resumes_exactly_once(make_app: Any, store_url: str) -> None:
    """SIGKILL inside batch 3: its rows vanish; the resumed run gives the oracle's numbers."""
    app = make_app()
    build_demo_county(app)
    views = Views(app)  # tables exist before the child takes the writer lock
    events = read_log(app)
    with subprocess.Popen([sys.executable, "-c", CHILD, store_url], cwd=REPO,
                          stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "MID-BATCH"
            committed = events[KILL_BATCH_EVENTS * (KILLED_BATCH - 1) - 1][0]
            assert views.runner.positions() == {"money": committed, "milestones": committed}
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()  # no-op once killed; ends the child if an assertion failed first
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert views.runner.positions()["money"] == committed  # the killed batch left nothing
    views.catch_up()
    assert views.runner.positions()["money"] == events[-1][0]
    assert fact_count(views) == money_events(events) > 1000  # none skipped, none twice
    got = normalize(views.county(PROGRAMME, LAGGING))
    assert got == truth(events, app.rules(PROGRAMME), PROGRAMME, LAGGING, TODAY)
    assert got["money"]["recovered"] > 0 and got["execution"][2020][5] == 4498


def test_concurrent_catch_ups_apply_each_event_once(app: FundLedger) -> None:
    """Two runners (own connections) race each other while a writer records entries."""
    county = next_county()
    history = History(app, county, 400_000_00)
    history.setup()
    racers = [Views(app), Views(app)]
    done = threading.Event()
    errors: list[BaseException] = []

    def race(views: Views) -> None:
        try:
            while not done.is_set():
                views.runner.catch_up(batch_events=7)
        except BaseException as e:  # collected for the assertion below
            errors.append(e)

    threads = [threading.Thread(target=race, args=(v,)) for v in racers]
    for t in threads:
        t.start()
    actions = [(k, i * 7, 10 + i % 60, 150 + i * 2) for i in range(60) for k in
               ("disbursement", "expenditure", "reversal")]
    history.run(actions)
    done.set()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert all(v.runner.batches > 0 for v in racers)  # both runners did apply batches
    racers[0].catch_up()
    events = read_log(app)
    assert fact_count(racers[1]) == money_events(events)
    want = truth(events, app.rules(PROGRAMME), PROGRAMME, county, TODAY)
    assert normalize(racers[1].county(PROGRAMME, county)) == want
    assert want["money"]["disbursed"] > 0


def test_compare_and_set_refuses_a_moved_position(app: FundLedger, store_url: str) -> None:
    """If a position moves under a batch (the lock bypassed), the batch rolls back whole."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite cannot write beside a BEGIN IMMEDIATE transaction at all")

    def bypass_the_lock(n: int) -> None:
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(f"UPDATE {TRACKING} SET position = 1 WHERE view_name = 'money'")

    views = Views(app, after_rows=bypass_the_lock)
    with pytest.raises(ViewsMoved):
        views.catch_up()
    assert fact_count(views) == 0
    assert views.runner.positions() == {"money": 1, "milestones": 0}


def test_a_write_is_visible_to_the_next_read(app: FundLedger) -> None:
    """Read-your-writes: the read waits for the position the write produced."""
    views = Views(app)
    views.catch_up()
    r = app.execute(cmd("appropriation", entry_id="A1", batch=1, amount_fen=123_456_78,
                        document_no="X", business_date="2020-05-01"), PROVINCE)
    assert r.position is not None
    s = views.county(PROGRAMME, COUNTY, after=r.position)
    assert s.money.appropriated_fen == 123_456_78
    assert s.position >= r.position


@pytest.mark.parametrize("listen", [True, False], ids=["notify", "poll"])
def test_follower_keeps_the_views_current(app: FundLedger, store_url: str,
                                          listen: bool) -> None:
    """By NOTIFY alone (poll 30 s, PostgreSQL), or by polling alone (both stores)."""
    if listen and not store_url.startswith("postgresql"):
        pytest.skip("SQLite has no notifications")
    views = Views(app)
    follower = views.follow(poll_interval_s=30.0 if listen else 0.2, listen=listen)
    try:
        time.sleep(0.3)  # the follower has caught up with the opening events and is waiting
        r = app.execute(cmd("appropriation", entry_id="A1", batch=1, amount_fen=5_000_00,
                            document_no="X", business_date="2020-05-01"), PROVINCE)
        deadline = time.monotonic() + 10
        while min(views.runner.positions().values()) < (r.position or 0):
            assert time.monotonic() < deadline, "the follower did not catch up"
            time.sleep(0.05)
        assert follower.errors == 0
        assert views.county(PROGRAMME, COUNTY, as_of=AsOf()).money.appropriated_fen == 5_000_00
    finally:
        follower.stop()
    assert not follower.alive


def test_measures_are_the_documented_ones() -> None:
    """docs/rules.md names every measure a fact may carry."""
    text = (REPO / "docs" / "rules.md").read_text("utf-8")
    assert all(f"`{m}`" in text for m in MEASURES)
