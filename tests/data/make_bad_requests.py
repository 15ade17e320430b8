"""Writes `bad_requests.jsonl`, the corpus of bad HTTP requests that tests/http/test_bad_requests.py
sends to the API on SQLite and PostgreSQL: `python tests/data/make_bad_requests.py`. A test holds
the file equal to what this script writes.

Each line is one case:
  name      a unique name
  method    GET or POST (or another method, for 405)
  path      the path with its query string, as sent
  headers   the request's headers, as sent (Content-Type and Idempotency-Key included)
  body      null (none); a string (sent as UTF-8); or a list of parts, each a string, {"b64":
            raw bytes} (for bytes that are not UTF-8) or {"t": text, "n": times} (UTF-8)
  who       whose token is sent: a role of tests/http/conftest.py TOKENS, or "none" (no
            Authorization header), "expired", "revoked", "malformed"
  status    the expected 4xx status
  code      the expected problem `code`

Every case is sent to a store holding GD-2020, county 441423 (10 million yuan), appropriation
A1, project P1, disbursement D1 (written by the county token with Idempotency-Key `used-key`)
and the year 2020 closed. The templates below are accepted as they stand (a test holds that),
so each case is refused for the one thing it changes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("bad_requests.jsonl")
PROGRAMME, COUNTY, OTHER = "gd-2020-ecrural", "441423", "441424"
BASE = f"/v1/programmes/{PROGRAMME}/counties/{COUNTY}"
BODY_BYTES_MAX = 64 << 10  # api.http.body.REQUEST_BODY_BYTES_MAX
USED_KEY = "used-key"  # the key the base state's disbursement D1 was written with
JSON = "application/json"

# path under BASE (or absolute) -> (who may send it, an accepted body)
TEMPLATES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "disbursement": ("county", "/disbursements", {
        "entry_id": "DX", "project_code": "P1", "amount": "10.00", "payee": "某公司",
        "voucher_no": "V9", "business_date": "2021-02-01"}),
    "expenditure": ("county", "/expenditures", {
        "entry_id": "EX", "project_code": "P1", "amount": "1", "purpose": "设备采购",
        "invoice_no": "I9", "business_date": "2021-02-02"}),
    "project": ("county", "/projects", {
        "project_code": "P9", "name": "农产品上行项目", "category": "rural_products_online",
        "budget": "1000", "responsible_person": "张三", "implementing_unit": "县商务局",
        "start_date": "2021-02-01", "end_date": "2021-12-31", "business_date": "2021-02-03"}),
    "reversal": ("county", "/reversals", {
        "entry_id": "RX", "target_entry_id": "D1", "amount": "1", "reason": "录入错误",
        "business_date": "2021-02-04"}),
    "recovery": ("province", "/recoveries", {
        "entry_id": "CX", "amount": "1", "reason": "结余收回", "document_no": "粤财〔2021〕9号",
        "business_date": "2021-02-05"}),
    "admit": ("province", f"/v1/programmes/{PROGRAMME}/counties", {
        "county_code": OTHER, "name": "大埔县", "allocation": "1000",
        "document_no": "粤商务〔2021〕2号", "business_date": "2021-02-06"}),
    "report": ("county", "/reports/2021-01", {"summary": "本月拨付 10 元",
                                              "business_date": "2021-02-07"}),
}

_cases: list[dict[str, Any]] = []


def _url(path: str) -> str:
    return path if path.startswith("/v1/") else BASE + path


def case(name: str, method: str, path: str, status: int, code: str, *, who: str = "county",
         body: Any = None, headers: dict[str, str] | None = None) -> None:
    """One case; a POST gets JSON and a fresh key unless `headers` says otherwise."""
    sent: dict[str, str] = {}
    if method == "POST":  # a key of its own: the case's place in the corpus
        sent = {"Content-Type": JSON, "Idempotency-Key": f"bad-{len(_cases) + 1}"}
    for k, v in (headers or {}).items():
        if v is None:
            sent.pop(k, None)
        else:
            sent[k] = v
    _cases.append({"name": name, "method": method, "path": _url(path), "headers": sent,
                   "body": body, "who": who, "status": status, "code": code})


def text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False)


def post(name: str, template: str, changes: dict[str, Any], status: int, code: str,
         drop: tuple[str, ...] = (), who: str | None = None, **kw: Any) -> None:
    """The template with `changes` (and without `drop`), as its sender unless `who`."""
    sender, path, doc = TEMPLATES[template]
    body = {k: v for k, v in {**doc, **changes}.items() if k not in drop}
    case(name, "POST", path, status, code, who=who or sender, body=text(body), **kw)


def raw(name: str, template: str, body_text: str, status: int, code: str) -> None:
    """The template's path with a body written by hand (numbers JSON cannot hold, dupes)."""
    sender, path, _ = TEMPLATES[template]
    case(name, "POST", path, status, code, who=sender, body=body_text)


