"""The command table of docs/commands.md, rendered from the specs: the kinds, who may issue
them, their fields with types, limits and CLI options, and a worked example per kind that runs
in order on a new store. A test holds the committed docs equal to `render()`."""

from __future__ import annotations

import shlex
from typing import Any

from ledger.commands.kinds import COUNTY_COMMANDS
from ledger.commands.spec import AMOUNT, INTEGER, TEXT, TYPE_HELP, CommandSpec, FieldSpec

BEGIN = ("<!-- BEGIN generated from ledger/commands (ledger.commands.docs.render); regenerate: "
         ".venv/bin/python scripts/commands_doc.py -->")
END = "<!-- END generated -->"
EXAMPLE_COUNTY = "441423"
EXAMPLE_ACTORS = {  # role -> (actor id, scope) of the worked example
    "province": ("prov-officer-1", "440000"), "county": ("county-officer-1", EXAMPLE_COUNTY),
    "city": ("city-officer-1", "441400"), "auditor": ("auditor-1", "441400"),
}
_PROVINCE = ["--actor-id", "prov-officer-1", "--role", "province", "--scope", "440000"]
# What the examples need first: the programme opened and the county admitted.
EXAMPLE_SETUP = (
    ["fundledger", "init", "--total", "100,000,000.00", "--date", "2020-03-01", *_PROVINCE],
    ["fundledger", "admit", "--county", EXAMPLE_COUNTY, "--name", "丰顺县", "--allocation",
     "10,000,000.00", "--document-no", "粤商务建字〔2020〕1号", "--date", "2020-03-02",
     *_PROVINCE],
)


def _who(spec: CommandSpec) -> str:
    return "; ".join(", ".join(sorted(p.roles)) + (f" for {p.applies[1]}" if p.applies[1] else "")
                     for p in spec.permissions)


def _field_list(spec: CommandSpec) -> str:
    return ", ".join(f"`{f.name}`" + ("" if f.required else " (optional)") for f in spec.fields)


def _limit(f: FieldSpec) -> str:
    if f.type == TEXT:
        return f"≤ {f.limit} characters"
    if f.type == INTEGER and isinstance(f.limit, tuple):
        return f"{f.limit[0]}..{f.limit[1]}"
    return ""


def kinds_table() -> list[str]:
    rows = ["| kind | 中文 | CLI | who (role) | fields besides the common ones | "
            "entry id when none given | event | handler |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in COUNTY_COMMANDS.values():
        rows.append(f"| `{s.kind}` | {s.name_zh} | `record {s.cli_name}` | {_who(s)} | "
                    f"{_field_list(s)} | {s.key_doc} | `{s.event}` | `{s.method}` |")
    return rows


def fields_table() -> list[str]:
    rows = ["| field | type | limit | CLI option | 说明 / meaning |",
            "| --- | --- | --- | --- | --- |"]
    seen: dict[str, FieldSpec] = {}
    for s in COUNTY_COMMANDS.values():
        for f in s.fields:
            if f.name not in seen:
                seen[f.name] = f
                keys = " / ".join(f"`{k}`" for k in f.keys)
                rows.append(f"| {keys} | {f.type} | {_limit(f)} | `{f.option}` | "
                            f"{f.zh} / {f.en} |")
    return rows


def _value(f: FieldSpec, value: Any) -> list[str]:
    if isinstance(value, list):
        return [arg for item in value for arg in (f.option, str(item))]
    return [f.option, str(value)]


def example_argv(spec: CommandSpec) -> list[str]:
    """The worked example of a kind as a command line (`fundledger record <kind> ...`)."""
    ex = spec.example
    role = sorted(spec.permissions[0].roles)[0]
    actor_id, scope = EXAMPLE_ACTORS[role]
    argv = ["fundledger", "record", spec.cli_name, "--county", EXAMPLE_COUNTY, "--date",
            ex["date"]]
    if "entry_id" in ex:
        argv += ["--entry-id", ex["entry_id"]]
    for f in spec.fields:
        if f.name in ex:
            argv += _value(f, ex[f.name])
    return [*argv, "--actor-id", actor_id, "--role", role, "--scope", scope]


def render() -> str:
    """The generated block of docs/commands.md, markers included."""
    amounts = sorted({f.name for s in COUNTY_COMMANDS.values() for f in s.fields
                      if f.type == AMOUNT})
    lines = [BEGIN, "", *kinds_table(), "",
             "Fields (types: " + ", ".join(f"{t} = {zh} / {en}" for t, (zh, en)
                                           in TYPE_HELP.items()) + "; amounts "
             f"{', '.join(amounts)} are given in yuan on the CLI):", "", *fields_table(), "",
             "A worked example, one command per kind, run in this order on a new store "
             "(`tests/test_command_specs.py` runs it on SQLite and PostgreSQL):", "", "```sh",
             *(shlex.join(argv) for argv in EXAMPLE_SETUP),
             *(shlex.join(example_argv(s)) for s in COUNTY_COMMANDS.values()), "```", "", END]
    return "\n".join(lines) + "\n"


def replace_block(document: str) -> str:
    """`document` with its generated block replaced by `render()`."""
    start, end = document.index(BEGIN), document.index(END) + len(END) + 1
    return document[:start] + render() + document[end:]
