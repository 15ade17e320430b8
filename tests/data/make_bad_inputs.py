"""Writes `bad_inputs.jsonl`, the corpus of bad inputs that tests/test_bad_inputs.py runs through
the `fundledger` command line: `python tests/data/make_bad_inputs.py`. A test holds the file
equal to what this script writes.

Each line is one case:
  id        a unique name
  args      argv after `--db DB` (strings; {"t": s, "n": k} is s repeated k times; {"b64": ...}
            raw bytes, for arguments that are not UTF-8: run in a subprocess)
  file      optional contents of a file whose path replaces "{file}" in args: a list of parts,
            {"t": text, "n": times} (UTF-8) or {"b64": bytes, "n": times}
  env       optional environment variables ({"b64": ...} values: raw bytes, subprocess)
  db        optional store instead of the test's: "unreachable" (PostgreSQL on port 1),
            "directory" (a directory, not a file), "missing" (no such file)
  fsize     optional RLIMIT_FSIZE in bytes (a subprocess whose writes fail: a full disk)
  exit      the documented exit code (1 refused by a rule, 2 usage or I/O)
  code      optional error code the output must name
  pg        also run on PostgreSQL (a representative subset)

Every case is run against a store holding a programme, county 441423, appropriation A1, project
P1 and disbursement D1; the templates below are accepted as they stand (a test holds that), so
each case is refused for the one thing it changes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("bad_inputs.jsonl")
PROV = ["--actor-id", "p1", "--role", "province", "--scope", "440000"]
CTY = ["--actor-id", "c1", "--role", "county", "--scope", "441423"]

# Command-line templates, each accepted as it stands (with a fresh entry id or code).
TEMPLATES: dict[str, list[Any]] = {
    "disbursement": ["record", "disbursement", "--county", "441423", "--entry-id", "DX",
                     "--project", "P1", "--amount", "10", "--payee", "某公司", "--voucher-no",
                     "V9", "--date", "2020-04-05", *CTY],
    "expenditure": ["record", "expenditure", "--county", "441423", "--entry-id", "EX",
                    "--project", "P1", "--amount", "1", "--purpose", "设备采购", "--invoice-no",
                    "I9", "--date", "2020-04-06", *CTY],
    "project": ["record", "project", "--county", "441423", "--project", "P9", "--name",
                "农产品上行项目", "--category", "rural_products_online", "--budget", "1000",
                "--responsible-person", "张三", "--implementing-unit", "县商务局",
                "--start-date", "2020-04-01", "--end-date", "2021-06-30", "--date",
                "2020-04-02", *CTY],
    "reversal": ["record", "reversal", "--county", "441423", "--entry-id", "RX", "--target",
                 "D1", "--amount", "1", "--reason", "录入错误", "--date", "2020-04-07", *CTY],
    "appropriation": ["record", "appropriation", "--county", "441423", "--entry-id", "AX",
                      "--batch", "1", "--amount", "1", "--document-no", "粤财〔2020〕9号",
                      "--date", "2020-04-08", *PROV],
    "admit": ["admit", "--county", "441424", "--name", "大埔县", "--allocation", "1000",
              "--document-no", "粤商务〔2020〕2号", "--date", "2020-03-03", *PROV],
    "init": ["init", "--programme", "gd-2020-ecrural", "--total", "100000000", "--date",
             "2020-03-01", *PROV],
}
JSON_TEMPLATES: dict[str, dict[str, Any]] = {
    "disbursement": {"kind": "disbursement", "programme": "gd-2020-ecrural",
                     "county_code": "441423", "entry_id": "DJ", "project_code": "P1",
                     "amount": "10", "payee": "某公司", "voucher_no": "V8",
                     "business_date": "2020-04-05"},
    "monthly_report": {"kind": "monthly_report", "programme": "gd-2020-ecrural",
                       "county_code": "441423", "period": "2020-04", "summary": "进展顺利",
                       "business_date": "2020-05-03"},
    "typical_case": {"kind": "typical_case", "programme": "gd-2020-ecrural",
                     "county_code": "441423", "title": "电商助农", "summary": "案例",
                     "business_date": "2020-05-03"},
    "budget_adjustment": {"kind": "budget_adjustment", "programme": "gd-2020-ecrural",
                          "county_code": "441423", "entry_id": "BJ", "project_code": "P1",
                          "new_budget": "2900000", "reason": "调整", "approver": "李四",
                          "business_date": "2020-04-09"},
}
JSON_ACTOR = {"county": {"id": "c1", "role": "county", "scope": "441423"},
              "province": {"id": "p1", "role": "province", "scope": "440000"}}


def with_option(template: str, option: str, value: Any) -> list[Any]:
    args = list(TEMPLATES[template])
    if value is None:  # drop the option and its value
        i = args.index(option)
        del args[i:i + 2]
        return args
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


def text_file(doc: Any) -> list[dict[str, Any]]:
    return [{"t": doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False),
             "n": 1}]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Characters refused in text fields: (name, character, check).
BAD_CHARS = [
    ("nul", "\x00", "control"), ("esc", "\x1b[31m", "control"), ("tab", "a\tb", "control"),
    ("newline", "a\nb", "control"), ("cr", "a\rb", "control"), ("del", "a\x7fb", "control"),
    ("c1_nel", "a\x85b", "control"), ("c1_csi", "a\x9b31m", "control"),
    ("rlo", "abc\u202edef", "bidi"), ("lro", "\u202dabc", "bidi"), ("lre", "\u202aab", "bidi"),
    ("rle", "\u202bab", "bidi"), ("pdf", "ab\u202c", "bidi"), ("lri", "\u2066ab", "bidi"),
    ("rli", "\u2067ab", "bidi"), ("fsi", "\u2068ab", "bidi"), ("pdi", "ab\u2069", "bidi"),
    ("lrm", "a\u200eb", "bidi"), ("rlm", "a\u200fb", "bidi"), ("alm", "a\u061cb", "bidi"),
    ("zwsp", "某\u200b公司", "zero_width"), ("zwnj", "某\u200c公司", "zero_width"),
    ("zwj", "某\u200d公司", "zero_width"), ("word_joiner", "某\u2060公司", "zero_width"),
    ("bom_inside", "某\ufeff公司", "zero_width"), ("line_sep", "某\u2028公司", "line_separator"),
    ("para_sep", "某\u2029公司", "line_separator"), ("soft_hyphen", "某\u00ad公司", "format"),
    ("tag_char", "某\U000e0041公司", "format"), ("nbsp", "某\u00a0公司", "space"),
    ("em_space", "某\u2003公司", "space"), ("noncharacter", "某\ufffe公司", "noncharacter"),
]


def cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(case_id: str, args: list[Any], exit_code: int, code: str | None = None,
            **extra: Any) -> None:
        case = {"id": case_id, "args": args, "exit": exit_code}
        if code:
            case["code"] = code
        case.update(extra)
        out.append(case)

    # 1. Every refused character in the payee (flags), plus a selection in other fields.
    for name, ch, _ in BAD_CHARS:
        add(f"payee_{name}", with_option("disbursement", "--payee", ch), 1, "INVALID_TEXT",
            pg=name in ("esc", "rlo", "zwsp", "line_sep"))
    fields = [("disbursement", "--voucher-no"), ("expenditure", "--purpose"),
              ("expenditure", "--invoice-no"), ("reversal", "--reason"),
              ("project", "--name"), ("project", "--responsible-person"),
              ("project", "--implementing-unit"), ("project", "--category"),
              ("appropriation", "--document-no"), ("admit", "--name"),
              ("admit", "--document-no")]
    for template, option in fields:
        for name, ch, _ in (BAD_CHARS[1], BAD_CHARS[8], BAD_CHARS[20], BAD_CHARS[25]):
            add(f"{template}{option.replace('-', '_')}_{name}",
                with_option(template, option, ch), 1, "INVALID_TEXT",
                pg=template == "admit" and name == "esc")
    # 2. Empty, blank and overlong text.
    for template, option in (("disbursement", "--payee"), ("admit", "--name"),
                             ("admit", "--document-no"), ("reversal", "--reason")):
        add(f"{template}{option.replace('-', '_')}_empty", with_option(template, option, ""),
            1, "INVALID_FIELD")
        add(f"{template}{option.replace('-', '_')}_blank",
            with_option(template, option, " \u3000 "), 1, "INVALID_FIELD")
    add("payee_201_chars", with_option("disbursement", "--payee", {"t": "某", "n": 201}), 1,
        "INVALID_TEXT")
    add("admit_name_51_chars", with_option("admit", "--name", {"t": "县", "n": 51}), 1,
        "INVALID_TEXT")
    add("admit_document_no_120kb", with_option("admit", "--document-no",
                                               {"t": "x", "n": 120_000}), 1, "INVALID_TEXT",
        pg=True)
    add("reason_501_chars", with_option("reversal", "--reason", {"t": "r", "n": 501}), 1,
        "INVALID_TEXT")
    add("voucher_101_chars", with_option("disbursement", "--voucher-no", {"t": "V", "n": 101}),
        1, "INVALID_TEXT")
    # 3. Actors.
    for case_id, option, value, code in (
        ("actor_id_esc", "--actor-id", "c1\x1b[2J", "INVALID_TEXT"),
        ("actor_id_rlo", "--actor-id", "c1\u202e", "INVALID_TEXT"),
        ("actor_id_zwsp", "--actor-id", "c\u200b1", "INVALID_TEXT"),
        ("actor_id_newline", "--actor-id", "c1\nc2", "INVALID_TEXT"),
        ("actor_id_65_chars", "--actor-id", {"t": "c", "n": 65}, "INVALID_TEXT"),
        ("actor_id_padded", "--actor-id", " c1 ", "INVALID_TEXT"),
        ("actor_id_blank", "--actor-id", "   ", "INVALID_FIELD"),
        ("role_unknown", "--role", "king", "INVALID_FIELD"),
        ("role_upper_case", "--role", "COUNTY", "INVALID_FIELD"),
        ("role_esc", "--role", "county\x1b", "INVALID_FIELD"),
        ("scope_5_digits", "--scope", "44142", "INVALID_FIELD"),
        ("scope_newline", "--scope", "441423\n", "INVALID_FIELD"),
        ("scope_fullwidth", "--scope", "４４１４２３", "INVALID_FIELD"),
        ("scope_wrong_level", "--scope", "441400", "INVALID_FIELD"),
    ):
        add(case_id, with_option("disbursement", option, value), 1, code,
            pg=case_id in ("actor_id_rlo", "role_unknown"))
    add("role_unknown_on_init", with_option("init", "--role", "emperor"), 1, "INVALID_FIELD")
    add("role_unknown_in_env", with_option("disbursement", "--role", None), 1,
        "INVALID_FIELD", env={"LEDGER_ROLE": "king"})
    add("actor_missing", TEMPLATES["disbursement"][:-len(CTY)], 2)
    # 4. Dates.
    for case_id, template, option, value in (
        ("init_date_feb_30", "init", "--date", "2020-02-30"),
        ("init_date_month_13", "init", "--date", "2020-13-01"),
        ("init_date_no_padding", "init", "--date", "2020-3-1"),
        ("admit_date_feb_30", "admit", "--date", "2020-02-30"),
        ("admit_date_month_13", "admit", "--date", "2020-13-01"),
        ("admit_date_compact", "admit", "--date", "20200303"),
        ("admit_date_with_time", "admit", "--date", "2020-03-03T00:00:00"),
        ("admit_date_fullwidth", "admit", "--date", "２０２０-03-03"),
        ("record_date_feb_29_2021", "disbursement", "--date", "2021-02-29"),
        ("record_date_empty", "disbursement", "--date", ""),
        ("record_date_week_form", "disbursement", "--date", "2020-W15-1"),
        ("project_start_april_31", "project", "--start-date", "2020-04-31"),
        ("project_end_date_text", "project", "--end-date", "next year"),
    ):
        add(case_id, with_option(template, option, value), 1, "INVALID_FIELD",
            pg=case_id in ("init_date_feb_30", "admit_date_month_13"))
    # 5. Amounts (flags).
    for case_id, template, option, value in (
        ("amount_letters", "disbursement", "--amount", "abc"),
        ("amount_three_decimals", "disbursement", "--amount", "1.234"),
        ("amount_negative", "disbursement", "--amount", "-5"),
        ("amount_zero", "disbursement", "--amount", "0"),
        ("amount_exponent", "disbursement", "--amount", "1e5"),
        ("amount_fullwidth", "disbursement", "--amount", "１００"),
        ("amount_space_grouped", "disbursement", "--amount", "100 000"),
        ("amount_empty", "disbursement", "--amount", ""),
        ("amount_5000_digits", "disbursement", "--amount", {"t": "9", "n": 5000}),
        ("amount_above_max", "disbursement", "--amount", "100000000001"),
        ("amount_nan", "disbursement", "--amount", "NaN"),
        ("amount_bad_grouping", "disbursement", "--amount", "1,2345"),
        ("total_letters", "init", "--total", "many"),
        ("allocation_negative", "admit", "--allocation", "-1"),
        ("budget_float_text", "project", "--budget", "1.5e3"),
    ):
        add(case_id, with_option(template, option, value), 1, "AMOUNT_INVALID",
            pg=case_id == "amount_5000_digits")
    # 6. Command-line usage.
    add("batch_not_integer", with_option("appropriation", "--batch", "one"), 2)
    add("batch_5000_digits", with_option("appropriation", "--batch", {"t": "9", "n": 5000}), 2)
    add("batch_out_of_range", with_option("appropriation", "--batch", "10"), 1,
        "INVALID_FIELD")
    add("missing_option", with_option("disbursement", "--payee", None), 2, pg=True)
    add("unknown_option", [*TEMPLATES["disbursement"], "--colour", "red"], 2)
    add("unknown_command", ["frobnicate"], 2)
    add("unknown_record_kind", ["record", "grant", "--county", "441423"], 2)
    add("extra_argument", [*TEMPLATES["disbursement"], "surplus"], 2)
    add("option_without_value", [*TEMPLATES["disbursement"][:-1]], 2)
    add("entry_id_with_space", with_option("disbursement", "--entry-id", "D 2"), 1,
        "INVALID_FIELD")
    add("entry_id_65_chars", with_option("disbursement", "--entry-id", {"t": "D", "n": 65}), 1,
        "INVALID_FIELD")
    add("entry_id_newline", with_option("disbursement", "--entry-id", "D2\n"), 1,
        "INVALID_FIELD")
    add("attachment_not_sha256", [*TEMPLATES["disbursement"], "--attachment", "abc"], 1,
        "INVALID_FIELD")
    add("county_letters", with_option("disbursement", "--county", "abcdef"), 1,
        "INVALID_FIELD")
    add("county_with_bidi", with_option("disbursement", "--county", "44\u202e1423"), 1,
        "INVALID_FIELD")
    add("admit_county_is_a_city", with_option("admit", "--county", "441400"), 1,
        "INVALID_FIELD")
    add("programme_with_markup", with_option("disbursement", "--programme", "[bold]x"), 1,
        "INVALID_FIELD")
    add("status_as_of_month_13", ["status", "--county", "441423", "--as-of", "2020-13-01"], 2)
    add("status_year_letters", ["status", "--county", "441423", "--year", "twenty"], 2)
    # Integers beyond what the store holds (a 25-digit position was an internal error).
    add("status_position_25_digits",
        ["status", "--county", "441423", "--at-position", "1" * 25], 2)
    add("status_year_20_digits", ["status", "--county", "441423", "--year", "9" * 20], 2)
    add("proof_leaf_23_digits", ["proof", "--leaf", "9" * 23], 2)
    add("checkpoint_size_23_digits", ["checkpoint", "--size", "9" * 23], 2)
    add("receipt_leaf_20_digits", ["receipt", "--leaf", "9" * 20], 2)
    add("export_until_feb_30", ["export", "--out", "{tmp}/bundle", "--until", "2020-02-30"], 2)
    add("history_project_without_county", ["history", "--project", "P1"], 2)
    add("proof_without_leaf_or_from", ["proof"], 2)
    add("proof_leaf_huge", ["proof", "--leaf", {"t": "9", "n": 40}], 2)
    add("verify_since_duplicate_key", ["verify", "--since", "{file}"], 2, "INPUT_MALFORMED",
        file=text_file('{"checkpoint": "a", "checkpoint": "b"}'))
    add("verify_since_utf16", ["verify", "--since", "{file}"], 2, "INPUT_MALFORMED",
        file=[{"b64": b64("fundledger.local/log\n1\n".encode("utf-16")), "n": 1}])
    add("verify_since_missing_file", ["verify", "--since", "{tmp}/none.note"], 2)
    rules = (Path(__file__).parents[2] / "ledger" / "rules" / "gd-2020-ecrural.toml").read_text(
        "utf-8")
    for case_id, old, new in (
        ("init_rules_title_bidi", 'title_zh = "', 'title_zh = "\u202e'),
        ("init_rules_float_share", "share_bp = 5000", "share_bp = 5000.0"),
        ("init_rules_extra_float", "rules_format = 1", "rules_format = 1\nweight = 0.5"),
        ("init_rules_bare_date", 'period_end = "2022-12-31"', "period_end = 2022-12-31"),
        ("init_rules_huge_integer", "rules_format = 1", "rules_format = 1\nn = 9" + "9" * 18),
        ("init_rules_programme_not_slug", 'programme = "gd-2020-ecrural"',
         'programme = "GD 2020"'),
        ("init_rules_not_toml", "rules_format = 1", "rules_format = = 1"),
    ):
        add(case_id, [*TEMPLATES["init"], "--rules", "{file}"], 1, "RULES_INVALID",
            file=text_file(rules.replace(old, new, 1)))
    add("init_programme_path_traversal", with_option("init", "--programme", "../../x"), 1,
        "RULES_INVALID")
    add("init_programme_nul", with_option("init", "--programme", "gd\x00"), 1, "RULES_INVALID")
    add("init_rules_missing_file", [*TEMPLATES["init"], "--rules", "{tmp}/none.toml"], 2)
    add("init_rules_utf16", [*TEMPLATES["init"], "--rules", "{file}"], 2, "INPUT_MALFORMED",
        file=[{"b64": b64("programme = 'x'\n".encode("utf-16")), "n": 1}])
    # 7. Arguments and variables that are not UTF-8 (a subprocess: argv is bytes).
    for case_id, option, raw in (("payee_not_utf8", "--payee", b"\xff\xfe"),
                                 ("county_not_utf8", "--county", b"44\xc3"),
                                 ("reason_overlong_utf8", "--reason", b"\xc0\xaf")):
        template = "reversal" if option == "--reason" else "disbursement"
        add(case_id, with_option(template, option, {"b64": b64(raw)}), 2,
            pg=case_id == "payee_not_utf8")
    add("actor_env_not_utf8", with_option("disbursement", "--actor-id", None), 2,
        env={"LEDGER_ACTOR_ID": {"b64": b64(b"c1\xff")}})
    # 8. Stores that cannot be used.
    add("db_postgres_unreachable", TEMPLATES["disbursement"], 2, "STORE_UNAVAILABLE",
        db="unreachable")
    add("db_is_a_directory", TEMPLATES["disbursement"], 2, "STORE_UNAVAILABLE", db="directory")
    add("db_missing_file", TEMPLATES["disbursement"], 2, db="missing")
    add("db_url_unknown_scheme", TEMPLATES["disbursement"], 2, db="mysql://x/y")
    add("db_url_sqlite_no_path", TEMPLATES["disbursement"], 2, db="sqlite://")
    add("disk_full_on_write", TEMPLATES["disbursement"], 2, "STORE_UNAVAILABLE", fsize=4096)
    _json_cases(add)
    _import_cases(add)
    return out


def _json_cases(add: Any) -> None:
    """`record json FILE`: the file's bytes, its JSON, and the command in it."""
    rec = ["record", "json", "{file}", *CTY]
    good = JSON_TEMPLATES["disbursement"]
    dumps = json.dumps(good, ensure_ascii=False)
    add("json_duplicate_amount", rec, 2, "INPUT_MALFORMED", pg=True,
        file=text_file(dumps[:-1] + ', "amount": "800000"}'))
    add("json_duplicate_kind", rec, 2, "INPUT_MALFORMED",
        file=text_file('{"kind": "expenditure", ' + dumps[1:]))
    add("json_deep_nesting_100k", rec, 2, "INPUT_MALFORMED", pg=True,
        file=[{"t": "[", "n": 100_000}, {"t": "]", "n": 100_000}])
    add("json_deep_objects", rec, 2, "INPUT_MALFORMED",
        file=[{"t": '{"a":', "n": 50_000}, {"t": "1", "n": 1}, {"t": "}", "n": 50_000}])
    add("json_depth_9", rec, 2, "INPUT_MALFORMED",
        file=text_file(dumps[:-1] + ', "attachments": [[[[[[[[["x"]]]]]]]]]}'))
    add("json_utf16le_bom", rec, 2, "INPUT_MALFORMED", pg=True,
        file=[{"b64": b64(dumps.encode("utf-16")), "n": 1}])
    add("json_utf16be_bom", rec, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(b"\xfe\xff" + dumps.encode("utf-16-be")), "n": 1}])
    add("json_utf16le_no_bom", rec, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(dumps.encode("utf-16-le")), "n": 1}])
    add("json_utf32", rec, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(dumps.encode("utf-32")), "n": 1}])
    add("json_utf8_bom", rec, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(b"\xef\xbb\xbf" + dumps.encode()), "n": 1}])
    add("json_latin1_byte", rec, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(dumps.replace("某公司", "Caf\u00e9").encode("latin-1", "replace")),
               "n": 1}])
    add("json_gbk_encoded", rec, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(dumps.encode("gbk")), "n": 1}])
    add("json_truncated_utf8", rec, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(dumps.encode()[:-12] + "司".encode()[:2]), "n": 1}])
    add("json_5000_digit_integer", rec, 2, "INPUT_MALFORMED", pg=True,
        file=[{"t": dumps[:-1] + ', "amount_fen": ', "n": 1}, {"t": "9", "n": 5000},
              {"t": "}", "n": 1}])
    add("json_17_digit_integer", rec, 2, "INPUT_MALFORMED",
        file=text_file(dumps.replace('"amount": "10"', '"amount_fen": 12345678901234567')))
    add("json_5000_digit_float", rec, 2, "INPUT_MALFORMED",
        file=[{"t": dumps[:-1] + ', "amount_fen": 1.', "n": 1}, {"t": "0", "n": 5000},
              {"t": "}", "n": 1}])
    add("json_nan", rec, 2, "INPUT_MALFORMED",
        file=text_file(dumps.replace('"amount": "10"', '"amount_fen": NaN')))
    add("json_infinity", rec, 2, "INPUT_MALFORMED",
        file=text_file(dumps.replace('"amount": "10"', '"amount_fen": -Infinity')))
    add("json_too_large_2mb", rec, 2, "INPUT_MALFORMED",
        file=[{"t": dumps[:-1] + ', "x": "', "n": 1}, {"t": "x", "n": 2_100_000},
              {"t": '"}', "n": 1}])
    for case_id, text in (("json_syntax_error", dumps[:-1]), ("json_empty_file", ""),
                          ("json_trailing_garbage", dumps + " {}"),
                          ("json_single_quotes", dumps.replace('"', "'")),
                          ("json_comment", "// note\n" + dumps)):
        add(case_id, rec, 2, "INPUT_MALFORMED", file=text_file(text))
    for case_id, text in (("json_null", "null"), ("json_array", "[]"), ("json_string", '"x"'),
                          ("json_number", "42")):
        add(case_id, rec, 2, "INPUT_MALFORMED", file=text_file(text))
    # Well-formed JSON, refused commands (exit 1).
    for case_id, change, code in (
        ("json_amount_fen_float", {"amount": None, "amount_fen": 100.5}, "AMOUNT_INVALID"),
        ("json_amount_fen_whole_float", {"amount": None, "amount_fen": 100.0},
         "AMOUNT_INVALID"),
        ("json_amount_fen_exponent", {"amount": None, "amount_fen": 1e3}, "AMOUNT_INVALID"),
        ("json_amount_number", {"amount": 100}, "AMOUNT_INVALID"),
        ("json_amount_fen_string", {"amount": None, "amount_fen": "100"}, "AMOUNT_INVALID"),
        ("json_amount_fen_true", {"amount": None, "amount_fen": True}, "AMOUNT_INVALID"),
        ("json_amount_fen_negative", {"amount": None, "amount_fen": -1}, "AMOUNT_INVALID"),
        ("json_amount_and_amount_fen", {"amount_fen": 1000}, "INVALID_FIELD"),
        ("json_no_amount", {"amount": None}, "INVALID_FIELD"),
        ("json_unknown_kind", {"kind": "grant"}, "INVALID_FIELD"),
        ("json_kind_missing", {"kind": None}, "INVALID_FIELD"),
        ("json_kind_number", {"kind": 7}, "INVALID_FIELD"),
        ("json_unknown_field", {"colour": "red"}, "INVALID_FIELD"),
        ("json_unknown_field_esc", {"x\x1b[2J": 1}, "INVALID_FIELD"),
        ("json_programme_missing", {"programme": None}, "INVALID_FIELD"),
        ("json_county_number", {"county_code": 441423}, "INVALID_FIELD"),
        ("json_entry_id_missing", {"entry_id": None}, "INVALID_FIELD"),
        ("json_entry_id_unicode", {"entry_id": "Ｄ１"}, "INVALID_FIELD"),
        ("json_payee_number", {"payee": 12}, "INVALID_FIELD"),
        ("json_payee_list", {"payee": ["a"]}, "INVALID_FIELD"),
        ("json_payee_null", {"payee": None}, "INVALID_FIELD"),
        ("json_payee_lone_surrogate", {"payee": "\ud800"}, "INVALID_TEXT"),
        ("json_payee_rlo", {"payee": "\u202e某公司"}, "INVALID_TEXT"),
        ("json_payee_line_separator", {"payee": "某\u2028公司"}, "INVALID_TEXT"),
        ("json_payee_zero_width", {"payee": "某公\u200d司"}, "INVALID_TEXT"),
        ("json_voucher_esc", {"voucher_no": "V\x1b]0;owned\x07"}, "INVALID_TEXT"),
        ("json_attachments_string", {"attachments": "abc"}, "INVALID_FIELD"),
        ("json_attachments_33", {"attachments": ["a" * 64] * 33}, "INVALID_FIELD"),
        ("json_attachments_upper_hex", {"attachments": ["A" * 64]}, "INVALID_FIELD"),
        ("json_business_date_feb_30", {"business_date": "2020-02-30"}, "INVALID_FIELD"),
        ("json_business_date_number", {"business_date": 20200405}, "INVALID_FIELD"),
    ):
        doc = {k: v for k, v in {**good, **change}.items() if v is not None}
        # A lone surrogate cannot be written as UTF-8: that document keeps its \u escapes.
        text = json.dumps(doc, ensure_ascii="\ud800" in str(doc.get("payee")))
        add(case_id, rec, 1, code, file=[{"t": text, "n": 1}],
            pg=case_id in ("json_amount_fen_float", "json_payee_rlo"))
    for kind, change, code in (
        ("monthly_report", {"summary": "第一行\n第二行"}, "INVALID_TEXT"),
        ("monthly_report", {"summary": "s" * 2001}, "INVALID_TEXT"),
        ("monthly_report", {"period": "2020-13"}, "INVALID_FIELD"),
        ("typical_case", {"title": "\u2067案例\u2069"}, "INVALID_TEXT"),
        ("typical_case", {"title": ""}, "INVALID_FIELD"),
        ("budget_adjustment", {"approver": "李\u200b四"}, "INVALID_TEXT"),
        ("budget_adjustment", {"reason": "\x00"}, "INVALID_TEXT"),
    ):
        field = next(iter(change))
        doc = {**JSON_TEMPLATES[kind], **change}
        add(f"json_{kind}_{field}_{code.lower()}_{len(str(change[field]))}", rec, 1, code,
            file=[{"t": json.dumps(doc, ensure_ascii=False), "n": 1}])


