"""The tables of the read models, grouped into the two tracked projections that maintain them.

`money` holds per-event money facts (the basis of every as-of query), their sums per county ×
year × category × batch × measure (the current balances), the project register and the county
and programme records. `milestones` holds every non-money county event (reports, typical cases,
acceptance, batch decisions, ratio exceptions, year closes). Each projection has one row in the
tracking table: the log position it has applied, written in the same transaction as its rows.

Amounts are integer fen (BIGINT); dates are integers `YYYYMMDD`, so that a business-date filter
is an integer comparison on both stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.db import Cursor

# Bump when a table's shape or a projection's meaning changes: views of another version are
# dropped and replayed from the event log when the views are opened.
SCHEMA_VERSION = 3  # 2: fundledger_view_inconsistent; 3: milestone kind batch_decision
TRACKING = "fundledger_view_tracking"
PROGRAMMES = "fundledger_view_programmes"
COUNTIES = "fundledger_view_counties"
FACTS = "fundledger_view_facts"
FLOWS = "fundledger_view_flows"
PROJECTS = "fundledger_view_projects"
MILESTONES = "fundledger_view_milestones"
INCONSISTENT = "fundledger_view_inconsistent"


@dataclass(frozen=True)
class ProjectionSpec:
    """A tracked projection: its name, what it feeds, and its tables' DDL."""

    name: str
    feeds: tuple[str, ...]
    tables: tuple[str, ...]
    ddl: tuple[str, ...]


_TRACKING_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TRACKING} (view_name TEXT PRIMARY KEY, "
    "position BIGINT NOT NULL, schema_version INTEGER NOT NULL, updated_at TEXT NOT NULL)"
)

MONEY = ProjectionSpec(
    name="money",
    feeds=("balances", "compliance", "execution", "indicators", "register"),
    tables=(PROGRAMMES, COUNTIES, FACTS, FLOWS, PROJECTS, INCONSISTENT),
    ddl=(
        f"CREATE TABLE IF NOT EXISTS {PROGRAMMES} (programme TEXT PRIMARY KEY, "
        "total_fen BIGINT NOT NULL, rules_json TEXT NOT NULL, position BIGINT NOT NULL, "
        "day INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {COUNTIES} (programme TEXT NOT NULL, "
        "county_code TEXT NOT NULL, stream_id TEXT NOT NULL, county_name TEXT NOT NULL, "
        "city_code TEXT NOT NULL, allocation_fen BIGINT NOT NULL, position BIGINT NOT NULL, "
        "day INTEGER NOT NULL, PRIMARY KEY (programme, county_code))",
        # One row per money event: the measure it moves and its amount, with the category,
        # batch and project it belongs to (a reversal carries its target's).
        f"CREATE TABLE IF NOT EXISTS {FACTS} (position {{pk}} PRIMARY KEY, "
        "programme TEXT NOT NULL, county_code TEXT NOT NULL, day INTEGER NOT NULL, "
        "measure TEXT NOT NULL, category TEXT NOT NULL, batch INTEGER NOT NULL, "
        "project_code TEXT NOT NULL, entry_id TEXT NOT NULL, amount_fen BIGINT NOT NULL)",
        # Finds a reversal's target; its (programme, county_code) prefix serves as-of reads.
        f"CREATE UNIQUE INDEX IF NOT EXISTS {FACTS}_entry "
        f"ON {FACTS} (programme, county_code, entry_id)",
        f"CREATE TABLE IF NOT EXISTS {FLOWS} (programme TEXT NOT NULL, "
        "county_code TEXT NOT NULL, year INTEGER NOT NULL, category TEXT NOT NULL, "
        "batch INTEGER NOT NULL, measure TEXT NOT NULL, amount_fen BIGINT NOT NULL, "
        "first_day INTEGER NOT NULL, "
        "PRIMARY KEY (programme, county_code, year, category, batch, measure))",
        f"CREATE TABLE IF NOT EXISTS {PROJECTS} (programme TEXT NOT NULL, "
        "county_code TEXT NOT NULL, project_code TEXT NOT NULL, name TEXT NOT NULL, "
        "category TEXT NOT NULL, responsible_person TEXT NOT NULL, "
        "implementing_unit TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL, "
        "entry_id TEXT NOT NULL, position BIGINT NOT NULL, day INTEGER NOT NULL, "
        "budget_fen BIGINT NOT NULL, disbursed_fen BIGINT NOT NULL, "
        "disbursed_reversed_fen BIGINT NOT NULL, expended_fen BIGINT NOT NULL, "
        "expended_reversed_fen BIGINT NOT NULL, last_position BIGINT NOT NULL, "
        "last_entry_id TEXT NOT NULL, last_measure TEXT NOT NULL, last_day INTEGER NOT NULL, "
        "PRIMARY KEY (programme, county_code, project_code))",
        # Stored events the views could not apply (a duplicate entry id, a reversal of an
        # entry never recorded...): the event is left out and its county is flagged, so that
        # a read of that county reports STORE_INCONSISTENT and every other county reads on.
        # Either projection may flag a position; the first flag of a position is kept.
        f"CREATE TABLE IF NOT EXISTS {INCONSISTENT} (position {{pk}} PRIMARY KEY, "
        "programme TEXT NOT NULL, county_code TEXT NOT NULL, stream_id TEXT NOT NULL, "
        "version INTEGER NOT NULL, problem_zh TEXT NOT NULL, problem_en TEXT NOT NULL)",
    ),
)

