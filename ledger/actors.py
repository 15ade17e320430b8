"""Who may do what: actors with a role and a scope, and the permission table (rule R8)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger import fields as F
from ledger.commands.kinds import COUNTY_COMMANDS
from ledger.errors import InvalidField, InvalidText, NotPermitted

ROLES = ("province", "city", "county", "auditor", "reviewer")
ROLE_NAMES_ZH = {
    "province": "省商务厅",
    "city": "地市商务局",
    "county": "示范县",
    "auditor": "第三方审计",
    "reviewer": "问责审查",
}
_DIVISION_RE = re.compile(r"[1-9][0-9]{5}")
ACTOR_ID_MAX_CHARS = F.ACTOR_ID_MAX_CHARS
# The fields an imported event carries besides its actor's: who ran the import. Present only
# on events written by an import (older and directly recorded events do not have them).
IMPORT_FIELDS = ("imported_by_id", "imported_by_role", "imported_by_scope")

# Commands outside a county's stream, which no county command spec describes.
PROGRAMME_PERMISSIONS: dict[str, frozenset[str]] = {
    "open_programme": frozenset({"province"}),
    "admit_county": frozenset({"province"}),
    # files that entries name (the HTTP API's attachments): whoever records entries
    "send_attachment": frozenset({"province", "city", "county", "auditor"}),
}


def _permissions() -> dict[str, frozenset[str]]:
    table = dict(PROGRAMME_PERMISSIONS)
    for spec in COUNTY_COMMANDS.values():
        for p in spec.permissions:
            assert p.command not in table, p.command  # one name, one set of roles
            table[p.command] = p.roles
    return table


# command -> roles allowed to issue it, from the command specs (`ledger.commands`). Reviewers
# only read; nothing here names them.
PERMISSIONS: dict[str, frozenset[str]] = _permissions()

def is_division_code(code: str) -> bool:
    """A 6-digit administrative division code (GB/T 2260)."""
    return isinstance(code, str) and bool(_DIVISION_RE.fullmatch(code))


def division_level(code: str) -> str:
    """province (xx0000), city (xxxx00) or county, by the shape of a division code."""
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


# The level of division each role's scope must be; auditors and reviewers may have any.
SCOPE_LEVEL = {"province": "province", "city": "city", "county": "county"}


def city_of(county_code: str) -> str:
    """The city code of a county: its first four digits and `00`."""
    return county_code[:4] + "00"


def covers(scope: str, county_code: str) -> bool:
    """Does a scope (a county, a city or a province code) include this county?"""
    if scope == county_code:
        return True
    if scope.endswith("0000"):
        return county_code[:2] == scope[:2]
    if scope.endswith("00"):
        return county_code[:4] == scope[:4]
    return False


@dataclass(frozen=True)
class Actor:
    """The person or system issuing a command: an id, a role and a scope code."""

    id: str
    role: str
    scope: str

    def __post_init__(self) -> None:
        if F.text(self.id, "actor.id", max_chars=ACTOR_ID_MAX_CHARS) != self.id:
            raise InvalidText("字段 actor.id 首尾不能有空格",
                              "field actor.id must not begin or end with a space", "actor.id",
                              check="padding")
        if self.role not in ROLES:
            raise InvalidField(
                f"未知角色 {F.shown(self.role)}，应为 {'、'.join(ROLES)} 之一",
                f"unknown role {F.shown(self.role)}, expected one of {', '.join(ROLES)}",
                "actor.role",
            )
        if not is_division_code(self.scope):
            raise InvalidField(
                f"操作人范围应为6位行政区划代码（{F.shown(self.scope)}）",
                f"actor scope must be a 6-digit division code (got {F.shown(self.scope)})",
                "actor.scope",
            )
        level = SCOPE_LEVEL.get(self.role)
        if level is not None and division_level(self.scope) != level:
            raise InvalidField(
                f"角色「{ROLE_NAMES_ZH[self.role]}」的范围须为{level}级行政区划代码",
                f"a {self.role} actor's scope must be a {level}-level division code",
                "actor.scope",
            )

    def as_fields(self) -> dict[str, str]:
        return {"actor_id": self.id, "actor_role": self.role, "actor_scope": self.scope}


def authorise_scope(actor: Actor, county_code: str) -> None:
    """Raise NotPermitted unless the actor's scope covers the county."""
    if not covers(actor.scope, county_code):
        raise NotPermitted(
            f"操作人范围 {actor.scope} 不包括县 {county_code}",
            f"actor scope {actor.scope} does not cover county {county_code}",
            "actor.scope",
        )


def authorise(actor: Actor, command: str, county_code: str | None = None) -> None:
    """Raise NotPermitted unless the actor's role allows `command` within its scope."""
    allowed = PERMISSIONS[command]
    if actor.role not in allowed:
        raise NotPermitted(
            f"角色「{ROLE_NAMES_ZH[actor.role]}」无权执行 {command}",
            f"role {actor.role} may not {command} (allowed: {', '.join(sorted(allowed))})",
            "actor.role",
        )
    if county_code is not None:
        authorise_scope(actor, county_code)
    if isinstance(actor, ImportedActor):  # and whoever ran the import may issue it too
        authorise(actor.runner, command, county_code)


@dataclass(frozen=True)
class ImportedActor(Actor):
    """The actor a line of an import file names, with the actor who ran the import.

    Its events record both: the named actor as `actor_*`, the runner as `imported_by_*`.
    """

    runner: Actor

    def as_fields(self) -> dict[str, str]:
        runner = self.runner
        return {**super().as_fields(), "imported_by_id": runner.id,
                "imported_by_role": runner.role, "imported_by_scope": runner.scope}


def delegate(runner: Actor, named: Actor | None) -> ImportedActor:
    """The actor of one import line run by `runner` (the runner itself when the line names
    nobody). A line may name another actor only of the runner's role, within its scope."""
    named = named or runner
    if named != runner and (named.role != runner.role or not covers(runner.scope, named.scope)):
        raise NotPermitted(
            f"导入人 {runner.id}（{ROLE_NAMES_ZH[runner.role]} {runner.scope}）不能代 "
            f"{named.id}（{ROLE_NAMES_ZH[named.role]} {named.scope}）记账：行内指明的操作人须与"
            "导入人同一角色、且在其范围内",
            f"the import's runner {runner.id} ({runner.role} {runner.scope}) may not record "
            f"entries in the name of {named.id} ({named.role} {named.scope}): a line may name "
            "only an actor of the runner's role within the runner's scope", "actor",
            runner=runner.id, named=named.id,
        )
    return ImportedActor(named.id, named.role, named.scope, runner)


# read -> roles allowed; the actor's scope then decides which counties (a province, auditor or
# reviewer token's scope is the province: every county of it). The public column needs none.
READ_PERMISSIONS: dict[str, frozenset[str]] = {
    "county_status": frozenset(ROLES),
    "programme_summary": frozenset({"province", "city", "auditor", "reviewer"}),
    "history": frozenset(ROLES),
    "audit_log": frozenset(ROLES),
}


def authorise_read(actor: Actor, read: str, county_code: str | None = None) -> None:
    """Raise NotPermitted unless the actor's role may `read`, of this county if one is named."""
    if actor.role not in READ_PERMISSIONS[read]:
        raise NotPermitted(
            f"角色「{ROLE_NAMES_ZH[actor.role]}」无权查看 {read}",
            f"role {actor.role} may not read {read}", "actor.role")
    if county_code is not None:
        authorise_scope(actor, county_code)
