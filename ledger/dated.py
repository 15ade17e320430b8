"""Balances by business date: a running balance that must not go negative on any day.

Entries are often recorded out of date order (a voucher entered late, a correction dated in
the open year), so "cash available" for an entry dated D is not today's balance but the lowest
the balance reaches on D or any later day once the entry is in. A balance is kept as net
movements per day (`days`) with the days in order (`dates`); both are plain JSON for snapshots.
"""

from __future__ import annotations

from bisect import bisect_right, insort


def move(days: dict[str, int], dates: list[str], day: str, delta_fen: int) -> None:
    """Record a movement of `delta_fen` on `day` (YYYY-MM-DD)."""
    if day not in days:
        insort(dates, day)
        days[day] = 0
    days[day] += delta_fen


def lowest_from(days: dict[str, int], dates: list[str], total_fen: int, day: str) -> int:
    """The lowest balance on `day` or any later day; `total_fen` is the balance after all days.

    Entries usually arrive in date order, so the days after `day` are few: the cost is in them.
    """
    later = dates[bisect_right(dates, day):]
    running = total_fen - sum(days[d] for d in later)  # the balance at the end of `day`
    lowest = running
    for d in later:
        running += days[d]
        lowest = min(lowest, running)
    return lowest