def amounts() -> None:
    for name, amount in [("negative", "-1"), ("zero", "0"), ("zero_decimals", "0.00"),
                         ("three_decimals", "1.001"), ("exponent", "1e3"), ("nan", "NaN"),
                         ("infinity", "Infinity"), ("huge", "9" * 20), ("comma", "1,000"),
                         ("spaces", " 10 "), ("empty", ""), ("fullwidth", "１０"),
                         ("plus", "+10"), ("hex", "0x10"), ("newline", "10\n"),
                         ("decimal_point_only", "10."), ("leading_point", ".5")]:
        post(f"amount_{name}", "disbursement", {"amount": amount}, 422, "AMOUNT_INVALID")
    for name, fen in [("float", "1.5"), ("float_whole", "100.0"), ("exponent", "1e3"),
                      ("negative", "-100"), ("zero", "0"), ("huge", "9007199254740991"),
                      ("string", '"100"'), ("bool", "true")]:
        raw(f"amount_fen_{name}", "disbursement", text(
            {**TEMPLATES["disbursement"][2], "amount": None}).replace(
            '"amount": null', f'"amount_fen": {fen}'), 422, "AMOUNT_INVALID")
    raw("amount_fen_null", "disbursement", text(TEMPLATES["disbursement"][2]).replace(
        '"amount": "10.00"', '"amount_fen": null'), 422, "INVALID_FIELD")
    raw("amount_json_number", "disbursement",
        text(TEMPLATES["disbursement"][2]).replace('"10.00"', "10.5"), 422, "AMOUNT_INVALID")
    raw("amount_bare_nan", "disbursement",
        text(TEMPLATES["disbursement"][2]).replace('"10.00"', "NaN"), 400, "INPUT_MALFORMED")
    raw("amount_bare_infinity", "disbursement",
        text(TEMPLATES["disbursement"][2]).replace('"10.00"', "-Infinity"), 400,
        "INPUT_MALFORMED")
    raw("amount_fen_too_many_digits", "disbursement",
        text(TEMPLATES["disbursement"][2]).replace('"amount": "10.00"',
                                                   '"amount_fen": ' + "9" * 30), 400,
        "INPUT_MALFORMED")
    post("amount_and_amount_fen", "disbursement", {"amount_fen": 1000}, 422, "INVALID_FIELD")
    post("amount_missing", "disbursement", {}, 422, "INVALID_FIELD", drop=("amount",))
    raw("payee_lone_surrogate", "disbursement",
        text(TEMPLATES["disbursement"][2]).replace('"某公司"', '"\\ud800"'), 422,
        "INVALID_TEXT")
    post("amount_yuan_grouped", "disbursement", {"amount_yuan": "1,000.00"}, 422,
         "AMOUNT_INVALID", drop=("amount",))
    post("budget_three_decimals", "project", {"budget": "1000.001"}, 422, "AMOUNT_INVALID")
    post("allocation_negative", "admit", {"allocation": "-1000"}, 422, "AMOUNT_INVALID")


