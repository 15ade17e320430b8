"""Output for people (rich tables, Chinese labels first) and for machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ledger.application import Result
from ledger.money import format_yuan

KIND_ZH = {
    "open_programme": "开设项目", "admit_county": "纳入示范县", "appropriation": "资金下达",
    "batch_decision": "批次决定", "project": "项目登记", "budget_adjustment": "预算调整",
    "disbursement": "拨付", "expenditure": "支出", "reversal": "红字冲销",
    "ratio_exception": "比例例外", "recovery": "收回", "year_close": "年度结账",
    "monthly_report": "月报", "typical_case": "典型案例", "acceptance": "验收结论",
    "acceptance_confirmation": "验收确认",
}


def console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=200)


def emit_json(doc: Any) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*(str(x) for x in row))
    console().print(t)


def yuan(fen: int) -> str:
    return format_yuan(fen)


def result(r: Result, as_json: bool) -> None:
    if as_json:
        emit_json(r.to_dict())
        return
    state = ("重放，未重复记录 / replayed, nothing new recorded" if r.replayed
             else "已记录 / recorded")
    click.echo(f"{KIND_ZH.get(r.kind, r.kind)} ({r.kind}) {state}")
    click.echo(f"  county {r.county_code or '-'}  entry {r.entry_id or '-'}  stream {r.stream_id}"
               f"  version {r.version}")
    click.echo(f"  event hash {r.event_hash}" + (f"  log position {r.position}"
                                                 if r.position else ""))
