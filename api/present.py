"""Presentation for people, shared by every edge: yuan with thousands separators, percentages
from basis points, the Chinese names of command kinds, and the one mark of a provisional figure.

Only what people read passes through here: JSON keeps exact strings without separators and fen
integers (`with_yuan` adds the plain `*_yuan` string next to each `*_fen`). Escaping what is
printed stays in `api.render`.
"""

from __future__ import annotations

from typing import Any

from ledger.commands import COUNTY_COMMANDS
from ledger.money import format_yuan

# Chinese names of what a command recorded: the programme's own two, then every county kind's
# from its specification (ledger.commands).
KIND_ZH = {"open_programme": "开设项目", "admit_county": "纳入示范县",
           **{kind: spec.name_zh for kind, spec in COUNTY_COMMANDS.items()}}
# A year's execution figures are provisional (暂定) until its 31 December is judged or the
# year is closed; every table marks them with this, the same words everywhere.
PROVISIONAL_ZH = "（暂定）"
NONE_SHOWN = "—"


def yuan(amount_fen: int) -> str:
    """Fen as yuan for people: "10,000,000.00" (input stays exact: see ledger.money)."""
    return format_yuan(amount_fen, grouped=True)


def pct(bp: int | None) -> str:
    """Basis points as a percentage with two decimals, without floats."""
    if bp is None:
        return NONE_SHOWN
    sign = "-" if bp < 0 else ""
    return f"{sign}{abs(bp) // 100}.{abs(bp) % 100:02d}%"


def kind_zh(kind: str) -> str:
    """A command kind's Chinese name (the kind itself when it has none)."""
    return KIND_ZH.get(kind, kind)


def provisional(text: str, final: bool) -> str:
    """`text`, marked when the figure it shows is not final yet."""
    return text if final else text + PROVISIONAL_ZH


def compliance_zh(issues: list[str], names: dict[str, str] | None = None) -> str:
    """达标, or 未达标 with the categories out of bounds (by their Chinese names when known)."""
    if not issues:
        return "达标"
    return "未达标: " + "、".join((names or {}).get(c, c) for c in issues)


def with_yuan(doc: Any) -> Any:
    """JSON output: every `*_fen` amount also as a `*_yuan` string (exact, no separators)."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            out[k] = with_yuan(v)
            if k.endswith("_fen") and isinstance(v, int):
                out[k[:-4] + "_yuan"] = format_yuan(v)
        return out
    if isinstance(doc, list):
        return [with_yuan(x) for x in doc]
    return doc