def bodies() -> None:
    raw("duplicate_key", "disbursement",
        text(TEMPLATES["disbursement"][2])[:-1] + ', "amount": "20.00"}', 400, "INPUT_MALFORMED")
    raw("duplicate_key_nested_case", "disbursement",
        text(TEMPLATES["disbursement"][2])[:-1] + ', "payee": "某公司"}', 400, "INPUT_MALFORMED")
    for name, body in [("truncated", "{"), ("empty", ""), ("null", "null"), ("array", "[]"),
                       ("string", '"x"'), ("trailing_comma", '{"amount": "1",}'),
                       ("trailing_garbage", "{} x"), ("single_quotes", "{'amount': '1'}"),
                       ("comment", '{/* c */}'), ("deep", "[" * 20 + "]" * 20)]:
        case(f"malformed_{name}", "POST", "/disbursements", 400, "INPUT_MALFORMED", body=body)
    for name, data in [("invalid_utf8", b'{"payee": "\xc3\x28"}'), ("latin1", b'{"payee": "\xe9"}'),
                       ("utf16_bom", "\ufeff{}".encode("utf-16")),
                       ("utf8_bom", b"\xef\xbb\xbf{}"), ("overlong", b'{"payee": "\xc0\xaf"}')]:
        case(f"body_{name}", "POST", "/disbursements", 400, "INPUT_MALFORMED",
             body=[{"b64": base64.b64encode(data).decode()}])
    over = BODY_BYTES_MAX + 1 - len('{"payee": ""}')
    case("body_over_64kib", "POST", "/disbursements", 413, "BODY_TOO_LARGE",
         body=['{"payee": "', {"t": "x", "n": over}, '"}'])
    case("body_far_over_64kib", "POST", "/disbursements", 413, "BODY_TOO_LARGE",
         body=[{"t": " ", "n": 4 * BODY_BYTES_MAX}])
    for name, media in [("text_plain", "text/plain"),
                        ("form", "application/x-www-form-urlencoded"),
                        ("multipart", "multipart/form-data; boundary=x"),
                        ("xml", "application/xml"), ("json_suffix", "application/problem+json")]:
        post(f"content_type_{name}", "disbursement", {}, 415, "UNSUPPORTED_MEDIA_TYPE",
             headers={"Content-Type": media})
    post("content_type_missing", "disbursement", {}, 415, "UNSUPPORTED_MEDIA_TYPE",
         headers={"Content-Type": None})


def keys_and_fields() -> None:
    post("idempotency_key_missing", "disbursement", {}, 400, "IDEMPOTENCY_KEY_MISSING",
         headers={"Idempotency-Key": None})
    for name, key in [("empty", ""), ("space", "a b"), ("too_long", "k" * 129)]:
        post(f"idempotency_key_{name}", "disbursement", {}, 400, "IDEMPOTENCY_KEY_INVALID",
             headers={"Idempotency-Key": key})
    post("idempotency_key_reused", "disbursement", {}, 409, "IDEMPOTENCY_KEY_REUSED",
         headers={"Idempotency-Key": USED_KEY})
    post("idempotency_key_reused_other_path", "expenditure", {}, 409, "IDEMPOTENCY_KEY_REUSED",
         headers={"Idempotency-Key": USED_KEY})
    post("unknown_field", "disbursement", {"colour": "red"}, 422, "INVALID_FIELD")
    post("actor_in_body", "disbursement", {"actor": {"id": "x", "role": "province"}}, 422,
         "INVALID_FIELD")
    for name in ("kind", "county_code", "programme"):
        post(f"path_field_{name}", "disbursement", {name: "disbursement" if name == "kind"
                                                     else COUNTY if name == "county_code"
                                                     else PROGRAMME}, 422, "FIELD_IN_PATH")
    post("path_field_period", "report", {"period": "2021-01"}, 422, "FIELD_IN_PATH")
    post("admit_programme_in_body", "admit", {"programme": PROGRAMME}, 422, "FIELD_IN_PATH")
    post("entry_id_bad_chars", "disbursement", {"entry_id": "D 1"}, 422, "INVALID_FIELD")
    post("entry_id_missing", "disbursement", {}, 422, "INVALID_FIELD", drop=("entry_id",))
    post("payee_empty", "disbursement", {"payee": ""}, 422, "INVALID_FIELD")
    post("payee_control", "disbursement", {"payee": "a\u0000b"}, 422, "INVALID_TEXT")
    post("payee_too_long", "disbursement", {"payee": "某" * 1000}, 422, "INVALID_TEXT")
    post("payee_number", "disbursement", {"payee": 5}, 422, "INVALID_FIELD")
    post("category_unknown", "project", {"category": "space_travel"}, 422, "INVALID_FIELD")
    case("batch_string", "POST", "/appropriations", 422, "INVALID_FIELD", who="province",
         body=text({"entry_id": "AX", "batch": "one", "amount": "1", "document_no": "X",
                    "business_date": "2020-04-01"}))
    post("admit_county_code_bad", "admit", {"county_code": "4414"}, 422, "INVALID_FIELD")


