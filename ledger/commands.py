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
            "document_no": F.text(p.get("document_no"), "document_no", max_chars=100)}


def _decision(p: dict[str, Any]) -> Parsed:
    return {"batch": F.integer(p.get("batch"), "batch", 1, 9),
            "document_no": F.text(p.get("document_no"), "document_no", max_chars=100)}


def _project(p: dict[str, Any]) -> Parsed:
    return {
        "project_code": F.identifier(p.get("project_code"), "project_code"),
        "name": F.text(p.get("name"), "name", max_chars=200),
        "category": F.text(p.get("category"), "category", max_chars=64),
        "budget_fen": F.amount(p, "budget"),
        "responsible_person": F.text(p.get("responsible_person"), "responsible_person",
                                     max_chars=100),
        "implementing_unit": F.text(p.get("implementing_unit"), "implementing_unit",
                                    max_chars=200),
        "start_date": F.date(p.get("start_date"), "start_date"),
        "end_date": F.date(p.get("end_date"), "end_date"),
    }


def _adjustment(p: dict[str, Any]) -> Parsed:
    return {"project_code": F.identifier(p.get("project_code"), "project_code"),
            "new_budget_fen": F.amount(p, "new_budget"),
            "reason": F.text(p.get("reason"), "reason"),
            "approver": F.text(p.get("approver"), "approver", max_chars=100)}


def _disbursement(p: dict[str, Any]) -> Parsed:
    return {"project_code": F.identifier(p.get("project_code"), "project_code"),
            "amount_fen": F.amount(p), "payee": F.text(p.get("payee"), "payee", max_chars=200),
            "voucher_no": F.text(p.get("voucher_no"), "voucher_no", max_chars=100),
            "attachments": F.attachments(p.get("attachments"))}


def _expenditure(p: dict[str, Any]) -> Parsed:
    return {"project_code": F.identifier(p.get("project_code"), "project_code"),
            "amount_fen": F.amount(p), "purpose": F.text(p.get("purpose"), "purpose"),
            "invoice_no": F.text(p.get("invoice_no"), "invoice_no", max_chars=100),
            "attachments": F.attachments(p.get("attachments"))}


def _reversal(p: dict[str, Any]) -> Parsed:
    return {"target_entry_id": F.identifier(p.get("target_entry_id"), "target_entry_id"),
            "amount_fen": F.amount(p), "reason": F.text(p.get("reason"), "reason")}


def _exception(p: dict[str, Any]) -> Parsed:
    return {"category": F.text(p.get("category"), "category", max_chars=64),
            "limit_fen": F.amount(p, "limit"), "reason": F.text(p.get("reason"), "reason"),
            "approver": F.text(p.get("approver"), "approver", max_chars=100),
            "document_no": F.text(p.get("document_no"), "document_no", max_chars=100)}


def _recovery(p: dict[str, Any]) -> Parsed:
    return {"amount_fen": F.amount(p), "reason": F.text(p.get("reason"), "reason"),
            "document_no": F.text(p.get("document_no"), "document_no", max_chars=100)}


def _close(p: dict[str, Any]) -> Parsed:
    return {"year": F.integer(p.get("year"), "year", 2000, 2999)}


def _report(p: dict[str, Any]) -> Parsed:
    return {"period": F.period(p.get("period")),
            "summary": F.text(p.get("summary"), "summary", required=False, max_chars=2000)}


def _case(p: dict[str, Any]) -> Parsed:
    return {"title": F.text(p.get("title"), "title", max_chars=200),
            "summary": F.text(p.get("summary"), "summary", required=False, max_chars=2000)}


def _acceptance(p: dict[str, Any]) -> Parsed:
    return {"conclusion": F.text(p.get("conclusion"), "conclusion", max_chars=20),
            "report_no": F.text(p.get("report_no"), "report_no", max_chars=100),
            "assessor": F.text(p.get("assessor"), "assessor", max_chars=200)}


def _confirmation(p: dict[str, Any]) -> Parsed:
    return {"conclusion": F.text(p.get("conclusion"), "conclusion", max_chars=20)}


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
        raise InvalidField(f"未知的条目类型 {kind!r}", f"unknown kind {kind!r}; expected one of "
                           f"{', '.join(COUNTY_COMMANDS)}", "kind")
    unknown = set(payload) - COMMON_FIELDS - spec.fields
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(f"{spec.kind} 没有字段 {name}", f"{spec.kind} has no field {name}",
                           name)
    args = spec.parse(payload)
    args["business_date"] = F.date(payload.get("business_date"))
    entry_id = payload.get("entry_id")
    if entry_id is None and not spec.money and spec.natural_key is not None:
        entry_id = spec.natural_key(args)
    if entry_id is None:
        raise InvalidField(f"{spec.kind} 须带条目编号 entry_id（幂等键）",
                           f"{spec.kind} needs an entry_id (the idempotency key)", "entry_id")
    return spec, F.identifier(entry_id, "entry_id"), args
