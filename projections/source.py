"""Reading the views' rows, current or as of a business date and a log position.

The current state reads the materialised sums (`fundledger_view_flows`, the project register);
an as-of read aggregates the money facts with the same grouping and a filter, so both give rows of
the same shape and everything computed from them is the same code. Milestones, counties and
projects carry their own position and business date and are filtered the same way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache

from ledger.rules import ProgrammeRules, parse_rules
from projections import model as M
from projections.db import Cursor
from projections.schema import (
    COUNTIES,
    FACTS,
    FLOWS,
    INCONSISTENT,
    MILESTONES,
    PROGRAMMES,
    PROJECTS,
    TRACKING,
)
from projections.translate import PROJECT_MEASURES


@dataclass(frozen=True)
class CountyInfo:
    programme: str
    county_code: str
    county_name: str
    city_code: str
    allocation_fen: int
    admitted_on: str


@dataclass(frozen=True)
class Flow:
    """The sum of one measure's facts in one year, category and batch, and its earliest day."""

    year: int
    category: str
    batch: int
    measure: str
    amount_fen: int
    first_day: int


@dataclass(frozen=True)
class Milestone:
    position: int
    day: int
    kind: str
    ref: str
    entry_id: str
    amount_fen: int
    document: str
    detail: str


@dataclass(frozen=True)
class ProjectRecord:
    code: str
    name: str
    category: str
    responsible_person: str
    implementing_unit: str
    start_date: str
    end_date: str
    entry_id: str
    registered_day: int
    sums: dict[str, int]
    last: tuple[int, str, str, int]  # position, entry id, measure, day


@dataclass(frozen=True)
class Inconsistency:
    """A stored event the views left out because it contradicts the events before it."""

    position: int
    programme: str  # "" (and county "") when the log never opened the event's stream
    county_code: str
    stream_id: str
    version: int
    problem_zh: str
    problem_en: str


def _filter(as_of: M.AsOf) -> tuple[str, tuple[int, int]]:
    return "day <= ? AND position <= ?", (as_of.day_max, as_of.position_max)


def _county(county: str | None) -> tuple[str, tuple[str, ...]]:
    return ("AND county_code = ? ", (county,)) if county is not None else ("", ())


@lru_cache(maxsize=16)
def _parse(rules_json: str) -> ProgrammeRules:
    return parse_rules(json.loads(rules_json))


def views_position(cur: Cursor) -> int:
    """The position every projection has reached (the lowest of them)."""
    row = cur.execute(f"SELECT MIN(position) FROM {TRACKING}").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def rules(cur: Cursor, programme: str, as_of: M.AsOf) -> ProgrammeRules | None:
    """The rules a programme was opened with: the frame every read is judged in, so filtered
    by log position only (a county may be admitted with a date before the programme's)."""
    hit = cur.memo.get(("rules", programme))
    if hit is None:
        row = cur.execute(f"SELECT position, rules_json FROM {PROGRAMMES} WHERE programme = ?",
                          (programme,)).fetchone()
        if row is None:
            return None
        hit = cur.memo[("rules", programme)] = (int(row[0]), _parse(str(row[1])))
    return hit[1] if hit[0] <= as_of.position_max else None


_COUNTY_COLUMNS = "programme, county_code, county_name, city_code, allocation_fen, day, position"


def _info(r: tuple[object, ...]) -> tuple[CountyInfo, int, int]:
    day = int(str(r[5]))
    return (CountyInfo(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(str(r[4])),
                       M.day_date(day).isoformat()), day, int(str(r[6])))


def county(cur: Cursor, programme: str, code: str, as_of: M.AsOf) -> CountyInfo | None:
    """One county's record (remembered: it never changes), if admitted as of the read."""
    hit = cur.memo.get(("county", programme, code))
    if hit is None:
        row = cur.execute(f"SELECT {_COUNTY_COLUMNS} FROM {COUNTIES} WHERE programme = ? AND "
                          "county_code = ?", (programme, code)).fetchone()
        if row is None:
            return None
        hit = cur.memo[("county", programme, code)] = _info(row)
    info, day, position = hit
    return info if day <= as_of.day_max and position <= as_of.position_max else None


def counties(cur: Cursor, programme: str, as_of: M.AsOf,
             city: str | None = None) -> list[CountyInfo]:
    """The counties admitted as of the read, by code; optionally one city's."""
    where, params = _filter(as_of)
    sql = f"SELECT {_COUNTY_COLUMNS} FROM {COUNTIES} WHERE programme = ? AND {where} "
    args: list[object] = [programme, *params]
    if city is not None:
        sql, args = sql + "AND city_code = ? ", [*args, city]
    return [_info(r)[0] for r in cur.execute(sql + "ORDER BY county_code", args).fetchall()]


