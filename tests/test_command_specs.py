"""Commands defined once: the permission table, the JSON parser, the CLI `record` subcommands
and the table of docs/commands.md all come from the specs in `ledger.commands`, and agree with
the `CountyFund` handlers and events they name. The worked example of docs/commands.md runs,
one event per command, on SQLite and PostgreSQL."""

from __future__ import annotations

import inspect
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from api.cli import cli
from api.cli.write import record
from ledger.actors import PERMISSIONS, PROGRAMME_PERMISSIONS
from ledger.application import FundLedger
from ledger.commands import COUNTY_COMMANDS, parse_county_command
from ledger.commands.docs import BEGIN, END, EXAMPLE_COUNTY, render
from ledger.commands.spec import AMOUNT, INTEGER
from ledger.county import CountyFund
from ledger.stores import store_env
from tests.conftest import PROGRAMME, event_count

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "commands.md"


def _doc_commands() -> list[list[str]]:
    """The worked example as written in docs/commands.md: its `fundledger ...` lines."""
    text = DOC.read_text("utf-8")
    block = text[text.index(BEGIN):text.index(END)]
    code = block[block.index("```sh") + 5:block.rindex("```")]
    return [shlex.split(line) for line in code.splitlines() if line.startswith("fundledger ")]


def test_docs_command_table_is_what_the_specs_generate() -> None:
    """docs/commands.md holds exactly the block `ledger.commands.docs.render()` makes."""
    text = DOC.read_text("utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END) + 1
    assert text[start:end] == render(), (
        "docs/commands.md differs from the command specs: run "
        "`.venv/bin/python scripts/commands_doc.py` and commit the result")


def test_every_spec_names_its_handler_and_event() -> None:
    """Each kind's event is a `CountyFund` event class, and its handler a `CountyFund` method
    taking exactly the arguments the parser makes (plus ctx, entry_id, business_date)."""
    for spec in COUNTY_COMMANDS.values():
        owner, name = spec.event.split(".")
        assert owner == "CountyFund" and isinstance(getattr(CountyFund, name), type), spec.kind
        params = list(inspect.signature(getattr(CountyFund, spec.method)).parameters)
        expected = {f.arg for f in spec.fields} | {"business_date"}
        assert params[:3] == ["self", "ctx", "entry_id"], spec.kind
        assert set(params[3:]) == expected, spec.kind


def test_permission_table_is_derived_from_the_specs() -> None:
    """`PERMISSIONS` holds every spec's permissions (the reversal's two), and nothing else
    but the programme's own commands."""
    derived = {p.command: p.roles for s in COUNTY_COMMANDS.values() for p in s.permissions}
    assert {**PROGRAMME_PERMISSIONS, **derived} == PERMISSIONS
    assert PERMISSIONS["reverse_county_entry"] == {"county"}
    assert PERMISSIONS["reverse_province_entry"] == {"province"}
    assert all("reviewer" not in roles for roles in PERMISSIONS.values())


def test_every_kind_has_a_record_subcommand_with_its_fields() -> None:
    """`fundledger record <kind-with-hyphens>` exists for every kind, with one option per
    field (required as the field is; integers typed), besides the common ones."""
    assert set(record.commands) == {s.cli_name for s in COUNTY_COMMANDS.values()} | {"json"}
    for spec in COUNTY_COMMANDS.values():
        options = {p.name: p for p in record.commands[spec.cli_name].params
                   if isinstance(p, click.Option)}
        assert {"county_code", "business_date", "entry_id", "programme", "actor_id", "role",
                "scope"} <= set(options)
        for f in spec.fields:
            option = options[f.name]
            assert f.option in option.opts and option.required == f.required, (spec.kind, f)
            assert (option.type == click.INT) == (f.type == INTEGER), (spec.kind, f)


def test_the_docs_have_one_example_per_kind() -> None:
    """The worked example in the docs opens a store, then records each kind once."""
    argvs = _doc_commands()
    assert [a[1] for a in argvs[:2]] == ["init", "admit"]
    assert [a[2] for a in argvs[2:]] == [s.cli_name for s in COUNTY_COMMANDS.values()]


def _cli(url: str, argv: list[str]) -> Any:
    assert argv[0] == "fundledger"
    return CliRunner().invoke(cli, ["--db", url, "--json", *argv[1:]], catch_exceptions=False)


def test_the_worked_example_runs_and_records_one_event_per_command(store_url: str) -> None:
    """Every command of the docs' example, run as written, exits 0 and records exactly one
    event, of the kind's event class (SQLite and PostgreSQL)."""
    argvs = _doc_commands()
    for argv in argvs[:2]:
        r = _cli(store_url, argv)
        assert r.exit_code == 0, r.output
    app = FundLedger(store_env(store_url))
    try:
        for argv, spec in zip(argvs[2:], COUNTY_COMMANDS.values(), strict=True):
            before = event_count(app)
            r = _cli(store_url, argv)
            assert r.exit_code == 0 and '"replayed": false' in r.output, (argv, r.output)
            assert event_count(app) == before + 1, spec.kind
            fund = app.county(PROGRAMME, EXAMPLE_COUNTY)
            last = app.event_at(fund.id, fund.version)
            assert type(last).__qualname__ == spec.event, spec.kind
    finally:
        app.close()


def _broken(spec: Any, how: str) -> list[str]:
    """The kind's docs example with one value broken: a malformed date, or a malformed value
    of its first amount or integer field."""
    argv = next(a for a in _doc_commands() if a[1:3] == ["record", spec.cli_name])
    if how == "date":
        argv[argv.index("--date") + 1] = "2020-02-30"
    else:
        f = next(f for f in spec.fields if f.type in (AMOUNT, INTEGER))
        argv[argv.index(f.option) + 1] = "1.234" if f.type == AMOUNT else "two"
    return argv


@pytest.mark.parametrize("kind", list(COUNTY_COMMANDS))
def test_malformed_values_on_every_record_subcommand(store_url: str, kind: str) -> None:
    """A malformed date exits 1 (INVALID_FIELD), a malformed amount 1 (AMOUNT_INVALID), a
    non-integer integer option 2 (usage), a missing required option 2: each in Chinese and
    English, no traceback, nothing recorded."""
    spec = COUNTY_COMMANDS[kind]
    for argv in _doc_commands()[:2]:
        assert _cli(store_url, argv).exit_code == 0
    app = FundLedger(store_env(store_url))
    try:
        before = event_count(app)
        cases = [(_broken(spec, "date"), 1, "INVALID_FIELD", "business_date")]
        if any(f.type in (AMOUNT, INTEGER) for f in spec.fields):
            numeric = next(f for f in spec.fields if f.type in (AMOUNT, INTEGER))
            cases.append((_broken(spec, "value"), 1, "AMOUNT_INVALID", numeric.name)
                         if numeric.type == AMOUNT else
                         (_broken(spec, "value"), 2, "Invalid value", numeric.option))
        required = _broken(spec, "date")
        i = required.index("--county")
        cases.append((required[:i] + required[i + 2:], 2, "Missing option", "--county"))
        for argv, code, said, field in cases:
            r = CliRunner().invoke(cli, ["--db", store_url, *argv[1:]])
            assert r.exit_code == code and said in r.output, (argv, r.output)
            assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
            assert "Traceback" not in r.output and field in r.output, r.output
            if code == 1:  # the ledger's refusal, in both languages
                assert re.search(r"[\u4e00-\u9fff]", r.output) and " / " in r.output, r.output
        assert event_count(app) == before
    finally:
        app.close()


def test_json_parser_accepts_what_the_cli_sends() -> None:
    """The payload a subcommand builds from its example parses to the handler's arguments:
    amounts in fen, integers as integers, attachments as a list."""
    spec = COUNTY_COMMANDS["disbursement"]
    ex = spec.example
    payload = {"kind": spec.kind, "programme": PROGRAMME, "county_code": EXAMPLE_COUNTY,
               "business_date": ex["date"], "entry_id": ex["entry_id"],
               **{f.name: ex[f.name] for f in spec.fields}}
    parsed_spec, entry_id, args = parse_county_command(payload)
    assert (parsed_spec, entry_id) == (spec, "D-1")
    assert args["amount_fen"] == 100_000_000 and args["attachments"] == ex["attachments"]


# Files another branch owns while this rule lands; each still holds one literal limit, to be
# replaced by a named one (ledger.fields.DIVISION_CODE_CHARS) and then removed from here.
_LITERAL_LIMIT_PENDING: dict[str, int] = {}


def test_text_limits_are_named_not_literal() -> None:
    """No `max_chars=<number>` in ledger/ or api/: every limit is a named constant."""
    found: dict[str, int] = {}
    for path in sorted([*ROOT.glob("ledger/**/*.py"), *ROOT.glob("api/**/*.py")]):
        hits = len(re.findall(r"max_chars\s*=\s*\d", path.read_text("utf-8")))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == _LITERAL_LIMIT_PENDING
