"""Validating a county command given as data (a `record json` file, an import line, an HTTP
body) into its spec, its entry id and its handler's arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger import fields as F
from ledger.commands.kinds import COUNTY_COMMANDS
from ledger.commands.spec import CommandSpec, Parsed
from ledger.errors import InvalidField

COMMON_FIELDS = frozenset({"kind", "programme", "county_code", "entry_id", "business_date"})


def command_spec(kind: Any) -> CommandSpec:
    """The spec of a kind, or INVALID_FIELD naming `kind` and the kinds there are."""
    spec = COUNTY_COMMANDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise InvalidField(f"未知的条目类型 {F.shown(kind)}", f"unknown kind {F.shown(kind)}; "
                           f"expected one of {', '.join(COUNTY_COMMANDS)}", "kind")
    return spec


def parse_county_command(payload: Mapping[str, Any]) -> tuple[CommandSpec, str, Parsed]:
    """Validate a county command payload: (its spec, its entry id, the method's arguments).

    The arguments include `business_date`; `programme` and `county_code` stay in the payload.
    Money commands must carry an `entry_id` (the idempotency key); the others get one derived
    from their natural key (a project's code, a report's month...) when none is given.
    """
    spec = command_spec(payload.get("kind"))
    unknown = set(payload) - COMMON_FIELDS - spec.keys
    if unknown:
        name = F.shown(sorted(unknown)[0])
        raise InvalidField(f"{spec.kind} 没有字段 {name}", f"{spec.kind} has no field {name}",
                           name)
    F.identifier(payload.get("programme"), "programme")
    F.division_code(payload.get("county_code"), "county_code")
    args = spec.parse(payload)
    args["business_date"] = F.date(payload.get("business_date"))
    entry_id = payload.get("entry_id")
    if entry_id is None and not spec.money and spec.natural_key is not None:
        entry_id = spec.natural_key(args)
    if entry_id is None:
        raise InvalidField(f"{spec.kind} 须带条目编号 entry_id（幂等键）",
                           f"{spec.kind} needs an entry_id (the idempotency key)", "entry_id")
    return spec, F.identifier(entry_id, "entry_id"), args
