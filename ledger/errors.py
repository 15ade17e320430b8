"""One error root for the ledger, one subclass per rule.

Every subclass carries a stable machine `code`, the `rule` of the brief it enforces (R1..R9,
or a validation family), and a message in Chinese and English. The edges (CLI, HTTP) map them
in one table each; nothing is recorded when one is raised.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

VALUE_SHOWN_MAX_CHARS = 40  # of a bad value quoted in a message


class LedgerError(Exception):
    """Root of every error the ledger raises for bad input or a broken rule.

    A subclass's message is either given (`zh`, `en`), or made from the class's templates
    (`template_zh`, `template_en`: `str.format` fields named after `details`) by `of()`, so that
    the numbers in the text are the numbers in `details` that HTTP clients read:

        raise TrancheExceeded.of("amount", batch=1, limit_fen=..., limit_yuan="5,000,000.00")
    """

    code: ClassVar[str] = "LEDGER_ERROR"
    rule: ClassVar[str] = ""
    template_zh: ClassVar[str] = ""
    template_en: ClassVar[str] = ""

    def __init__(self, zh: str, en: str, field: str | None = None, **details: Any) -> None:
        self.zh = zh
        self.en = en
        self.field = field
        self.details = details
        super().__init__(f"[{self.code}] {zh} / {en}")

    @classmethod
    def of(cls, field: str | None = None, /, **details: Any) -> Self:
        """The error with its message made from the class's templates and `details`."""
        assert cls.template_zh and cls.template_en, f"{cls.__name__} has no message templates"
        error = cls.__new__(cls)
        LedgerError.__init__(
            error,
            cls.template_zh.format(**details),
            cls.template_en.format(**details),
            field,
            **details,
        )
        return error

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable (errors cross process pools), whatever a subclass's constructor takes."""
        return (_rebuild, (type(self), self.zh, self.en, self.field, self.details))

    def to_dict(self) -> dict[str, Any]:
        """A machine-readable form: code, rule, field, both messages, details."""
        return {
            "code": self.code,
            "rule": self.rule,
            "field": self.field,
            "message_zh": self.zh,
            "message_en": self.en,
            "details": self.details,
        }


def _rebuild(
    cls: type[LedgerError], zh: str, en: str, field: str | None, details: dict[str, Any]
) -> LedgerError:
    error = cls.__new__(cls)
    LedgerError.__init__(error, zh, en, field, **details)
    return error


class InvalidField(LedgerError):
    """A field is missing, of the wrong type or malformed."""

    code = "INVALID_FIELD"
    rule = "input"


class InvalidAmount(LedgerError):
    """R1: an amount is not a whole number of fen within 1..AMOUNT_FEN_MAX."""

    code = "AMOUNT_INVALID"
    rule = "R1"
    template_zh = "金额无效（{field}={value}）：{why_zh}"
    template_en = "invalid amount ({field}={value}): {why_en}"

    def __init__(self, field: str, value: str, why_zh: str, why_en: str, **details: Any) -> None:
        if len(value) > VALUE_SHOWN_MAX_CHARS:  # a 120 KB "amount" is not echoed back whole
            value = value[:VALUE_SHOWN_MAX_CHARS] + "…"
        # Each language once: the reason is given in both, and each message takes its own.
        super().__init__(
            self.template_zh.format(field=field, value=value, why_zh=why_zh),
            self.template_en.format(field=field, value=value, why_en=why_en),
            field=field,
            value=value,
            **details,
        )


class AppropriationExceedsAllocation(LedgerError):
    """R2: appropriations received would exceed the county's allocation."""

    code = "APPROPRIATION_EXCEEDS_ALLOCATION"
    rule = "R2"
    template_zh = (
        "下达 {amount_yuan} 元将使下达合计达 {total_yuan} 元，超过分配额 {limit_yuan} 元（"
        "已下达 {used_yuan} 元，"
        "尚可下达 {left_yuan} 元）"
    )
    template_en = (
        "an appropriation of {amount_yuan} yuan would bring appropriations to {total_yuan} "
        "yuan, above the allocation of {limit_yuan} yuan ({used_yuan} yuan appropriated, "
        "{left_yuan} yuan left)"
    )


class TrancheExceeded(LedgerError):
    """R2: a batch's appropriations would exceed its tranche share."""

    code = "TRANCHE_EXCEEDED"
    rule = "R2"
    template_zh = (
        "第 {batch} 批下达 {amount_yuan} 元将超过该批额度 {limit_yuan} 元（"
        "该批已下达 {used_yuan} 元，尚可下达 {left_yuan} "
        "元）"
    )
    template_en = (
        "an appropriation of {amount_yuan} yuan would exceed the batch {batch} tranche of "
        "{limit_yuan} yuan ({used_yuan} yuan appropriated in the batch, {left_yuan} yuan "
        "left)"
    )