def references_and_dates() -> None:
    prog = f"/v1/programmes/{PROGRAMME}"
    case("unknown_programme", "POST", "/v1/programmes/gd-1999-none/counties/441423/disbursements",
         404, "UNKNOWN_PROGRAMME", body=text(TEMPLATES["disbursement"][2]))
    case("unknown_county", "POST", f"{prog}/counties/441499/recoveries", 404,
         "UNKNOWN_COUNTY", who="province", body=text(TEMPLATES["recovery"][2]))
    post("unknown_project", "disbursement", {"project_code": "P404"}, 404, "UNKNOWN_PROJECT")
    post("unknown_project_expenditure", "expenditure", {"project_code": "P404"}, 404,
         "UNKNOWN_PROJECT")
    post("unknown_reversal_target", "reversal", {"target_entry_id": "D404"}, 409,
         "REVERSAL_TARGET_INVALID")
    post("entry_id_reused_other_content", "disbursement", {"entry_id": "D1"}, 409,
         "ENTRY_ID_CONFLICT")
    post("over_budget", "disbursement", {"amount": "3000000.01"}, 409,
         "DISBURSEMENT_EXCEEDS_BUDGET")
    post("over_disbursed", "expenditure", {"amount": "100000.01"}, 409,
         "EXPENDITURE_EXCEEDS_DISBURSED")
    post("date_future", "disbursement", {"business_date": "2099-01-01"}, 409,
         "DATE_OUTSIDE_PERIOD")
    post("date_closed_year", "disbursement", {"business_date": "2020-06-01"}, 409,
         "PERIOD_CLOSED")
    post("date_closed_year_reversal", "reversal", {"business_date": "2020-12-31"}, 409,
         "PERIOD_CLOSED")
    post("date_before_programme", "disbursement", {"business_date": "2019-12-31"}, 409,
         "DATE_OUTSIDE_PERIOD")
    for name, day in [("feb_30", "2021-02-30"), ("month_13", "2021-13-01"),
                      ("no_padding", "2021-2-1"), ("slashes", "2021/02/01"),
                      ("with_time", "2021-02-01T10:00:00"), ("empty", "")]:
        post(f"date_{name}", "disbursement", {"business_date": day}, 422, "INVALID_FIELD")
    post("date_number", "disbursement", {"business_date": 20210201}, 422, "INVALID_FIELD")
    post("date_missing", "disbursement", {}, 422, "INVALID_FIELD", drop=("business_date",))
    case("report_period_month_13", "POST", "/reports/2021-13", 422, "INVALID_FIELD",
         body=text(TEMPLATES["report"][2]))
    case("tranche_batch_not_integer", "POST", "/tranches/two/decision", 422, "INVALID_REQUEST",
         who="province", body=text({"document_no": "X", "business_date": "2021-03-01"}))


def authority() -> None:
    post("wrong_role_reviewer_writes", "disbursement", {}, 403, "NOT_PERMITTED", who="reviewer")
    post("wrong_role_auditor_recovers", "recovery", {}, 403, "NOT_PERMITTED", who="auditor")
    post("wrong_role_county_recovers", "recovery", {}, 403, "NOT_PERMITTED", who="county")
    post("wrong_role_county_admits", "admit", {}, 403, "NOT_PERMITTED", who="county")
    post("wrong_role_province_disburses", "disbursement", {}, 403, "NOT_PERMITTED",
         who="province")
    case("wrong_role_city_closes_year", "POST", "/year-close", 403, "NOT_PERMITTED", who="city",
         body=text({"year": 2021, "business_date": "2022-01-15"}))
    case("wrong_role_county_summary", "GET", f"/v1/programmes/{PROGRAMME}/summary", 403,
         "NOT_PERMITTED")
    post("wrong_scope_other_county_writes", "disbursement", {}, 403, "NOT_PERMITTED",
         who="other_county")
    case("wrong_scope_other_county_reads", "GET", "/status", 403, "NOT_PERMITTED",
         who="other_county")
    case("wrong_scope_other_county_projects", "GET", "/projects", 403, "NOT_PERMITTED",
         who="other_county")
    case("wrong_scope_other_county_history", "GET",
         f"/v1/history?programme={PROGRAMME}&county={COUNTY}", 403, "NOT_PERMITTED",
         who="other_county")
    case("wrong_scope_city_other_city", "GET", f"/v1/programmes/{PROGRAMME}/summary?city=440100",
         403, "NOT_PERMITTED", who="city")
    case("wrong_scope_county_unknown_county", "GET",
         f"/v1/programmes/{PROGRAMME}/counties/441499/status", 403, "NOT_PERMITTED")
    for who in ("none", "expired", "revoked", "malformed"):
        post(f"token_{who}_writes", "disbursement", {}, 401, "TOKEN_REFUSED", who=who)
        case(f"token_{who}_reads", "GET", "/balances", 401, "TOKEN_REFUSED", who=who)