def flows(cur: Cursor, programme: str, as_of: M.AsOf,
          county: str | None = None) -> dict[str, list[Flow]]:
    """Each county's flows: the materialised sums, or the facts summed as of a date/position."""
    only, county_args = _county(county)
    if as_of.current:
        rows = cur.execute(
            f"SELECT county_code, year, category, batch, measure, amount_fen, first_day "
            f"FROM {FLOWS} WHERE programme = ? {only}", (programme, *county_args)).fetchall()
    else:
        where, params = _filter(as_of)
        rows = cur.execute(
            f"SELECT county_code, day / 10000, category, batch, measure, "
            f"CAST(SUM(amount_fen) AS BIGINT), MIN(day) FROM {FACTS} "
            f"WHERE programme = ? {only}AND {where} "
            "GROUP BY county_code, day / 10000, category, batch, measure",
            (programme, *county_args, *params)).fetchall()
    out: dict[str, list[Flow]] = defaultdict(list)
    for r in rows:
        out[str(r[0])].append(Flow(int(r[1]), str(r[2]), int(r[3]), str(r[4]), int(r[5]),
                                   int(r[6])))
    return out


def milestones(cur: Cursor, programme: str, as_of: M.AsOf,
               county: str | None = None) -> dict[str, list[Milestone]]:
    only, county_args = _county(county)
    where, params = _filter(as_of)
    rows = cur.execute(
        f"SELECT county_code, position, day, kind, ref, entry_id, amount_fen, document, detail "
        f"FROM {MILESTONES} WHERE programme = ? {only}AND {where} ORDER BY position",
        (programme, *county_args, *params)).fetchall()
    out: dict[str, list[Milestone]] = defaultdict(list)
    for r in rows:
        out[str(r[0])].append(Milestone(int(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5]),
                                        int(r[6]), str(r[7]), str(r[8])))
    return out


_PROJECT_STATIC = ("project_code, name, category, responsible_person, implementing_unit, "
                   "start_date, end_date, entry_id, day")


def projects(cur: Cursor, programme: str, county: str, as_of: M.AsOf) -> list[ProjectRecord]:
    """The county's project register; as of a date/position its sums come from the facts."""
    where, params = _filter(as_of)
    sums = ", ".join(f"{m}_fen" for m in PROJECT_MEASURES)
    rows = cur.execute(
        f"SELECT {_PROJECT_STATIC}, {sums}, last_position, last_entry_id, last_measure, "
        f"last_day FROM {PROJECTS} WHERE programme = ? AND county_code = ? AND {where} "
        "ORDER BY project_code", (programme, county, *params)).fetchall()
    records = [_record(r) for r in rows]
    if as_of.current:
        return records
    return _projects_from_facts(cur, programme, county, as_of, records)


def _record(r: tuple[object, ...]) -> ProjectRecord:
    n = len(PROJECT_MEASURES)
    text = [str(x) for x in r[:8]]
    sums = dict(zip(PROJECT_MEASURES, (int(str(x)) for x in r[9:9 + n]), strict=True))
    last = (int(str(r[9 + n])), str(r[10 + n]), str(r[11 + n]), int(str(r[12 + n])))
    return ProjectRecord(text[0], text[1], text[2], text[3], text[4], text[5], text[6], text[7],
                         int(str(r[8])), sums, last)


def _projects_from_facts(cur: Cursor, programme: str, county: str, as_of: M.AsOf,
                         records: list[ProjectRecord]) -> list[ProjectRecord]:
    """Sums and last entry per project, as of the read, aggregated in the database."""
    where, params = _filter(as_of)
    rows = cur.execute(
        f"SELECT project_code, measure, CAST(SUM(amount_fen) AS BIGINT), MAX(position) "
        f"FROM {FACTS} WHERE programme = ? AND county_code = ? AND project_code <> '' "
        f"AND {where} GROUP BY project_code, measure", (programme, county, *params)).fetchall()
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PROJECT_MEASURES, 0))
    newest: dict[str, int] = {}
    for code, measure, amount, position in rows:
        sums[str(code)][str(measure)] = int(amount)
        newest[str(code)] = max(newest.get(str(code), 0), int(position))
    last: dict[int, tuple[int, str, str, int]] = {}
    if newest:
        marks = ", ".join("?" * len(newest))
        for position, entry_id, measure, day in cur.execute(
                f"SELECT position, entry_id, measure, day FROM {FACTS} "
                f"WHERE position IN ({marks})", tuple(newest.values())).fetchall():
            last[int(position)] = (int(position), str(entry_id), str(measure), int(day))
    return [replace(r, sums=sums[r.code], last=last[newest[r.code]]) for r in records]


def inconsistencies(cur: Cursor, programme: str, as_of: M.AsOf,
                    county: str | None = None) -> list[Inconsistency]:
    """The events left out up to the read's position: of one county, or of the programme
    (with those whose stream the log never opened), in log order."""
    args: tuple[str, ...] = (programme,) if county is None else (programme, county)
    where = "programme IN (?, '')" if county is None else "programme = ? AND county_code = ?"
    rows = cur.execute(
        f"SELECT position, programme, county_code, stream_id, version, problem_zh, problem_en "
        f"FROM {INCONSISTENT} WHERE {where} AND position <= ? ORDER BY position",
        (*args, as_of.position_max)).fetchall()
    return [Inconsistency(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]),
                          str(r[6])) for r in rows]
