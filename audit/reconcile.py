"""Reconciliation: the statements the ledger reports (its read models) held against the audit's
own recomputation from the stored events (`audit.statements`, which imports nothing of the
projections). Both are `fundledger-statements/1` documents; every row and field that differs is
a finding naming the programme, the county, the category or year, the field and both amounts.

`ledger_statements` writes what the read models say in that format: `fundledger export` puts it
in a bundle's statements.json, so that the offline verifier's comparison is this reconciliation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from audit.chains import decode_row, iter_rows
from audit.checks import Finding
from audit.db import stream_id_of
from audit.statements import FORMAT, StatementBuilder
from ledger.errors import StoreInconsistent
from projections import model as M
from projections import money as Y
from projections import report, schema, source
from projections.db import Cursor
from projections.eventlog import EventLog
from projections.service import Views

CHECK = "reconciliation"
# Judged on a day after every programme year has begun, so that the read models give every
# year of the period, as the recomputation does (only the duties depend on the day).
ALL_YEARS_DAY = dt.date(9999, 12, 31)
# How a section's rows are told apart; the other fields are compared.
KEYS = {"counties": ("programme", "county_code"),
        "balances": ("programme", "county_code", "category"),
        "balances_by_year": ("programme", "county_code", "category", "year"),
        "compliance": ("programme", "county_code", "category"),
        "execution": ("programme", "county_code", "year")}


# ---- the audit's side: from the stored events ------------------------------------------------

def _docs(app: EventLog, position: int) -> Iterator[dict[str, Any]]:
    for row in iter_rows(app.recorder):
        if row.id > position:
            return
        try:
            event_type, _, _, _, data = decode_row(row)
        except ValueError:
            continue  # the chain check reports an undecodable event
        yield {"type": event_type, "stream_id": stream_id_of(row.originator_id), "data": data}


def recompute(app: EventLog, position: int) -> dict[str, Any]:
    """The statements recomputed from the stored events up to `position` (notification id)."""
    builder = StatementBuilder()
    for doc in _docs(app, position):
        builder.add(doc)
    if builder.needs_second_pass:
        for doc in _docs(app, position):
            builder.resolve(doc)
    return builder.result()


# ---- the ledger's side: from the read models -------------------------------------------------

def ledger_statements(views: Views, as_of: M.AsOf = M.CURRENT, programme: str | None = None,
                      county: str | None = None) -> dict[str, Any]:
    """The statements as the read models report them, in `fundledger-statements/1`."""
    return _ledger(views, as_of, programme, county)[0]


def bundle_statements(views: Views) -> Callable[[Any, int], dict[str, Any]]:
    """For `audit.bundle.export`: the statements the read models report for a bundle's scope
    as of its last event — the materialised current balances when that is the views' position,
    else the per-event facts summed as of it."""
    def statements(scope: Any, position: int) -> dict[str, Any]:
        views.wait(position)
        return _ledger(views, M.CURRENT, scope.programme, scope.county, position)[0]
    return statements


def statements_for_bundle(views: Views) -> tuple[Callable[[Any, int], dict[str, Any]] | None,
                                                  str | None]:
    """What `export` hands the bundle: the read models' statements, or None (the bundle then
    recomputes them from the events) when the views cannot be brought up to date; with a
    warning, in Chinese and English, when stored events are inconsistent (left out of the
    statements; verifying the bundle will report them)."""
    try:
        views.catch_up()
        flags = views.inconsistencies()
    except StoreInconsistent as e:
        return None, (f"{e}\n  读模型无法更新，statements.json 改为由事件重算 / the read models "
                      "cannot be brought up to date; statements.json is recomputed from the "
                      "events instead")
    warning = None
    if flags:
        counties = ", ".join(sorted({f.county_code or f"stream {f.stream_id}" for f in flags}))
        warning = (f"存储的事件不一致 / inconsistent stored events: {counties}\n  "
                   "statements.json 不含这些县，校验时将报告 / statements.json leaves these "
                   "counties out; verifying the bundle will report them")
    return bundle_statements(views), warning


def _ledger(views: Views, as_of: M.AsOf, programme: str | None = None,
            county: str | None = None, until: int | None = None) -> tuple[dict[str, Any], int]:
    """The statements, and the log position the views had applied when they were read;
    `until`: as of that position when the views are beyond it."""
    doc: dict[str, Any] = {"format": FORMAT, **{section: [] for section in KEYS}}
    with views.db.read() as cur:
        position = source.views_position(cur)
        if until is not None and until < position:
            as_of, position = M.AsOf(position=until), until
        names = [str(r[0]) for r in cur.execute(
            f"SELECT programme FROM {schema.PROGRAMMES} ORDER BY programme").fetchall()]
        for name in names:
            if programme not in (None, name) or source.rules(cur, name, as_of) is None:
                continue
            # A county whose events the views left out reports nothing: the comparison then
            # names each of its rows as recomputed from the events but omitted.
            flagged = {f.county_code for f in source.inconsistencies(cur, name, as_of)}
            for info in source.counties(cur, name, as_of):
                if county in (None, info.county_code) and info.county_code not in flagged:
                    _county_rows(doc, cur, name, info.county_code, as_of)
    return doc, position


def _county_rows(doc: dict[str, Any], cur: Cursor, programme: str, code: str,
                 as_of: M.AsOf) -> None:
    s = report.county_status(cur, programme, code, ALL_YEARS_DAY, as_of)
    led = Y.Ledger(source.flows(cur, programme, as_of, code).get(code, []))
    m, where = s.money, {"programme": programme, "county_code": code}
    whole = sorted((b for b in s.balances if b.year is None), key=lambda b: b.category)
    doc["counties"].append({
        **where, "county_name": s.county_name, "allocation_fen": m.allocation_fen,
        "budget_fen": sum(b.budget_fen for b in whole), "appropriated_fen": m.appropriated_fen,
        "disbursed_fen": m.disbursed_fen, "expended_fen": m.expended_fen,
        "recovered_fen": m.recovered_fen,
        "reversed_fen": sum(led.sum(r) for r in M.REVERSED_MEASURE.values()),
        "cash_fen": m.cash_fen, "unspent_fen": m.disbursed_fen - m.expended_fen})
    doc["balances"] += [row for row in ({
        **where, "category": b.category, "budget_fen": b.budget_fen,
        "disbursed_fen": b.net_disbursed_fen, "expended_fen": b.net_expended_fen,
        "reversed_fen": b.disbursed_reversed_fen + b.expended_reversed_fen,
        "remaining_fen": b.remaining_budget_fen} for b in whole) if _has_amounts([row])]
    for category in sorted({b.category for b in whole}):
        rows = [{**where, "category": b.category, "year": b.year, "budget_fen": b.budget_fen,
                 "disbursed_fen": b.disbursed_fen,
                 "disbursed_reversed_fen": b.disbursed_reversed_fen,
                 "expended_fen": b.expended_fen, "expended_reversed_fen": b.expended_reversed_fen,
                 "remaining_fen": b.remaining_budget_fen}
                for b in sorted(s.balances, key=lambda b: b.year or 0)
                if b.year is not None and b.category == category]
        doc["balances_by_year"] += rows if _has_amounts(rows) else []
    doc["compliance"] += _compliance(where, s, m.allocation_fen)
    doc["execution"] += [{
        **where, "year": e.year, "carried_in_fen": e.carry_in_fen,
        "appropriated_fen": e.appropriated_fen, "available_fen": e.available_fen,
        "disbursed_fen": e.disbursed_fen, "recovered_fen": e.recovered_fen,
        "carried_over_fen": e.carry_out_fen, "rate_bp": e.rate_bp, "status_zh": e.status_zh,
        "status_en": e.status_en} for e in s.execution]


def _has_amounts(rows: list[dict[str, Any]]) -> bool:
    """The format leaves out a category's balance rows when they hold no amount at all."""
    return any(v for r in rows for k, v in r.items() if k.endswith("_fen"))


