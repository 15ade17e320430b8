"""Writing one batch's rows into the views, inside the batch's transaction."""

from __future__ import annotations

from ledger.sql import Row
from projections.db import Cursor
from projections.schema import (
    COUNTIES,
    FACTS,
    FLOWS,
    INCONSISTENT,
    MILESTONES,
    PROGRAMMES,
    PROJECTS,
)
from projections.translate import PROJECT_MEASURES, MilestoneRows, MoneyRows

FACT_COLUMNS = ("position", "programme", "county_code", "day", "measure", "category", "batch",
                "project_code", "entry_id", "amount_fen")
PROJECT_COLUMNS = ("programme", "county_code", "project_code", "name", "category",
                   "responsible_person", "implementing_unit", "start_date", "end_date",
                   "entry_id", "position", "day", "budget_fen", "disbursed_fen",
                   "disbursed_reversed_fen", "expended_fen", "expended_reversed_fen",
                   "last_position", "last_entry_id", "last_measure", "last_day")
MILESTONE_COLUMNS = ("position", "programme", "county_code", "day", "kind", "ref", "entry_id",
                     "amount_fen", "document", "detail")
_FLOW_UPSERT = (
    f"INSERT INTO {FLOWS} (programme, county_code, year, category, batch, measure, amount_fen, "
    "first_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (programme, county_code, year, category, batch, measure) "
    f"DO UPDATE SET amount_fen = {FLOWS}.amount_fen + excluded.amount_fen, "
    f"first_day = CASE WHEN excluded.first_day < {FLOWS}.first_day "
    f"THEN excluded.first_day ELSE {FLOWS}.first_day END"
)
_SUMS = ", ".join(f"{m}_fen = {m}_fen + ?" for m in PROJECT_MEASURES)
_PROJECT_UPDATE = (
    f"UPDATE {PROJECTS} SET {_SUMS}, last_position = ?, last_entry_id = ?, last_measure = ?, "
    "last_day = ? WHERE programme = ? AND county_code = ? AND project_code = ?"
)


def write_money(cur: Cursor, rows: MoneyRows) -> None:
    cur.executemany(
        f"INSERT INTO {PROGRAMMES} (programme, total_fen, rules_json, position, day) "
        "VALUES (?, ?, ?, ?, ?)", rows.programmes)
    cur.executemany(
        f"INSERT INTO {COUNTIES} (programme, county_code, stream_id, county_name, city_code, "
        "allocation_fen, position, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows.counties)
    cur.insert_many(FACTS, FACT_COLUMNS, rows.facts)
    cur.insert_many(PROJECTS, PROJECT_COLUMNS, rows.new_projects)
    cur.executemany(_FLOW_UPSERT, [(*key, *sums) for key, sums in rows.flows.items()])
    cur.executemany(_PROJECT_UPDATE,
                    [(*delta, *key) for key, delta in rows.project_deltas.items()])


def write_milestones(cur: Cursor, rows: MilestoneRows) -> None:
    cur.insert_many(MILESTONES, MILESTONE_COLUMNS, rows.rows)


def write_flags(cur: Cursor, flags: list[Row]) -> None:
    """Flag the events left out; a position flagged already (by the other projection) stays."""
    cur.executemany(
        f"INSERT INTO {INCONSISTENT} (position, programme, county_code, stream_id, version, "
        "problem_zh, problem_en) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (position) DO NOTHING",
        flags)