def _import_cases(add: Any) -> None:
    """`import FILE`: JSON lines, each a command, with or without its own actor."""
    imp = ["import", "{file}", *CTY]
    good = JSON_TEMPLATES["disbursement"]
    line = json.dumps(good, ensure_ascii=False)

    def lines(*docs: Any) -> list[dict[str, Any]]:
        return [{"t": "\n".join(d if isinstance(d, str) else json.dumps(d, ensure_ascii=False)
                                for d in docs) + "\n", "n": 1}]

    second = {**good, "entry_id": "DJ2", "voucher_no": "V7"}
    for case_id, who, code in (
        ("import_actor_without_id", {"role": "county", "scope": "441423"}, "INVALID_FIELD"),
        ("import_actor_not_object", "c1", "INVALID_FIELD"),
        ("import_actor_null_id", {"id": None, "role": "county", "scope": "441423"},
         "INVALID_FIELD"),
        ("import_actor_unknown_role", {"id": "c1", "role": "mayor", "scope": "441423"},
         "INVALID_FIELD"),
        ("import_actor_extra_key", {**JSON_ACTOR["county"], "admin": True}, "INVALID_FIELD"),
        ("import_actor_id_bidi", {**JSON_ACTOR["county"], "id": "c1\u202e"}, "INVALID_TEXT"),
        ("import_actor_id_esc", {**JSON_ACTOR["county"], "id": "\x1b[2Jc1"}, "INVALID_TEXT"),
        ("import_actor_scope_number", {**JSON_ACTOR["county"], "scope": 441423},
         "INVALID_FIELD"),
    ):
        add(case_id, imp, 1, code, file=lines(good, {**second, "actor": who}),
            pg=case_id == "import_actor_without_id")
    add("import_no_actor_anywhere", ["import", "{file}"], 2, file=lines(good))
    add("import_line_duplicate_key", imp, 2, "INPUT_MALFORMED", pg=True,
        file=lines(good, line[:-1] + ', "payee": "另一公司"}'))
    add("import_actor_duplicate_key", imp, 2, "INPUT_MALFORMED",
        file=lines(line[:-1] + ', "actor": {"id": "c1", "id": "p1", "role": "county", '
                               '"scope": "441423"}}'))
    add("import_line_invalid_json", imp, 2, "INPUT_MALFORMED", file=lines(good, "{oops"))
    add("import_line_not_object", imp, 2, "INPUT_MALFORMED", file=lines(good, "[1, 2]"))
    add("import_line_too_long", imp, 2, "INPUT_MALFORMED",
        file=[{"t": line[:-1] + ', "payee": "', "n": 1}, {"t": "x", "n": 70_000},
              {"t": '"}\n', "n": 1}])
    add("import_deep_nesting", imp, 2, "INPUT_MALFORMED",
        file=[{"t": line + "\n", "n": 1}, {"t": "[", "n": 30_000}, {"t": "]", "n": 30_000}])
    add("import_utf16", imp, 2, "INPUT_MALFORMED",
        file=[{"b64": b64((line + "\n").encode("utf-16")), "n": 1}])
    add("import_utf8_bom", imp, 2, "INPUT_MALFORMED",
        file=[{"b64": b64(b"\xef\xbb\xbf" + (line + "\n").encode()), "n": 1}])
    add("import_invalid_utf8_line_2", imp, 2, "INPUT_MALFORMED",
        file=[{"b64": b64((line + "\n").encode() + b'{"kind": "\xff"}\n'), "n": 1}])
    add("import_5000_digit_integer", imp, 2, "INPUT_MALFORMED",
        file=[{"t": line[:-1] + ', "batch": ', "n": 1}, {"t": "7", "n": 5000},
              {"t": "}\n", "n": 1}])
    add("import_payee_line_separator", imp, 1, "IMPORT_REJECTED",
        file=lines(good, {**second, "payee": "某\u2029公司"}))
    add("import_payee_control", imp, 1, "IMPORT_REJECTED",
        file=lines(good, {**second, "payee": "某\x07公司"}))
    add("import_float_amount", imp, 1, "IMPORT_REJECTED",
        file=lines(good, {**{k: v for k, v in second.items() if k != "amount"},
                          "amount_fen": 10.0}))
    add("import_county_bad", imp, 1, "IMPORT_REJECTED",
        file=lines(good, {**second, "county_code": "44142\n"}))


def main() -> None:
    all_cases = cases()
    ids = [c["id"] for c in all_cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    OUT.write_text("".join(json.dumps(c, ensure_ascii=True) + "\n" for c in all_cases), "utf-8")
    print(f"{len(all_cases)} cases written to {OUT}")


if __name__ == "__main__":
    main()