def _compliance(where: dict[str, Any], s: report.CountyStatus,
                allocation_fen: int) -> list[dict[str, Any]]:
    """One row per category with a bound, plan and actual side by side (the format's shape)."""
    if allocation_fen <= 0:
        return []
    plan = {c.category: c for c in s.compliance if c.basis == "plan"}
    rows = []
    for actual in (c for c in s.compliance if c.basis == "actual"):
        p = plan[actual.category]
        if actual.min_share_bp is None and actual.max_share_bp is None:
            continue
        rows.append({**where, "category": actual.category, "min_share_bp": actual.min_share_bp,
                     "max_share_bp": actual.max_share_bp,
                     "exception_limit_fen": actual.exception_limit_fen,
                     "plan_share_bp": p.share_bp, "actual_share_bp": actual.share_bp,
                     "plan_status": p.status, "plan_status_zh": p.status_zh,
                     "actual_status": actual.status, "actual_status_zh": actual.status_zh})
    return rows


# ---- the comparison --------------------------------------------------------------------------

def compare(ledger: dict[str, Any], recomputed: dict[str, Any],
            read: str = "") -> list[Finding]:
    """Every row and field where the ledger's statements differ from the recomputed ones."""
    findings: list[Finding] = []
    for section, key in KEYS.items():
        theirs = {tuple(r[k] for k in key): r for r in ledger.get(section, [])}
        mine = {tuple(r[k] for k in key): r for r in recomputed.get(section, [])}
        for ident in sorted(set(theirs) | set(mine), key=repr):
            place = _place(section, dict(zip(key, ident, strict=True)), read)
            a, b = theirs.get(ident), mine.get(ident)
            if a is None or b is None:
                findings.append(_missing(place, in_ledger=a is not None))
                continue
            for field in sorted((set(a) | set(b)) - set(key)):
                if a.get(field) != b.get(field):
                    findings.append(_differs(f"{place} {field}", a.get(field), b.get(field)))
    return findings


