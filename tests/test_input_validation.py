"""Input that would enter the signed record is checked first: the text rules of ledger.fields,
the strict JSON reader of ledger.jsonin, the escaping of what the terminal shows, and the CLI's
top level turning any unexpected error into a bilingual message without a traceback."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api import render
from api.cli import cli
from api.cli.kit import store_unavailable
from ledger import fields as F
from ledger.county import Context
from ledger.errors import InputMalformed, InvalidField, InvalidText
from ledger.jsonin import JSON_DEPTH_MAX, parse_command
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, cmd, event_count

WHERE = ("文件", "the file")


@pytest.mark.parametrize(("value", "check"), [
    ("\x00", "control"), ("a\tb", "control"), ("a\nb", "control"), ("\x9b", "control"),
    ("a\u202eb", "bidi"), ("\u2066x", "bidi"), ("a\u200eb", "bidi"), ("a\u061cb", "bidi"),
    ("a\u200bb", "zero_width"), ("a\u2060b", "zero_width"), ("a\ufeffb", "zero_width"),
    ("a\u2028b", "line_separator"), ("a\u2029b", "line_separator"), ("a\u00adb", "format"),
    ("a\U000e0001b", "format"), ("a\u00a0b", "space"), ("a\u2009b", "space"),
    ("a\ud800b", "surrogate"), ("a\ufdd0b", "noncharacter"), ("a\U0010ffffb", "noncharacter"),
])
def test_text_refuses_each_kind_of_character(value: str, check: str) -> None:
    """Each refused character is named by its rule, its code point and its place."""
    with pytest.raises(InvalidText) as info:
        F.text(value, "payee")
    e = info.value
    assert e.code == "INVALID_TEXT" and e.field == "payee" and e.details["check"] == check
    assert e.details["char"] in e.zh and e.details["char"] in e.en and "payee" in e.en


def test_text_accepts_chinese_spaces_and_private_use() -> None:
    """Chinese, ideographic spaces, ordinary punctuation and private-use characters pass."""
    assert F.text("\u3000粤商务建字〔2020〕1号 ", "document_no") == "粤商务建字〔2020〕1号"
    assert F.text("某某（广州）有限公司·分部 [A&B]", "payee") == "某某（广州）有限公司·分部 [A&B]"
    assert F.text("\ue000姓", "name") == "\ue000姓"


def test_text_length_and_required_limits() -> None:
    """Length is counted in characters after trimming; empty and missing are INVALID_FIELD."""
    assert F.text("县" * F.COUNTY_NAME_MAX_CHARS, "county_name",
                  max_chars=F.COUNTY_NAME_MAX_CHARS)
    with pytest.raises(InvalidText) as info:
        F.text("县" * (F.COUNTY_NAME_MAX_CHARS + 1), "county_name",
               max_chars=F.COUNTY_NAME_MAX_CHARS)
    assert info.value.details["check"] == "too_long"
    for value in ("", "  ", "\u3000", None, 5):
        with pytest.raises(InvalidField) as missing:
            F.text(value, "reason")
        assert type(missing.value) is InvalidField
        assert missing.value.details["check"] in ("required", "type")


GOOD_FIELDS = {
    "batch": 1, "amount": "1", "document_no": "d", "project_code": "P1", "name": "n",
    "category": "training", "budget": "1", "responsible_person": "r", "implementing_unit": "u",
    "start_date": "2020-04-01", "end_date": "2021-01-01", "new_budget": "1", "reason": "r",
    "approver": "a", "payee": "p", "voucher_no": "v", "purpose": "p", "invoice_no": "i",
    "target_entry_id": "X0", "limit": "1", "year": 2020, "period": "2020-04", "summary": "s",
    "title": "t", "conclusion": "验收合格", "report_no": "r", "assessor": "a",
}


def test_every_text_field_of_every_command_is_checked(app: Any) -> None:
    """Every text field of every county command refuses a bidi control, a zero-width space
    and an overlong value, naming the field; nothing is recorded."""
    from ledger.commands import COUNTY_COMMANDS, TEXT_FIELDS_MAX_CHARS

    before = event_count(app)
    checked = set()
    for spec in COUNTY_COMMANDS.values():
        good = {k: v for k, v in GOOD_FIELDS.items() if k in spec.keys}
        for name in sorted(spec.keys & set(TEXT_FIELDS_MAX_CHARS)):
            for bad in ("a\u202eb", "a\u200bb", "x" * (TEXT_FIELDS_MAX_CHARS[name] + 1)):
                payload = cmd(spec.kind, entry_id="X1", business_date="2020-05-01",
                              **{**good, name: bad})
                with pytest.raises(InvalidText) as info:
                    app.execute(payload, COUNTY_ACTOR)
                assert info.value.field == name, info.value
            checked.add(name)
    assert checked == set(TEXT_FIELDS_MAX_CHARS)
    assert event_count(app) == before


def test_admit_checks_county_name_and_document_no(app: Any) -> None:
    """admit refuses an empty, control-laden or 120 KB county name or document number."""
    from tests.conftest import PROVINCE

    before = event_count(app)
    for name, doc in (("", "doc"), ("大埔\x1b县", "doc"), ("大埔县", "x" * 120_000),
                      ("大埔县", ""), ("大埔\u2028县", "doc")):
        with pytest.raises(InvalidField):
            app.admit_county(PROGRAMME, "441422", name, 100, doc, PROVINCE, dt.date(2020, 3, 3))
    assert event_count(app) == before


def test_actor_id_is_text_checked() -> None:
    from ledger.actors import Actor

    for bad in ("c1\u202e", "\x1b[2J", "c" * 65, " c1", ""):
        with pytest.raises(InvalidField):
            Actor(bad, "county", COUNTY)
    assert Actor("县财政局-张三", "county", COUNTY).id == "县财政局-张三"


# ---- JSON ------------------------------------------------------------------------------------


def test_duplicate_key_is_refused_not_last_wins() -> None:
    """{"amount":"100","amount":"800000"} is refused: a reader sees 100, json.loads 800000."""
    with pytest.raises(InputMalformed) as info:
        parse_command(b'{"amount": "100", "amount": "800000"}', WHERE)
    assert "amount" in info.value.en and "duplicate" in info.value.en


@pytest.mark.parametrize(("raw", "words"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"a":' * (JSON_DEPTH_MAX + 1) + b"1" + b"}" * (JSON_DEPTH_MAX + 1), "nested"),
    ('{"a": 1}'.encode("utf-16"), "byte-order mark"),
    ('{"a": 1}'.encode("utf-16-le"), "UTF-16"),
    (b"\xef\xbb\xbf{}", "byte-order mark"),
    (b'{"a": "\xff"}', "not valid UTF-8"),
    (b'{"a": ' + b"9" * 5000 + b"}", "integer too large"),
    (b'{"a": 1.' + b"0" * 5000 + b"}", "number too long"),
    (b'{"a": NaN}', "not a JSON number"),
    (b'{"a": 1', "invalid JSON"),
    (b"[]", "expected one JSON object"),
    (b"{}" + b" " * (1 << 20), "too large"),
])
def test_json_reader_refuses(raw: bytes, words: str) -> None:
    """Each malformed input is INPUT_MALFORMED naming the place and the reason, in both
    languages, before or while parsing (never a RecursionError or a ValueError)."""
    with pytest.raises(InputMalformed) as info:
        parse_command(raw, WHERE)
    assert words in info.value.en and info.value.en.startswith("the file")
    assert info.value.zh.startswith("文件")


def test_json_reader_keeps_strings_in_brackets_and_decimals() -> None:
    """Brackets inside strings do not count as nesting; fractions are Decimal, never float."""
    doc = parse_command(('{"payee": "' + "[" * 50 + '", "x": 1.10}').encode(), WHERE)
    assert doc == {"payee": "[" * 50, "x": Decimal("1.10")}
    assert parse_command(b'{"n": 9007199254740991}', WHERE)["n"] == 2**53 - 1


# ---- output ----------------------------------------------------------------------------------


def test_the_aggregates_refuse_bad_text_whoever_calls_them(app: Any) -> None:
    """Past the command parser, straight to the aggregate: every event's strings are still
    checked (ledger.events), and nothing is recorded."""
    fund = app.county(PROGRAMME, COUNTY)
    ctx = Context(COUNTY_ACTOR, app.rules(PROGRAMME), app.today())
    before = event_count(app)
    with pytest.raises(InvalidText) as info:
        fund.register_project(ctx, "project:P7", project_code="P7", name="n\u202e",
                              category="training", budget_fen=100, responsible_person="r",
                              implementing_unit="u", start_date=dt.date(2020, 4, 1),
                              end_date=dt.date(2021, 1, 1), business_date=dt.date(2020, 4, 2))
    assert info.value.field == "name" and not fund.pending_events
    assert event_count(app) == before


def test_history_escapes_what_was_stored(make_app: Any, tmp_path: Path, store_url: str,
                                         monkeypatch: Any) -> None:
    """Text written to the store without the checks (an older version of the ledger, someone
    with write access and the app's code) is shown escaped: no ESC, no bidi control reaches
    the terminal, and `[` is not rich markup. JSON keeps the data, escaped."""
    from ledger.rules import packaged_rules
    from tests.conftest import ALLOCATION_FEN, PROVINCE

    app = make_app()
    app.open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE, dt.date(2020, 3, 1))
    app.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "doc", PROVINCE,
                     dt.date(2020, 3, 2))
    app.execute(cmd("project", project_code="P1", name="n", category="training",
                    budget="1000", responsible_person="r", implementing_unit="u",
                    start_date="2020-04-01", end_date="2021-01-01",
                    business_date="2020-04-02"), COUNTY_ACTOR)
    fund = app.county(PROGRAMME, COUNTY)  # past the checks: straight to the aggregate,
    monkeypatch.setattr(F, "check_event_text", lambda *_: None)  # as an older version wrote
    ctx = Context(COUNTY_ACTOR, app.rules(PROGRAMME), app.today())
    fund.adjust_budget(ctx, "B1", project_code="P1", new_budget_fen=200_000,
                       reason="\x1b[2J\x1b]0;owned\x07[bold red]FAKE[/]\u202eevil",
                       approver="a\u2028b", business_date=dt.date(2020, 4, 3))
    app.save(fund)
    monkeypatch.undo()
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", store_url, "history", "--county", COUNTY],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["--db", store_url, "--json", "history", "--county", COUNTY],
                      catch_exceptions=False)
    assert r.exit_code == 0
    for raw in ("\x1b", "\x07", "\u202e", "\u2028"):
        assert raw not in r.output
    reason = json.loads(r.output)["events"][-1]["data"]["reason"]
    assert reason.startswith("\x1b[2J") and reason.endswith("\u202eevil")  # the data, intact
    assert "\\u202e" in r.output and "\\u001b" in r.output


def test_table_shows_markup_and_controls_literally(capsys: Any) -> None:
    render.table("县 [red]x[/red] \x1b[31m", ["a"], [["[bold]b[/bold]\u202e\x1b"]])
    out = capsys.readouterr().out
    assert "[bold]b[/bold]\\u202e\\x1b" in out and "[red]x[/red]" in out
    assert "\x1b" not in out and "\u202e" not in out


# ---- the top level ---------------------------------------------------------------------------


def test_unexpected_error_is_bilingual_without_traceback(monkeypatch: Any, tmp_path: Path,
                                                         caplog: Any) -> None:
    """Any exception the commands do not map ends at the top level: exit 2, both languages,
    a one-line cause logged, no traceback, nothing raised out of the process's entry."""
    import api.cli.write

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(api.cli.write, "packaged_rules", broken)
    r = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "init", "--total",
                                 "1", "--date", "2020-03-01", "--actor-id", "p1", "--role",
                                 "province", "--scope", "440000"], catch_exceptions=False)
    assert r.exit_code == 2
    assert "内部错误" in r.output and "internal error" in r.output
    assert "Traceback" not in r.output
    assert [rec.getMessage() for rec in caplog.records] == [
        "cause: RuntimeError: boom second line"]


