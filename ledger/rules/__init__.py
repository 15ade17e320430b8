"""Programme rules as versioned data: the rules file's schema, its validation, and lookups.

A rules file (TOML) is shipped per programme; `parse_rules` validates a decoded document and
raises `RulesInvalid` naming the field. The programme's opening event stores the validated
document, so the ledger carries the rules it was run under.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ledger.errors import RulesInvalid
from ledger.fields import TEXT_CHECKS, forbidden_char

BP_WHOLE = 10_000  # basis points in a whole
RULES_FORMAT = 1
DENOMINATORS = ("allocation",)
RULES_TEXT_MAX_CHARS = 500
RULES_INT_ABS_MAX = 2**53 - 1  # the whole document enters an event: I-JSON integers only
_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # a packaged rules file's name


@dataclass(frozen=True)
class Category:
    id: str
    name_zh: str
    name_en: str
    min_share_bp: int | None
    max_share_bp: int | None
    denominator: str


@dataclass(frozen=True)
class Tranche:
    batch: int
    year: int
    share_bp: int
    requires_decision: bool


@dataclass(frozen=True)
class ExecutionLabel:
    min_rate_bp: int
    zh: str
    en: str


@dataclass(frozen=True)
class ProgrammeRules:
    programme: str
    rules_version: str
    title_zh: str
    title_en: str
    province_code: str
    period_start: dt.date
    period_end: dt.date
    categories: tuple[Category, ...]
    tranches: tuple[Tranche, ...]
    monthly_report_due_day: int
    typical_case_interval_months: int
    acceptance_deadline: dt.date
    acceptance_conclusions: tuple[str, ...]
    execution_labels: tuple[ExecutionLabel, ...]
    targets: dict[str, int]
    document: dict[str, Any]

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def tranche(self, batch: int) -> Tranche | None:
        return next((t for t in self.tranches if t.batch == batch), None)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.period_start.year, self.period_end.year + 1))

    def execution_label(self, rate_bp: int) -> ExecutionLabel:
        for label in sorted(self.execution_labels, key=lambda x: -x.min_rate_bp):
            if rate_bp >= label.min_rate_bp:
                return label
        return self.execution_labels[-1]


def _bad(field: str, zh: str, en: str) -> RulesInvalid:
    return RulesInvalid(
        f"规则文件字段 {field} 无效：{zh}", f"rules field {field} invalid: {en}", field
    )


def _get(doc: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    field = f"{where}{key}"
    if key not in doc:
        raise _bad(field, "缺失", "missing")
    value = doc[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _bad(field, "应为整数", "must be an integer")
    if not isinstance(value, kind):
        raise _bad(field, f"应为 {kind.__name__}", f"must be {kind.__name__}")
    return value


def _date(doc: dict[str, Any], key: str, where: str = "") -> dt.date:
    text = _get(doc, key, str, where)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _bad(f"{where}{key}", "应为 YYYY-MM-DD 日期", "must be a YYYY-MM-DD date") from None


def _bp(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BP_WHOLE:
        raise _bad(field, "应为 0..10000 的基点整数", "must be integer basis points 0..10000")
    return value


def _table(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise _bad(where, "应为表", "must be a table")
    return doc


def _label(doc: Any, i: int) -> ExecutionLabel:
    where = f"execution.labels[{i}]."
    doc = _table(doc, where)
    return ExecutionLabel(_bp(doc.get("min_rate_bp"), where + "min_rate_bp"),
                          _get(doc, "zh", str, where), _get(doc, "en", str, where))


def _category(doc: dict[str, Any], i: int) -> Category:
    where = f"categories[{i}]."
    doc = _table(doc, where)
    lo, hi = doc.get("min_share_bp"), doc.get("max_share_bp")
    lo = None if lo is None else _bp(lo, where + "min_share_bp")
    hi = None if hi is None else _bp(hi, where + "max_share_bp")
    if lo is None and hi is None:
        raise _bad(where + "min_share_bp", "须有下限或上限", "needs a minimum or a maximum share")
    if lo is not None and hi is not None and lo > hi:
        raise _bad(where + "min_share_bp", "下限大于上限", "minimum above maximum")
    denominator = _get(doc, "denominator", str, where)
    if denominator not in DENOMINATORS:
        raise _bad(
            where + "denominator", "未知分母", f"unknown denominator, expected {DENOMINATORS}"
        )
    return Category(
        _get(doc, "id", str, where), _get(doc, "name_zh", str, where),
        _get(doc, "name_en", str, where), lo, hi, denominator,
    )


def _tranche(doc: dict[str, Any], i: int) -> Tranche:
    where = f"tranches[{i}]."
    doc = _table(doc, where)
    return Tranche(
        _get(doc, "batch", int, where), _get(doc, "year", int, where),
        _bp(_get(doc, "share_bp", int, where), where + "share_bp"),
        _get(doc, "requires_decision", bool, where),
    )


def _check_whole(rules: ProgrammeRules) -> None:
    if rules.period_start > rules.period_end:
        raise _bad("period_start", "期间起点晚于终点", "period starts after it ends")
    ids = [c.id for c in rules.categories]
    if len(set(ids)) != len(ids) or not ids:
        raise _bad("categories", "类别为空或重复", "empty or duplicate category ids")
    if sum(c.min_share_bp or 0 for c in rules.categories) > BP_WHOLE:
        raise _bad("categories", "下限之和超过100%", "minimum shares add up to more than 100%")
    batches = [t.batch for t in rules.tranches]
    if batches != list(range(1, len(batches) + 1)):
        raise _bad("tranches", "批次应为 1,2,…", "batches must be numbered 1, 2, ...")
    if sum(t.share_bp for t in rules.tranches) != BP_WHOLE:
        raise _bad("tranches", "各批比例之和须为100%", "tranche shares must add up to 100%")
    for t in rules.tranches:
        if t.year not in rules.years:
            raise _bad(
                f"tranches[{t.batch - 1}].year", "不在项目期内", "outside the programme period"
            )
    if not 1 <= rules.monthly_report_due_day <= 28:
        raise _bad("reporting.monthly_report_due_day", "应为 1..28", "must be 1..28")
    if not rules.execution_labels or min(x.min_rate_bp for x in rules.execution_labels) != 0:
        raise _bad("execution.labels", "须有 min_rate_bp = 0 的标签", "needs a label with min 0")


def _check_value(value: Any, field: str) -> None:
    """The document is stored in the programme's opening event: only tables with lower-case
    ASCII keys, lists, text free of the characters text fields refuse (ledger.fields), and
    integers within 2**53; no floats, dates or times (TOML has them, the canonical JSON not)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
                raise _bad(f"{field}{key!r}"[:80], "键应为小写 ASCII 名称",
                           "keys must be lower-case ASCII names")
            _check_value(item, f"{field}{key}.")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, f"{field.rstrip('.')}[{i}].")
    elif isinstance(value, str):
        bad = forbidden_char(value)
        if bad is not None:
            zh, en = TEXT_CHECKS[bad[2]]
            raise _bad(field.rstrip("."), f"文本含{zh}（U+{ord(bad[1]):04X}）",
                       f"text has a {en} (U+{ord(bad[1]):04X})")
        if len(value) > RULES_TEXT_MAX_CHARS:
            raise _bad(field.rstrip("."), f"文本超过 {RULES_TEXT_MAX_CHARS} 字",
                       f"text is longer than {RULES_TEXT_MAX_CHARS} characters")
    elif isinstance(value, bool):
        return
    elif not isinstance(value, int) or abs(value) > RULES_INT_ABS_MAX:
        raise _bad(field.rstrip("."), "只允许文本、整数（2**53 以内）、布尔、列表和表",
                   "only text, integers within 2**53, booleans, lists and tables are allowed "
                   f"(got {type(value).__name__})")


