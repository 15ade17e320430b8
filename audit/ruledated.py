"""The rule audit's own dated balance: net movements per business date, and the lowest the
balance reaches on a date or any later one (standard library only: the offline verifier uses it).

The ledger judges cash and a project's unspent money by business date (docs/rules.md, R4-R6):
an entry dated D may use only what the balance keeps on D and on every later day. This is the
audit's reimplementation of that measure; it shares no code with the ledger it checks.
"""

from __future__ import annotations

from bisect import bisect_right, insort


class DatedBalance:
    """A balance kept as net movements by business date (ISO strings sort as dates)."""

    __slots__ = ("dates", "days", "total")

    def __init__(self) -> None:
        self.days: dict[str, int] = {}
        self.dates: list[str] = []  # the days with a movement, in order
        self.total = 0  # the balance after every day

    def move(self, day: str, delta_fen: int) -> None:
        days = self.days
        if day in days:
            days[day] += delta_fen
        else:
            days[day] = delta_fen
            dates = self.dates
            if not dates or day > dates[-1]:
                dates.append(day)  # the usual case: entries come in date order
            else:
                insort(dates, day)
        self.total += delta_fen

    def lowest_from(self, day: str) -> int:
        """The lowest balance at the end of `day` or of any later day with a movement."""
        dates = self.dates
        if not dates or dates[-1] <= day:
            return self.total
        days = self.days
        later = [days[d] for d in dates[bisect_right(dates, day):]]
        running = self.total - sum(later)  # the balance at the end of `day`
        lowest = running
        for delta in later:
            running += delta
            if running < lowest:  # noqa: PLR1730 - a comparison is cheaper than min() here
                lowest = running
        return lowest
