"""The vocabulary the read models share: money measures, milestone kinds, status codes with their
Chinese labels, dates as `YYYYMMDD` integers, and what "as of" means.

As of a business date D and a log position N, the views count exactly the events recorded at
notification id ≤ N whose business date is ≤ D. N defaults to the views' current position and D
to no limit. Each entry counts in the year of its own business date: a reversal counts in its
own year, never in its target's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Measures of the money facts. Amounts are positive except `budget`, whose adjustments are
# signed (new budget − old budget).
BUDGET = "budget"
APPROPRIATED = "appropriated"
APPROPRIATED_REV = "appropriated_reversed"
DISBURSED = "disbursed"
DISBURSED_REV = "disbursed_reversed"
EXPENDED = "expended"
EXPENDED_REV = "expended_reversed"
RECOVERED = "recovered"
RECOVERED_REV = "recovered_reversed"
MEASURES = (BUDGET, APPROPRIATED, APPROPRIATED_REV, DISBURSED, DISBURSED_REV, EXPENDED,
            EXPENDED_REV, RECOVERED, RECOVERED_REV)
# A reversal moves the "reversed" measure of its target's kind (from EntryReversed.target_kind).
REVERSED_MEASURE = {
    "appropriation": APPROPRIATED_REV, "disbursement": DISBURSED_REV,
    "expenditure": EXPENDED_REV, "recovery": RECOVERED_REV,
}
MEASURE_ZH = {
    BUDGET: "预算", APPROPRIATED: "下达", APPROPRIATED_REV: "下达冲销", DISBURSED: "拨付",
    DISBURSED_REV: "拨付冲销", EXPENDED: "支出", EXPENDED_REV: "支出冲销", RECOVERED: "收回",
    RECOVERED_REV: "收回冲销",
}

# Milestone kinds: the non-money county events.
REPORT = "report"
TYPICAL_CASE = "typical_case"
ACCEPTANCE = "acceptance"
CONFIRMATION = "confirmation"
BATCH_DECISION = "batch_decision"  # the kind of its command (docs/commands.md: one name)
EXCEPTION = "exception"
CLOSE = "close"

# Ratio compliance statuses.
OK, BELOW_MIN, ABOVE_MAX, EXCEPTED = "ok", "below_min", "above_max", "exception"
SHARE_STATUS_ZH = {OK: "达标", BELOW_MIN: "低于下限", ABOVE_MAX: "超过上限", EXCEPTED: "已批准例外"}
BASIS_ZH = {"plan": "预算（计划）", "actual": "实际拨付净额"}
DENOMINATOR_ZH = {"allocation": "分配额"}

DAY_MAX = 99991231
POSITION_MAX = 2**62


def day_int(day: dt.date | str) -> int:
    """A date as the integer YYYYMMDD."""
    text = day if isinstance(day, str) else day.isoformat()
    return int(text[0:4]) * 10000 + int(text[5:7]) * 100 + int(text[8:10])


def day_date(day: int) -> dt.date:
    return dt.date(day // 10000, day // 100 % 100, day % 100)


def rate_bp(part_fen: int, whole_fen: int) -> int | None:
    """part / whole in basis points, rounded down; None when whole is not positive."""
    return part_fen * 10_000 // whole_fen if whole_fen > 0 else None


@dataclass(frozen=True)
class AsOf:
    """Which events a read counts: business date ≤ `day` and log position ≤ `position`.

    Duties are judged (due or not yet due) at `day` when given; otherwise at the end of the year
    read, or today (`projections.duties.judged_on`).
    """

    day: dt.date | None = None
    position: int | None = None

    @property
    def current(self) -> bool:
        return self.day is None and self.position is None

    @property
    def day_max(self) -> int:
        return DAY_MAX if self.day is None else day_int(self.day)

    @property
    def position_max(self) -> int:
        return POSITION_MAX if self.position is None else self.position

    def to_dict(self) -> dict[str, str | int | None]:
        return {"business_date": None if self.day is None else self.day.isoformat(),
                "position": self.position}


CURRENT = AsOf()  # the default of every read: everything the views have applied