def test_store_errors_are_told_in_both_languages(tmp_path: Path) -> None:
    """SQLite's own "database or disk is full" (made by a page limit) and a read-only store
    become STORE_UNAVAILABLE naming the cause."""
    conn = sqlite3.connect(tmp_path / "full.db")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    e = store_unavailable(full.value)
    assert e.code == "STORE_UNAVAILABLE" and "存储空间已满" in e.zh and "disk is full" in e.en
    conn.close()
    ro = sqlite3.connect(f"file:{tmp_path / 'full.db'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as readonly:
        ro.execute("INSERT INTO t VALUES (1)")
    e = store_unavailable(readonly.value)
    assert "只读" in e.zh and "read-only" in e.en


# ---- rules files -----------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "field"), [
    ('title_zh = "', 'title_zh = "\u202e', "title_zh"),
    ("rules_format = 1", "rules_format = 1\nweight = 0.5", "weight"),
    ("rules_format = 1", "rules_format = 1\nstarts = 2020-01-01", "starts"),
    ("rules_format = 1", "rules_format = 1\nn = 9007199254740992", "n"),
    ('programme = "gd-2020-ecrural"', 'programme = "GD 2020"', "programme"),
])
def test_rules_file_text_and_values_are_checked(old: str, new: str, field: str) -> None:
    """The rules document enters the opening event whole: its text follows the text rules, and
    floats, dates and integers beyond 2**53 are refused naming the field."""
    from ledger.errors import RulesInvalid
    from ledger.rules import packaged_rules_text, parse_rules_toml

    text = packaged_rules_text(PROGRAMME)
    assert old in text
    with pytest.raises(RulesInvalid) as info:
        parse_rules_toml(text.replace(old, new, 1))
    assert info.value.field == field