def queries() -> None:
    for name, query in [("year_abc", "year=abc"), ("year_1999", "year=1999"),
                        ("year_3000", "year=3000"), ("year_float", "year=2020.5")]:
        case(f"query_{name}", "GET", f"/balances?{query}", 422, "INVALID_REQUEST",
             who="auditor")
    for name, day in [("feb_30", "2020-02-30"), ("word", "yesterday"), ("empty", "")]:
        case(f"query_as_of_{name}", "GET", f"/status?as_of={day}", 422, "INVALID_FIELD",
             who="auditor")
    case("query_projects_as_of_feb_30", "GET", "/projects?as_of=2020-02-30", 422,
         "INVALID_FIELD", who="auditor")
    history = f"/v1/history?programme={PROGRAMME}&county={COUNTY}"
    for name, query, code in [("limit_0", "limit=0", "INVALID_REQUEST"),
                              ("limit_1001", "limit=1001", "INVALID_REQUEST"),
                              ("limit_abc", "limit=abc", "INVALID_REQUEST"),
                              ("cursor_garbage", "cursor=bm9wZQ", "INVALID_FIELD"),
                              ("cursor_not_base64", "cursor=%21%21%21", "INVALID_FIELD"),
                              ("since_feb_30", "since=2020-02-30", "INVALID_FIELD"),
                              ("project_bad_chars", "project=P%201", "INVALID_FIELD")]:
        case(f"query_history_{name}", "GET", f"{history}&{query}", 422, code, who="reviewer")
    case("query_history_no_programme", "GET", "/v1/history", 422, "INVALID_REQUEST",
         who="reviewer")
    case("query_history_unknown_project", "GET", f"{history}&project=P404", 404,
         "UNKNOWN_PROJECT", who="reviewer")
    case("query_project_limit_0", "GET", "/projects/P1?limit=0", 422, "INVALID_REQUEST",
         who="auditor")
    case("query_project_cursor_garbage", "GET", "/projects/P1?cursor=bm9wZQ", 422,
         "INVALID_FIELD", who="auditor")
    case("query_leaves_backwards", "GET", "/v1/audit/leaves?start=5&end=2", 422,
         "LEAVES_RANGE_INVALID", who="auditor")
    case("query_inclusion_negative", "GET", "/v1/audit/proofs/inclusion?index=-1", 422,
         "INVALID_REQUEST", who="auditor")


def paths() -> None:
    prog = f"/v1/programmes/{PROGRAMME}"
    for name, county in [("letters", "abcdef"), ("short", "44142"), ("long", "4414230"),
                         ("fullwidth", "%EF%BC%94%EF%BC%94%EF%BC%91%EF%BC%94%EF%BC%92%EF%BC%93")]:
        case(f"path_county_{name}", "GET", f"{prog}/counties/{county}/status", 422,
             "INVALID_FIELD", who="province")
    case("path_county_bad_on_write", "POST", f"{prog}/counties/abcdef/recoveries", 422,
         "INVALID_FIELD", who="province", body=text(TEMPLATES["recovery"][2]))
    case("path_programme_bad", "GET", "/v1/programmes/-bad/counties/441423/status", 422,
         "INVALID_FIELD", who="province")
    case("path_project_bad", "GET", "/projects/P%201", 422, "INVALID_FIELD", who="auditor")
    case("path_project_unknown", "GET", "/projects/P404", 404, "UNKNOWN_PROJECT",
         who="auditor")
    case("path_projects_unknown_county", "GET", f"{prog}/counties/441499/projects", 404,
         "UNKNOWN_COUNTY", who="province")
    case("path_entry_unknown", "GET",
         f"/v1/entries/D404?programme={PROGRAMME}&county={COUNTY}", 404, "UNKNOWN_ENTRY")
    case("path_entry_bad", "GET", f"/v1/entries/D%201?programme={PROGRAMME}&county={COUNTY}",
         422, "INVALID_FIELD")
    case("path_unknown_programme_read", "GET", "/v1/programmes/gd-1999-none", 404,
         "UNKNOWN_PROGRAMME", who="province")
    case("path_no_such_resource", "GET", "/nothing-here", 404, "NOT_FOUND", who="auditor")
    case("method_delete", "DELETE", "/disbursements", 405, "METHOD_NOT_ALLOWED")


def cases() -> list[dict[str, Any]]:
    _cases.clear()
    for group in (amounts, bodies, keys_and_fields, references_and_dates, authority, queries,
                  paths):
        group()
    return list(_cases)


if __name__ == "__main__":
    OUT.write_text("".join(json.dumps(c, ensure_ascii=True) + "\n" for c in cases()), "utf-8")
    print(f"wrote {len(_cases)} cases to {OUT}")
