"""One county of the GD-2020 demo, built through the application exactly as `fundledger demo`
builds it (the demo seeds each county's generator by its code, so the numbers are the same)."""

from __future__ import annotations

import datetime as dt
import random

from api import demo
from api import demo_data as D
from ledger.application import FundLedger
from ledger.rules import packaged_rules

LAGGING = D.LAGS_2020  # 441825 连山壮族瑶族自治县: the worked example of docs/rules.md


def build_demo_county(app: FundLedger, code: str = LAGGING) -> int:
    """Open the programme, admit `code` and import its whole demo history; its event count."""
    total_fen = sum(a for _, _, a in D.COUNTIES) * 100
    app.open_programme(packaged_rules(D.PROGRAMME), total_fen, demo.PROVINCE, dt.date(2020, 3, 1))
    name, allocation = next((n, a) for c, n, a in D.COUNTIES if c == code)
    app.admit_county(D.PROGRAMME, code, name, allocation * 100, "粤商务建字〔2020〕1号",
                     demo.PROVINCE, dt.date(2020, 3, 20))
    plan = demo.CountyPlan(code, name, allocation * 100,
                           random.Random(f"{demo.DEMO_SEED}-{code}"))
    items = demo.county_history(plan)
    for i in range(0, len(items), demo.IMPORT_CHUNK_ITEMS):
        app.import_entries(items[i:i + demo.IMPORT_CHUNK_ITEMS])
    return len(items)