MILESTONES_SPEC = ProjectionSpec(
    name="milestones",
    feeds=("duties", "indicators", "compliance"),
    tables=(MILESTONES,),
    ddl=(
        f"CREATE TABLE IF NOT EXISTS {MILESTONES} (position {{pk}} PRIMARY KEY, "
        "programme TEXT NOT NULL, county_code TEXT NOT NULL, day INTEGER NOT NULL, "
        "kind TEXT NOT NULL, ref TEXT NOT NULL, entry_id TEXT NOT NULL, "
        "amount_fen BIGINT NOT NULL, document TEXT NOT NULL, detail TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {MILESTONES}_county "
        f"ON {MILESTONES} (programme, county_code)",
    ),
)

PROJECTIONS: tuple[ProjectionSpec, ...] = (MONEY, MILESTONES_SPEC)


def spec(name: str) -> ProjectionSpec:
    for p in PROJECTIONS:
        if p.name == name:
            return p
    raise KeyError(name)


def _ddl(cur: Cursor, statement: str) -> str:
    # SQLite makes an INTEGER PRIMARY KEY the rowid (fast, 64-bit); PostgreSQL needs BIGINT.
    return statement.replace("{pk}", "BIGINT" if cur.postgres else "INTEGER")


def create(cur: Cursor, projection: ProjectionSpec) -> None:
    """Create the projection's tables (idempotent) and its tracking row at position 0."""
    cur.execute(_TRACKING_DDL)
    for statement in projection.ddl:
        cur.execute(_ddl(cur, statement))
    cur.execute(
        f"INSERT INTO {TRACKING} (view_name, position, schema_version, updated_at) "
        "VALUES (?, 0, ?, '') ON CONFLICT (view_name) DO NOTHING",
        (projection.name, SCHEMA_VERSION),
    )


def drop(cur: Cursor, projection: ProjectionSpec) -> None:
    """Drop the projection's tables and forget its position."""
    for table in projection.tables:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(_TRACKING_DDL)
    cur.execute(f"DELETE FROM {TRACKING} WHERE view_name = ?", (projection.name,))


def tracking(cur: Cursor, create: bool = False) -> dict[str, tuple[int, int, str]]:
    """Every projection's (position, schema version, updated at); `create` makes the table."""
    if create:
        cur.execute(_TRACKING_DDL)
    rows = cur.execute(
        f"SELECT view_name, position, schema_version, updated_at FROM {TRACKING}"
    ).fetchall()
    return {str(r[0]): (int(r[1]), int(r[2]), str(r[3])) for r in rows}
