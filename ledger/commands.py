"""Commands as data: the kinds a client can send (CLI, import file, HTTP), their fields, and
how each payload is validated into the arguments of a `CountyFund` command.

Money commands must carry an `entry_id` (the idempotency key); the others get one derived from
their natural key (a project's code, a report's month...) when none is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger import fields as F
from ledger.errors import InvalidField

COMMON_FIELDS = frozenset({"kind", "programme", "county_code", "entry_id", "business_date"})
Parsed = dict[str, Any]


# Every text field of a county command, and its length limit in characters (ledger.fields).
TEXT_FIELDS_MAX_CHARS: dict[str, int] = {
    "document_no": F.DOCUMENT_NO_MAX_CHARS, "voucher_no": F.DOCUMENT_NO_MAX_CHARS,
    "invoice_no": F.DOCUMENT_NO_MAX_CHARS, "report_no": F.DOCUMENT_NO_MAX_CHARS,
    "name": F.NAME_MAX_CHARS, "payee": F.NAME_MAX_CHARS, "implementing_unit": F.NAME_MAX_CHARS,
    "title": F.NAME_MAX_CHARS, "assessor": F.NAME_MAX_CHARS,
    "responsible_person": F.PERSON_MAX_CHARS, "approver": F.PERSON_MAX_CHARS,
    "reason": F.TEXT_MAX_CHARS, "purpose": F.TEXT_MAX_CHARS, "summary": F.SUMMARY_MAX_CHARS,
    "category": F.CATEGORY_MAX_CHARS, "conclusion": F.CONCLUSION_MAX_CHARS,
}


def _t(p: dict[str, Any], name: str, required: bool = True) -> str:
    """A text field of the payload, under its limit and the character rules of `F.text`."""
    return F.text(p.get(name), name, required=required, max_chars=TEXT_FIELDS_MAX_CHARS[name])


@dataclass(frozen=True)
class CommandSpec:
    kind: str
    method: str
    fields: frozenset[str]
    parse: Callable[[dict[str, Any]], Parsed]
    money: bool = False
    natural_key: Callable[[Parsed], str] | None = None


def _appropriation(p: dict[str, Any]) -> Parsed:
    return {"batch": F.integer(p.get("batch"), "batch", 1, 9), "amount_fen": F.amount(p),
            "document_no": _t(p, "document_no")}


def _decision(p: dict[str, Any]) -> Parsed:
    return {"batch": F.integer(p.get("batch"), "batch", 1, 9),
            "document_no": _t(p, "document_no")}


def _project(p: dict[str, Any]) -> Parsed:
    return {
        "project_code": F.identifier(p.get("project_code"), "project_code"),
        "name": _t(p, "name"),
        "category": _t(p, "category"),
        "budget_fen": F.amount(p, "budget"),
        "responsible_person": _t(p, "responsible_person"),
        "implementing_unit": _t(p, "implementing_unit"),
        "start_date": F.date(p.get("start_date"), "start_date"),
        "end_date": F.date(p.get("end_date"), "end_date"),
    }


def _adjustment(p: dict[str, Any]) -> Parsed:
    return {"project_code": F.identifier(p.get("project_code"), "project_code"),
            "new_budget_fen": F.amount(p, "new_budget"),
            "reason": _t(p, "reason"),
            "approver": _t(p, "approver")}


def _disbursement(p: dict[str, Any]) -> Parsed:
    return {"project_code": F.identifier(p.get("project_code"), "project_code"),
            "amount_fen": F.amount(p), "payee": _t(p, "payee"),
            "voucher_no": _t(p, "voucher_no"),
            "attachments": F.attachments(p.get("attachments"))}


def _expenditure(p: dict[str, Any]) -> Parsed:
    return {"project_code": F.identifier(p.get("project_code"), "project_code"),
            "amount_fen": F.amount(p), "purpose": _t(p, "purpose"),
            "invoice_no": _t(p, "invoice_no"),
            "attachments": F.attachments(p.get("attachments"))}


def _reversal(p: dict[str, Any]) -> Parsed:
    return {"target_entry_id": F.identifier(p.get("target_entry_id"), "target_entry_id"),
            "amount_fen": F.amount(p), "reason": _t(p, "reason")}


def _exception(p: dict[str, Any]) -> Parsed:
    return {"category": _t(p, "category"),
            "limit_fen": F.amount(p, "limit"), "reason": _t(p, "reason"),
            "approver": _t(p, "approver"),
            "document_no": _t(p, "document_no")}


def _recovery(p: dict[str, Any]) -> Parsed:
    return {"amount_fen": F.amount(p), "reason": _t(p, "reason"),
            "document_no": _t(p, "document_no")}


def _close(p: dict[str, Any]) -> Parsed:
    return {"year": F.integer(p.get("year"), "year", 2000, 2999)}


def _report(p: dict[str, Any]) -> Parsed:
    return {"period": F.period(p.get("period")),
            "summary": _t(p, "summary", required=False)}


def _case(p: dict[str, Any]) -> Parsed:
    return {"title": _t(p, "title"),
            "summary": _t(p, "summary", required=False)}


def _acceptance(p: dict[str, Any]) -> Parsed:
    return {"conclusion": _t(p, "conclusion"),
            "report_no": _t(p, "report_no"),
            "assessor": _t(p, "assessor")}


def _confirmation(p: dict[str, Any]) -> Parsed:
    return {"conclusion": _t(p, "conclusion")}


def _digest(text: str) -> str:
    """A short ASCII key for free text (document numbers and titles are Chinese)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _spec(kind: str, method: str, parse: Callable[[dict[str, Any]], Parsed], names: str,
          money: bool = False, key: Callable[[Parsed], str] | None = None) -> CommandSpec:
    return CommandSpec(kind, method, frozenset(names.split()), parse, money, key)


