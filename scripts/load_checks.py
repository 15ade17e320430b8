"""The checks after a load test (scripts/load_test.py): what the clients saw against what the
database holds. Every acknowledged entry stored exactly once, nothing stored that was not
acknowledged, the events counted per county in SQL equal to the count before the run plus
the projects and writes acknowledged, and `fundledger verify` exiting 0."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from bench_append import PROGRAMME

from api.config import Settings
from api.wiring import Wiring
from ledger.county import county_stream_id

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "api.cli"]


def events_per_county(url: str, counties: list[str]) -> dict[str, int]:
    """The events stored in each county's stream, counted in SQL."""
    ids = {str(county_stream_id(PROGRAMME, c)): c for c in counties}
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT originator_id::text, count(*) FROM fundledger_events "
                            "WHERE originator_id::text = ANY(%s) GROUP BY 1",
                            (list(ids),)).fetchall()
    found = {ids[r[0]]: int(r[1]) for r in rows}
    return {c: found.get(c, 0) for c in counties}


def stored_entries(url: str, counties: list[str]) -> Counter[tuple[str, str]]:
    """(county, entry id) of every load-test entry stored, decoded from the county streams."""
    wiring = Wiring(Settings(url))
    try:
        app = wiring.ledger()
        ids = ((c, str(getattr(e, "entry_id", ""))) for c in counties
               for e in app.events.get(county_stream_id(PROGRAMME, c)))
        return Counter(k for k in ids if k[1].startswith("LT-"))
    finally:
        wiring.close()


@dataclass
class Tally:
    """What the clients saw: acknowledged entries, latencies, retries, failures."""

    acked: list[tuple[str, str]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    retries: int = 0
    retried: Counter[str] = field(default_factory=Counter)  # why: status and problem code
    replays: int = 0
    failures: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # load_profile.CpuMeter.read


def checks(url: str, counties: list[str], before: dict[str, int], tally: Tally,
           clients: int) -> list[tuple[str, bool, str]]:
    """Acknowledged = stored, once each; the SQL counts add up; `fundledger verify` is 0."""
    acked = Counter(tally.acked)
    stored = stored_entries(url, counties)
    lost = sorted(set(acked) - set(stored))
    doubled = sorted(k for k, n in (stored | acked).items() if n > 1)
    unacked = sorted(set(stored) - set(acked))
    after = events_per_county(url, counties)
    # each client's project is one event more in its county's stream
    expected = Counter(before) + Counter(counties[i % len(counties)] for i in range(clients))
    expected.update(c for c, _ in acked)
    off = {c: (after[c], expected[c]) for c in counties if after[c] != expected[c]}
    verify = subprocess.run([*CLI, "--db", url, "verify"], check=False, capture_output=True,
                            text=True, cwd=ROOT,
                            env={**os.environ, "LEDGER_DB": "", "PYTHONPATH": str(ROOT)})
    return [
        ("every write answered (no 4xx, no give-up)", not tally.failures,
         "; ".join(tally.failures[:3])),
        ("acknowledged entries all stored (none lost)", not lost, f"lost: {lost[:5]}"),
        ("stored once each (none doubled)", not doubled, f"doubled: {doubled[:5]}"),
        ("nothing stored unacknowledged", not unacked, f"unacknowledged: {unacked[:5]}"),
        ("SQL events per county = before + projects + acknowledged", not off,
         f"(found, expected): {dict(list(off.items())[:5])}"),
        ("`fundledger verify` exits 0", verify.returncode == 0,
         f"exit {verify.returncode}: {(verify.stdout + verify.stderr)[-300:]}"),
    ]
