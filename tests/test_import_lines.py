"""Reading an import's lines (`ledger.commands.lines`, shared by every edge): each line's
command and the actor it names, refusals naming the line and the field in both languages,
and on the CLI exit 1 or 2 as docs/commands.md says, with no traceback and nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from ledger.actors import Actor
from ledger.commands.lines import parse_import
from ledger.errors import InputMalformed, InvalidField, InvalidText
from ledger.jsonin import JSON_LINE_BYTES_MAX
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME

REPORT = {"kind": "monthly_report", "programme": PROGRAMME, "county_code": COUNTY,
          "business_date": "2020-05-03", "period": "2020-04"}
CTY = ["--actor-id", COUNTY_ACTOR.id, "--role", "county", "--scope", COUNTY]


def _line(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


def test_lines_give_commands_actors_and_line_numbers() -> None:
    """Blank lines are skipped but counted; a line's "actor" becomes an Actor and leaves the
    command; a line naming nobody is the runner's (None)."""
    who = {"id": "c2", "role": "county", "scope": COUNTY}
    items, numbers = parse_import([_line(REPORT), b"\n", b"  \r\n", _line({**REPORT,
                                                                             "actor": who})])
    assert numbers == [1, 4]
    assert items == [(REPORT, None), (REPORT, Actor("c2", "county", COUNTY))]


@pytest.mark.parametrize(("who", "field"), [
    ({"role": "county", "scope": COUNTY}, "actor.id"),
    ({"id": "c2", "scope": COUNTY}, "actor.role"),
    ({"id": "c2", "role": "county"}, "actor.scope"),
    ({"id": "c2", "role": "county", "scope": COUNTY, "x": 1}, "actor"),
    ("c2", "actor"),
    ({"id": None, "role": "county", "scope": COUNTY}, "actor.id"),
    ({"id": "c\u202e2", "role": "county", "scope": COUNTY}, "actor.id"),
])
def test_a_bad_line_actor_names_the_line_and_field(who: Any, field: str) -> None:
    """An actor without an id (or role, or scope), with another key, or not an object: an
    INVALID_FIELD naming the line and the field, in Chinese and English."""
    with pytest.raises(InvalidField) as info:
        parse_import([_line(REPORT), b"\n", _line({**REPORT, "actor": who})])
    e = info.value
    assert (e.field, e.details["line"]) == (field, 3)
    assert e.zh.startswith("第 3 行") and e.en.startswith("line 3")
    assert isinstance(e, InvalidText) == ("\u202e" in json.dumps(who, ensure_ascii=False))


def test_a_line_too_long_or_not_json_is_malformed_naming_it() -> None:
    """A line over the limit (as a reader cuts it) or not a JSON object: INPUT_MALFORMED."""
    with pytest.raises(InputMalformed) as info:
        parse_import([_line(REPORT), b"x" * (JSON_LINE_BYTES_MAX + 1)])
    assert "line 2" in info.value.en and "第 2 行" in info.value.zh
    with pytest.raises(InputMalformed) as info:
        parse_import([b"[1]\n"])
    assert "line 1" in info.value.en
    head = b'{"kind": "monthly_report", "pad": "'
    full = head + b"x" * (JSON_LINE_BYTES_MAX - len(head) - 2) + b'"}'
    assert len(full) == JSON_LINE_BYTES_MAX  # at the limit: read
    assert parse_import([full + b"\n"])[1] == [1]


def _count(db: str) -> int:
    r = CliRunner().invoke(cli, ["--db", db, "--json", "history", "--county", COUNTY])
    return len(json.loads(r.output)["events"])


@pytest.fixture
def county_store(app: Any, store_url: str) -> str:
    """A store with the programme opened and the county admitted (SQLite and PostgreSQL)."""
    app.close()
    return store_url


@pytest.mark.parametrize(("line", "code", "said"), [
    ({**REPORT, "actor": {"role": "county", "scope": COUNTY}}, 1, "actor.id"),
    ({**REPORT, "actor": {"id": "", "role": "county", "scope": COUNTY}}, 1, "actor.id"),
    ("not json", 2, "INPUT_MALFORMED"),
])
def test_cli_import_refuses_a_bad_line_without_traceback(county_store: str, tmp_path: Path,
                                                        line: Any, code: int,
                                                        said: str) -> None:
    """`fundledger import` with a line whose actor has no id (or is not JSON at all): exit 1
    (2 for unreadable input) as docs/commands.md says, naming line 2 and the field in both
    languages, no traceback, nothing recorded."""
    path = tmp_path / "in.jsonl"
    raw = line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
    path.write_text(json.dumps(REPORT) + "\n" + raw + "\n", "utf-8")
    before = _count(county_store)
    for as_json in ([], ["--json"]):
        r = CliRunner().invoke(cli, ["--db", county_store, *as_json, "import", str(path), *CTY])
        assert r.exit_code == code, r.output
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
        assert said in r.output and "Traceback" not in r.output
        assert "line 2" in r.output and "第 2 行" in r.output
    assert _count(county_store) == before
