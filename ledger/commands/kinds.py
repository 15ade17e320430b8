"""The county command kinds, each defined once (see `ledger.commands.spec`): its Chinese name,
who may issue it, its fields, the event it records and the `CountyFund` method handling it.

Fields shared by several kinds are defined once below, so a field has one limit and one help
text everywhere. The order of `COUNTY_COMMANDS` is the order of the worked example in
docs/commands.md: each example runs on the state the examples before it leave (dates need
not follow that order: entries are judged by business date).
"""

from __future__ import annotations

import hashlib

from ledger import fields as F
from ledger.commands.spec import (
    AMOUNT,
    ATTACHMENTS,
    DATE,
    IDENTIFIER,
    INTEGER,
    PERIOD,
    TEXT,
    CommandSpec,
    FieldSpec,
    Permission,
)


def _text(name: str, zh: str, en: str, limit: int, required: bool = True) -> FieldSpec:
    return FieldSpec(name, TEXT, zh, en, "--" + name.replace("_", "-"), limit, required)


BATCH = FieldSpec("batch", INTEGER, "批次", "batch number", "--batch", (F.BATCH_MIN, F.BATCH_MAX))
MONEY = FieldSpec("amount", AMOUNT, "金额（元，至多两位小数）", "amount in yuan, at most two "
                  "decimals", "--amount")
DOCUMENT_NO = _text("document_no", "文号", "document number", F.DOCUMENT_NO_MAX_CHARS)
PROJECT = FieldSpec("project_code", IDENTIFIER, "项目编号", "project code", "--project")
CATEGORY = _text("category", "类别（规则中的类别代码）", "category (a code of the rules)",
                 F.CATEGORY_MAX_CHARS)
REASON = _text("reason", "原因", "reason", F.TEXT_MAX_CHARS)
APPROVER = _text("approver", "批准人", "approver", F.PERSON_MAX_CHARS)
ATTACHED = FieldSpec("attachments", ATTACHMENTS, "附件的 SHA-256（可多次给出）",
                     "SHA-256 of an attachment (repeatable)", "--attachment", required=False)
SUMMARY = _text("summary", "摘要（可选）", "summary (optional)", F.SUMMARY_MAX_CHARS,
                required=False)
CONCLUSION = _text("conclusion", "验收结论（验收合格 / 验收不合格）",
                   "acceptance conclusion (验收合格 / 验收不合格)", F.CONCLUSION_MAX_CHARS)


def _only(command: str, *roles: str) -> tuple[Permission, ...]:
    return (Permission(command, frozenset(roles)),)