def test_packaged_rules_name_is_a_slug() -> None:
    """A programme name cannot reach outside the packaged rules (no path, no NUL)."""
    from ledger.errors import RulesInvalid
    from ledger.rules import packaged_rules_text

    for name in ("../../x", "a/b", "gd\x00", "GD-2020", ""):
        with pytest.raises(RulesInvalid):
            packaged_rules_text(name)


def test_help_and_bare_group_are_shown_once() -> None:
    """`--help` exits 0; a group without its subcommand shows its help once (exit 2, click's
    no-args-is-help), not wrapped as a usage error."""
    runner = CliRunner()
    assert runner.invoke(cli, ["--help"], catch_exceptions=False).exit_code == 0
    for args in ([], ["record"]):
        r = runner.invoke(cli, args, catch_exceptions=False)
        assert r.exit_code == 2 and r.output.count("Usage:") == 1
        assert "usage error" not in r.output and "Commands:" in r.output


def test_every_refused_character_is_non_printable() -> None:
    """The fast path of the text checks (`str.isprintable`) is sound: no code point the rules
    refuse is printable, so a printable string needs no closer look."""
    refused_printable = [hex(cp) for cp in range(0x110000)
                         if F.char_check(chr(cp)) is not None and chr(cp).isprintable()]
    assert refused_printable == []