class BatchNotOpen(LedgerError):
    """R2: the batch is not open: wrong year, or batch 2 before the province's decision."""

    code = "BATCH_NOT_OPEN"
    rule = "R2"
    template_zh = "第 {batch} 批尚未开放：{reason_zh}"
    template_en = "batch {batch} is not open: {reason_en}"


class BudgetExceedsAllocation(LedgerError):
    """R3: the sum of project budgets would exceed the county's allocation."""

    code = "BUDGETS_EXCEED_ALLOCATION"
    rule = "R3"
    template_zh = "{what_zh}将达 {total_yuan} 元，超过分配额 {limit_yuan} 元（可用 {left_yuan} 元）"
    template_en = (
        "{what_en} would reach {total_yuan} yuan, above the allocation of {limit_yuan} yuan "
        "({left_yuan} yuan available)"
    )


class CategoryShareExceeded(LedgerError):
    """R3: budgets in a category with a maximum share would exceed it, with no exception."""

    code = "CATEGORY_MAX_SHARE_EXCEEDED"
    rule = "R3"
    template_zh = (
        "「{category_zh}」预算增加 {amount_yuan} 元将达 {total_yuan} 元，"
        "超过其上限 {limit_yuan} 元（分配额的 {share_percent}%，"
        "或已批准例外的额度），尚可安排 {left_yuan} 元"
    )
    template_en = (
        "{category_en} budgets would grow by {amount_yuan} yuan to {total_yuan} yuan, above "
        "their ceiling of {limit_yuan} yuan ({share_percent}% of the allocation, or an approved "
        "exception's limit); {left_yuan} yuan left"
    )


class DisbursementExceedsBudget(LedgerError):
    """R4: a disbursement would exceed the project's remaining budget."""

    code = "DISBURSEMENT_EXCEEDS_BUDGET"
    rule = "R4"
    template_zh = "项目 {project_code}（预算 {limit_yuan} 元，已拨付 {used_yuan} 元）：{reason_zh}"
    template_en = (
        "project {project_code} (budget {limit_yuan} yuan, {used_yuan} yuan disbursed): {reason_en}"
    )


class InsufficientCash(LedgerError):
    """R4: a disbursement or recovery would exceed the county's cash."""

    code = "INSUFFICIENT_CASH"
    rule = "R4"
    template_zh = (
        "{what_zh} {amount_yuan} 元超过县在 {business_date} 及其后的可用资金 {left_yuan} 元"
    )
    template_en = (
        "{what_en} of {amount_yuan} yuan exceeds the county's cash of {left_yuan} yuan available "
        "on {business_date} and after"
    )


class ExpenditureExceedsDisbursed(LedgerError):
    """R5: an expenditure would exceed what was disbursed to the project and not yet spent."""

    code = "EXPENDITURE_EXCEEDS_DISBURSED"
    rule = "R5"
    template_zh = (
        "支出 {amount_yuan} 元超过项目 {project_code} 在 {business_date} 及其后"
        "已拨付未支出的 {left_yuan} 元"
    )
    template_en = (
        "an expenditure of {amount_yuan} yuan exceeds project {project_code}'s disbursed "
        "and unspent {left_yuan} yuan on {business_date} and after"
    )


class ReversalTargetInvalid(LedgerError):
    """R6: a reversal names no reversible entry of this county."""

    code = "REVERSAL_TARGET_INVALID"
    rule = "R6"
    template_zh = "冲销 {target_entry_id} 无效：{reason_zh}"
    template_en = "the reversal of {target_entry_id} is invalid: {reason_en}"


class ReversalExceedsEntry(LedgerError):
    """R6: reversals of an entry would exceed the entry."""

    code = "REVERSAL_EXCEEDS_ENTRY"
    rule = "R6"
    template_zh = (
        "冲销 {amount_yuan} 元超过条目 {target_entry_id} 未冲销的 {left_yuan} 元（"
        "原额 {limit_yuan} 元，已冲"
        "销 {used_yuan} 元）"
    )
    template_en = (
        "a reversal of {amount_yuan} yuan exceeds the {left_yuan} yuan of entry {target_entry_id} "
        "not yet reversed (entry {limit_yuan} yuan, {used_yuan} yuan reversed)"
    )


class ReversalBelowSpent(LedgerError):
    """R6: reversing a disbursement would take back money already spent or passed on."""

    code = "REVERSAL_BELOW_SPENT"
    rule = "R6"
    template_zh = (
        "冲销 {amount_yuan} 元将低于项目 {project_code} 已支出的金额："
        "在 {business_date} 及其后已拨付未支出仅 {left_yuan} "
        "元"
    )
    template_en = (
        "a reversal of {amount_yuan} yuan would go below what project {project_code} already "
        "spent: only {left_yuan} yuan is disbursed and unspent on {business_date} and after"
    )


class DateOutsidePeriod(LedgerError):
    """R7: the business date lies outside the programme period or in the future."""

    code = "DATE_OUTSIDE_PERIOD"
    rule = "R7"
    template_zh = "业务日期 {business_date} {reason_zh}"
    template_en = "business date {business_date} {reason_en}"