COUNTY_COMMANDS: dict[str, CommandSpec] = {s.kind: s for s in (
    _spec("appropriation", "record_appropriation", _appropriation,
          "batch amount amount_fen amount_yuan document_no", money=True),
    _spec("batch_decision", "decide_batch", _decision, "batch document_no",
          key=lambda a: f"decision:batch{a['batch']}"),
    _spec("project", "register_project", _project,
          "project_code name category budget budget_fen budget_yuan responsible_person "
          "implementing_unit start_date end_date", key=lambda a: f"project:{a['project_code']}"),
    _spec("budget_adjustment", "adjust_budget", _adjustment,
          "project_code new_budget new_budget_fen new_budget_yuan reason approver", money=True),
    _spec("disbursement", "record_disbursement", _disbursement,
          "project_code amount amount_fen amount_yuan payee voucher_no attachments", money=True),
    _spec("expenditure", "record_expenditure", _expenditure,
          "project_code amount amount_fen amount_yuan purpose invoice_no attachments",
          money=True),
    _spec("reversal", "reverse_entry", _reversal,
          "target_entry_id amount amount_fen amount_yuan reason", money=True),
    _spec("ratio_exception", "approve_exception", _exception,
          "category limit limit_fen limit_yuan reason approver document_no",
          key=lambda a: f"exception:{a['category']}:{_digest(a['document_no'])}"),
    _spec("recovery", "record_recovery", _recovery,
          "amount amount_fen amount_yuan reason document_no", money=True),
    _spec("year_close", "close_year", _close, "year", key=lambda a: f"close:{a['year']}"),
    _spec("monthly_report", "submit_monthly_report", _report, "period summary",
          key=lambda a: f"report:{a['period']}"),
    _spec("typical_case", "report_typical_case", _case, "title summary",
          key=lambda a: f"case:{_digest(a['title'])}"),
    _spec("acceptance", "record_acceptance", _acceptance, "conclusion report_no assessor",
          key=lambda a: "acceptance"),
    _spec("acceptance_confirmation", "confirm_acceptance", _confirmation, "conclusion",
          key=lambda a: "acceptance:confirmed"),
)}


def parse_county_command(payload: dict[str, Any]) -> tuple[CommandSpec, str, Parsed]:
    """Validate a county command payload: (its spec, its entry id, the method's arguments).

    The arguments include `business_date`; `programme` and `county_code` stay in the payload.
    """
    kind = payload.get("kind")
    spec = COUNTY_COMMANDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise InvalidField(f"未知的条目类型 {F.shown(kind)}", f"unknown kind {F.shown(kind)}; "
                           f"expected one of {', '.join(COUNTY_COMMANDS)}", "kind")
    unknown = set(payload) - COMMON_FIELDS - spec.fields
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