def _digest(text: str) -> str:
    """A short ASCII key for free text (document numbers and titles are Chinese)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_SPECS = (
    CommandSpec(
        "appropriation", "资金下达", "the province appropriates a batch of the county's "
        "allocation", "record_appropriation", "CountyFund.AppropriationReceived",
        _only("record_appropriation", "province"), (BATCH, MONEY, DOCUMENT_NO), money=True,
        example={"date": "2020-04-01", "entry_id": "A-2020-1", "batch": 1,
                 "amount": "5,000,000.00", "document_no": "粤财工〔2020〕12号"}),
    CommandSpec(
        "batch_decision", "批次决定", "the province's decision that opens a batch needing one "
        "(batch 2)", "decide_batch", "CountyFund.BatchDecided", _only("decide_batch", "province"),
        (BATCH, DOCUMENT_NO), natural_key=lambda a: f"decision:batch{a['batch']}",
        key_doc="`decision:batch2`",
        example={"date": "2021-02-25", "batch": 2, "document_no": "粤商务建〔2021〕9号"}),
    CommandSpec(
        "project", "项目登记", "the county registers a project with its budget",
        "register_project", "CountyFund.ProjectRegistered", _only("register_project", "county"),
        (PROJECT, _text("name", "项目名称", "project name", F.NAME_MAX_CHARS), CATEGORY,
         FieldSpec("budget", AMOUNT, "预算（元）", "budget in yuan", "--budget"),
         _text("responsible_person", "责任人", "responsible person", F.PERSON_MAX_CHARS),
         _text("implementing_unit", "实施单位", "implementing unit", F.NAME_MAX_CHARS),
         FieldSpec("start_date", DATE, "开始日期", "start date", "--start-date"),
         FieldSpec("end_date", DATE, "结束日期", "end date", "--end-date")),
        natural_key=lambda a: f"project:{a['project_code']}", key_doc="`project:<code>`",
        example={"date": "2020-04-02", "project_code": "P-001", "name": "县级电商公共服务中心",
                 "category": "public_services", "budget": "3,000,000.00",
                 "responsible_person": "张三", "implementing_unit": "县商务局",
                 "start_date": "2020-04-01", "end_date": "2021-06-30"}),
    CommandSpec(
        "budget_adjustment", "预算调整", "the county changes a project's budget",
        "adjust_budget", "CountyFund.BudgetAdjusted", _only("adjust_budget", "county"),
        (PROJECT, FieldSpec("new_budget", AMOUNT, "调整后预算（元）", "new budget in yuan",
                            "--new-budget"), REASON, APPROVER), money=True,
        example={"date": "2020-05-01", "entry_id": "BA-1", "project_code": "P-001",
                 "new_budget": "3,200,000.00", "reason": "增加培训场地", "approver": "李四"}),
    CommandSpec(
        "disbursement", "拨付", "the county pays money out to a project",
        "record_disbursement", "CountyFund.DisbursementRecorded",
        _only("record_disbursement", "county"),
        (PROJECT, MONEY, _text("payee", "收款人", "payee", F.NAME_MAX_CHARS),
         _text("voucher_no", "凭证号", "voucher number", F.DOCUMENT_NO_MAX_CHARS), ATTACHED),
        money=True,
        example={"date": "2020-05-10", "entry_id": "D-1", "project_code": "P-001",
                 "amount": "1,000,000.00", "payee": "某电商服务公司", "voucher_no": "记-2020-05-01",
                 "attachments": [_digest("付款审批单.pdf") * 4]}),
    CommandSpec(
        "expenditure", "支出", "money a project has spent", "record_expenditure",
        "CountyFund.ExpenditureRecorded", _only("record_expenditure", "county"),
        (PROJECT, MONEY, _text("purpose", "用途", "purpose", F.TEXT_MAX_CHARS),
         _text("invoice_no", "发票号", "invoice number", F.DOCUMENT_NO_MAX_CHARS), ATTACHED),
        money=True,
        example={"date": "2020-06-01", "entry_id": "E-1", "project_code": "P-001",
                 "amount": "300,000.00", "purpose": "服务中心装修", "invoice_no": "FP-0001"}),
    CommandSpec(
        "reversal", "红字冲销", "a red-letter reversal of part or all of an entry",
        "reverse_entry", "CountyFund.EntryReversed",
        (Permission("reverse_county_entry", frozenset({"county"}),
                    ("拨付与支出", "disbursements and expenditures")),
         Permission("reverse_province_entry", frozenset({"province"}),
                    ("下达与收回", "appropriations and recoveries"))),
        (FieldSpec("target_entry_id", IDENTIFIER, "被冲销的条目编号", "the entry reversed",
                   "--target"), MONEY, REASON), money=True,
        example={"date": "2020-06-15", "entry_id": "R-1", "target_entry_id": "D-1",
                 "amount": "100,000.00", "reason": "多拨退回"}),
    CommandSpec(
        "ratio_exception", "比例例外", "the province lets a category exceed its maximum share",
        "approve_exception", "CountyFund.RatioExceptionApproved",
        _only("approve_exception", "province"),
        (CATEGORY, FieldSpec("limit", AMOUNT, "例外额度（元）", "the category's new ceiling "
                             "in yuan", "--limit"), REASON, APPROVER, DOCUMENT_NO),
        natural_key=lambda a: f"exception:{a['category']}:{_digest(a['document_no'])}",
        key_doc="derived",
        example={"date": "2020-07-01", "category": "public_services", "limit": "5,500,000.00",
                 "reason": "公共服务体系建设需要", "approver": "王五",
                 "document_no": "粤商务建〔2020〕30号"}),
    CommandSpec(
        "recovery", "收回", "the province takes back unused cash", "record_recovery",
        "CountyFund.FundsRecovered", _only("record_recovery", "province"),
        (MONEY, REASON, DOCUMENT_NO), money=True,
        example={"date": "2020-12-20", "entry_id": "RC-1", "amount": "50,000.00",
                 "reason": "结余收回", "document_no": "粤财工〔2020〕88号"}),
    CommandSpec(
        "year_close", "年度结账", "no entry may be dated in the year any more", "close_year",
        "CountyFund.YearClosed", _only("close_year", "province"),
        (FieldSpec("year", INTEGER, "结账年度", "year closed", "--year",
                   (F.YEAR_MIN, F.YEAR_MAX)),),
        natural_key=lambda a: f"close:{a['year']}", key_doc="`close:<year>`",
        example={"date": "2021-01-10", "year": 2020}),
    CommandSpec(
        "monthly_report", "月报", "the county's progress report for a month",
        "submit_monthly_report", "CountyFund.MonthlyReportSubmitted",
        _only("submit_monthly_report", "county"),
        (FieldSpec("period", PERIOD, "报告月份", "month reported", "--period"), SUMMARY),
        natural_key=lambda a: f"report:{a['period']}", key_doc="`report:<period>`",
        example={"date": "2021-02-03", "period": "2021-01", "summary": "服务中心运营正常"}),
    CommandSpec(
        "typical_case", "典型案例", "a typical case, due at least every half year",
        "report_typical_case", "CountyFund.TypicalCaseReported",
        _only("report_typical_case", "county"),
        (_text("title", "标题", "title", F.NAME_MAX_CHARS), SUMMARY),
        natural_key=lambda a: f"case:{_digest(a['title'])}", key_doc="derived",
        example={"date": "2021-03-01", "title": "农产品上行带动增收"}),
    CommandSpec(
        "acceptance", "验收结论", "the third party's acceptance conclusion",
        "record_acceptance", "CountyFund.AcceptanceRecorded",
        _only("record_acceptance", "auditor"),
        (CONCLUSION, _text("report_no", "验收报告编号", "report number", F.DOCUMENT_NO_MAX_CHARS),
         _text("assessor", "评估机构", "assessor", F.NAME_MAX_CHARS)),
        natural_key=lambda a: "acceptance", key_doc="`acceptance`",
        example={"date": "2022-03-01", "conclusion": "验收合格", "report_no": "YS-2022-01",
                 "assessor": "某会计师事务所"}),
    CommandSpec(
        "acceptance_confirmation", "验收确认", "the city confirms the acceptance conclusion",
        "confirm_acceptance", "CountyFund.AcceptanceConfirmed",
        _only("confirm_acceptance", "city"), (CONCLUSION,),
        natural_key=lambda a: "acceptance:confirmed", key_doc="`acceptance:confirmed`",
        example={"date": "2022-03-10", "conclusion": "验收合格"}),
)
COUNTY_COMMANDS: dict[str, CommandSpec] = {s.kind: s for s in _SPECS}


def _text_limits() -> dict[str, int]:
    limits: dict[str, int] = {}
    for spec in _SPECS:
        for f in spec.fields:
            if f.type == TEXT:
                assert isinstance(f.limit, int) and limits.setdefault(f.name, f.limit) == f.limit
                limits[f.name] = f.limit
    return limits


# Every text field of a county command, and its length limit in characters (ledger.fields).
TEXT_FIELDS_MAX_CHARS: dict[str, int] = _text_limits()