def parse_rules(doc: dict[str, Any]) -> ProgrammeRules:
    """Validate a decoded rules document; raise RulesInvalid naming the first bad field."""
    _check_value(doc, "")
    if _get(doc, "rules_format", int) != RULES_FORMAT:
        raise _bad("rules_format", f"仅支持 {RULES_FORMAT}", f"only {RULES_FORMAT} is supported")
    reporting = _get(doc, "reporting", dict)
    acceptance = _get(doc, "acceptance", dict)
    execution = _get(doc, "execution", dict)
    labels = tuple(_label(x, i) for i, x in enumerate(_get(execution, "labels", list,
                                                              "execution.")))
    conclusions = tuple(_get(acceptance, "conclusions", list, "acceptance."))
    targets = _get(doc, "targets", dict)
    for key in targets:
        _get(targets, key, int, "targets.")
    rules = ProgrammeRules(
        programme=_get(doc, "programme", str),
        rules_version=_get(doc, "rules_version", str),
        title_zh=_get(doc, "title_zh", str),
        title_en=_get(doc, "title_en", str),
        province_code=_get(doc, "province_code", str),
        period_start=_date(doc, "period_start"),
        period_end=_date(doc, "period_end"),
        categories=tuple(_category(c, i) for i, c in enumerate(_get(doc, "categories", list))),
        tranches=tuple(_tranche(t, i) for i, t in enumerate(_get(doc, "tranches", list))),
        monthly_report_due_day=_get(reporting, "monthly_report_due_day", int, "reporting."),
        typical_case_interval_months=_get(
            reporting, "typical_case_interval_months", int, "reporting."
        ),
        acceptance_deadline=_date(acceptance, "deadline", "acceptance."),
        acceptance_conclusions=conclusions,
        execution_labels=labels,
        targets={k: int(v) for k, v in targets.items()},
        document=doc,
    )
    if (len(set(conclusions)) != 2 or len(conclusions) != 2
            or not all(isinstance(c, str) and c for c in conclusions)):
        raise _bad("acceptance.conclusions", "须为两个不同的结论",
                   "must be exactly two different conclusions")
    if not _SLUG_RE.fullmatch(rules.programme):
        raise _bad("programme", "应为1至64位小写字母、数字或连字符",
                   "must be 1..64 lower-case letters, digits or hyphens")
    _check_whole(rules)
    return rules


def parse_rules_toml(text: str) -> ProgrammeRules:
    """Parse and validate a rules file's TOML text."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RulesInvalid(
            f"规则文件不是有效 TOML：{e}", f"rules file is not valid TOML: {e}"
        ) from None
    return parse_rules(doc)


def packaged_rules_text(programme: str) -> str:
    """The TOML text of a rules file shipped with the package, by programme slug."""
    if not isinstance(programme, str) or not _SLUG_RE.fullmatch(programme):
        raise RulesInvalid(
            "项目标识应为1至64位小写字母、数字或连字符",
            "a programme slug is 1..64 lower-case letters, digits or hyphens", "programme",
        )
    try:
        return (resources.files(__package__) / f"{programme}.toml").read_text("utf-8")
    except FileNotFoundError:
        raise RulesInvalid(
            f"没有项目 {programme} 的规则文件", f"no rules file shipped for programme {programme}"
        ) from None


def packaged_rules(programme: str) -> ProgrammeRules:
    """The validated rules shipped with the package for `programme`."""
    return parse_rules_toml(packaged_rules_text(programme))