def _place(section: str, ident: dict[str, Any], read: str) -> str:
    where = f"{ident['programme']} county {ident['county_code']}"
    if "category" in ident:
        where += f" category {ident['category']}"
    if "year" in ident:
        where += f" year {ident['year']}"
    return f"{section}{read}: {where}"


def _missing(place: str, in_ledger: bool) -> Finding:
    if in_ledger:
        return Finding(CHECK, place, "账本（读模型）有此行，由事件重算无此行",
                          "the ledger (read models) reports this row; the events give none")
    return Finding(CHECK, place, "由事件重算有此行，账本（读模型）未报告",
                      "recomputed from the events, but the ledger (read models) omits it")


def _differs(place: str, ledger: Any, recomputed: Any) -> Finding:
    if place.endswith("_fen") and isinstance(ledger, int) and isinstance(recomputed, int):
        zh = (f"账本（读模型）为 {ledger} 分（{yuan(ledger)} 元），由事件重算为 {recomputed} 分"
              f"（{yuan(recomputed)} 元），相差 {ledger - recomputed} 分")
        en = (f"the ledger (read models) reports {ledger} fen ({yuan(ledger)} yuan), "
              f"recomputed from the events {recomputed} fen ({yuan(recomputed)} yuan), "
              f"a difference of {ledger - recomputed} fen")
    else:
        zh = f"账本（读模型）为 {ledger!r}，由事件重算为 {recomputed!r}"
        en = f"the ledger (read models) reports {ledger!r}, recomputed from the events " \
             f"{recomputed!r}"
    return Finding(CHECK, place, zh, en)


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators (exact: integers only)."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole:,}.{cents:02d}"


def reconcile(app: EventLog, views: Views) -> list[Finding]:
    """Catch the views up, then hold what they report — the materialised current balances,
    and the per-event facts summed as of the same position — against the statements
    recomputed from the stored events up to that position."""
    views.catch_up()
    current, position = _ledger(views, M.CURRENT)
    as_of = ledger_statements(views, M.AsOf(position=position))
    recomputed = recompute(app, position)
    return compare(current, recomputed) + compare(as_of, recomputed, " (as of the position)")