class PeriodClosed(LedgerError):
    """R7: the business date lies in a closed year (period lock)."""

    code = "PERIOD_CLOSED"
    rule = "R7"
    template_zh = (
        "{year} 年度已结账（业务日期 {business_date}）：更正请在未结年度以新条目记录并引用原条目"
    )
    template_en = (
        "year {year} is closed (business date {business_date}): record corrections in the "
        "open year, referencing the original entry"
    )


class NotPermitted(LedgerError):
    """R8: the actor's role or scope does not allow the command."""

    code = "NOT_PERMITTED"
    rule = "R8"


class EntryConflict(LedgerError):
    """R9: an entry id seen before, now with different content."""

    code = "ENTRY_ID_CONFLICT"
    rule = "R9"
    template_zh = (
        "条目 {entry_id} 已存在且内容不同（版本 {version}）：重试请原样重发，新条目请用新的条目编号"
    )
    template_en = (
        "entry {entry_id} exists with different content (version {version}): resend a retry "
        "unchanged, give a new entry a new id"
    )


class UnknownProject(LedgerError):
    """The command names a project the county has not registered."""

    code = "UNKNOWN_PROJECT"
    rule = "reference"
    template_zh = "县 {county_code} 没有项目 {project_code}"
    template_en = "county {county_code} has no project {project_code}"


class UnknownCounty(LedgerError):
    """The command names a county not admitted to the programme."""

    code = "UNKNOWN_COUNTY"
    rule = "reference"
    template_zh = "县 {county_code} 未纳入项目 {programme}"
    template_en = "county {county_code} is not admitted to {programme}"


class UnknownProgramme(LedgerError):
    """The command names a programme that was never opened."""

    code = "UNKNOWN_PROGRAMME"
    rule = "reference"
    template_zh = "项目 {programme} 尚未开设"
    template_en = "programme {programme} was never opened"


class AlreadyExists(LedgerError):
    """A programme, county or project with this identity exists with other content."""

    code = "ALREADY_EXISTS"
    rule = "reference"
    template_zh = "{what_zh}已记录，不能再次记录"
    template_en = "{what_en} is already recorded"


class AllocationExceedsProgramme(LedgerError):
    """The sum of county allocations would exceed the programme's total fund."""

    code = "ALLOCATIONS_EXCEED_PROGRAMME"
    rule = "R2"


class RulesInvalid(LedgerError):
    """The programme rules file is malformed or inconsistent."""

    code = "RULES_INVALID"
    rule = "rules"


class ConcurrencyExhausted(LedgerError):
    """Too many concurrent writers to one stream: retries exhausted; nothing was recorded."""

    code = "CONCURRENCY_RETRIES_EXHAUSTED"
    rule = "concurrency"


class StoreInconsistent(LedgerError):
    """The stored events contradict each other (an event names a project or an entry that the
    events before it never recorded): the store was changed outside the ledger; verify it."""

    code = "STORE_INCONSISTENT"
    rule = "integrity"


class ImportFailed(LedgerError):
    """An import file was rejected as a whole: one of its lines broke a rule."""

    code = "IMPORT_REJECTED"
    rule = "import"


class InvalidText(InvalidField):
    """A text field is too long, or holds a character that has no place in a record people
    read: a control, bidi-control, zero-width, line-separator or other format character, an
    unusual space, a lone surrogate or a noncharacter. `details["check"]` names which (a text
    that is missing or empty is INVALID_FIELD with check `type` or `required`)."""

    code = "INVALID_TEXT"
    rule = "input"


class InputMalformed(LedgerError):
    """A file or argument cannot be read as a command at all: not UTF-8, not JSON, a duplicate
    key, nested too deep, too large, or a number outside I-JSON. A usage error (CLI exit 2)."""

    code = "INPUT_MALFORMED"
    rule = "input"


class StoreUnavailable(LedgerError):
    """The store cannot be reached, read or written (server unreachable, read-only file, disk
    full); nothing was recorded. An I/O error (CLI exit 2)."""

    code = "STORE_UNAVAILABLE"
    rule = "io"
    template_zh = "{what_zh}，命令未完成，未记录任何内容（{cause}）"
    template_en = "{what_en}; the command did not complete and nothing was recorded ({cause})"


class StoreUrlInvalid(InvalidField):
    """The store URL (`--db`, LEDGER_DB) is not one the ledger can open: a usage error (CLI
    exit 2), the operator's configuration rather than a command's field."""

    code = "STORE_URL_INVALID"
    rule = "io"
    template_zh = "存储地址无效（{url}）：{why_zh}"
    template_en = "invalid store URL ({url}): {why_en}"


class UnknownEntry(LedgerError):
    """A read names an entry the county's stream does not hold."""

    code = "UNKNOWN_ENTRY"
    rule = "reference"
    template_zh = "县 {county} 没有条目 {entry}"
    template_en = "county {county} has no entry {entry}"
