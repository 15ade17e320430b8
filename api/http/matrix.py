"""The role × endpoint matrix, from the domain's permission tables (`ledger.actors`): every
route declares which permission it checks (`x-roles` in its OpenAPI operation), and
`docs/api.md` shows the table this module renders (a test holds the two equal, and calls
every cell)."""

from __future__ import annotations

from typing import Any

from ledger.actors import PERMISSIONS, READ_PERMISSIONS, ROLES
from ledger.commands import COUNTY_COMMANDS

PUBLIC = "public"
COLUMNS = (*ROLES, PUBLIC)


def write_roles(kind: str) -> frozenset[str]:
    """Who may issue a county command of `kind` (a reversal: the roles of either side)."""
    return frozenset().union(*(p.roles for p in COUNTY_COMMANDS[kind].permissions))


def roles_extra(roles: frozenset[str], note: str = "") -> dict[str, Any]:
    """The OpenAPI extension naming who may call an operation."""
    extra: dict[str, Any] = {"x-roles": sorted(roles)}
    if note:
        extra["x-roles-note"] = note
    return extra


def programme_roles(command: str) -> frozenset[str]:
    return PERMISSIONS[command]


def read_roles(read: str) -> frozenset[str]:
    return READ_PERMISSIONS[read]


def rows(openapi: dict[str, Any]) -> list[tuple[str, str, list[str], str]]:
    """(method, path, roles, note) of every operation that declares its roles, in path order."""
    found = []
    for path, ops in sorted(openapi["paths"].items()):
        for method, op in sorted(ops.items()):
            if "x-roles" in op:
                found.append((method.upper(), path, op["x-roles"], op.get("x-roles-note", "")))
    return found


def markdown(openapi: dict[str, Any]) -> str:
    """The matrix as a Markdown table: ✓ allowed (within the token's scope), — refused (403)."""
    head = "| endpoint | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + " --- |" * (len(COLUMNS) + 1)]
    for method, path, roles, note in rows(openapi):
        cells = " | ".join("✓" if c in roles else "—" for c in COLUMNS)
        suffix = f" ({note})" if note else ""
        lines.append(f"| `{method} {path}`{suffix} | {cells} |")
    return "\n".join(lines) + "\n"
