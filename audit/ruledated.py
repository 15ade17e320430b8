"""The rule audit's own dated balance: net movements per business date, and the lowest the
balance reaches on a date or any later one (standard library only: the offline verifier uses it).

The ledger judges cash and a project's unspent money by business date (docs/rules.md, R4-R6):
an entry dated D may use only what the balance keeps at the end of D and of every later date
with a movement. This is the audit's reimplementation of that measure; it shares no code with
the ledger it checks. Dates are day numbers; movements are kept in blocks of 32 days (see
`DatedBalance`), so that an entry dated long before the newest one costs one cached lookup and
a walk over the rest of its own block, and a balance costs a few hundred bytes per block.

Taking the lowest over every day of a block, not only the days with a movement, gives the same
figure: a day without one has the balance of the last day before it that has one (or of D).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right, insort
from itertools import accumulate
from typing import Any

BLOCK_DAYS_LOG2 = 5
BLOCK_DAYS = 1 << BLOCK_DAYS_LOG2
_SUM, _LOW, _DAYS, _STALE, _INDEX = range(5)
_EMPTY_BLOCK = bytes(8 * BLOCK_DAYS)


def _refresh(block: list[Any]) -> None:
    """The lowest end-of-day balance within the block, relative to the block's start."""
    running, low = 0, None
    for delta in block[_DAYS]:
        running += delta
        if low is None or running < low:
            low = running
    block[_LOW], block[_STALE] = low, False


class DatedBalance:
    """A balance kept as net movements by day number.

    Per block of 32 days: the net movement of each day, their sum, and the lowest balance
    relative to the block's start; per position in the block order, the same two figures for all
    the blocks from there on (`suffix`), valid from `valid_from` on: a movement invalidates only
    the positions up to its own block.
    """

    __slots__ = ("blocks", "last", "order", "suffix", "total", "valid_from")

    def __init__(self) -> None:
        # block number: [sum, low, array of 32 daily nets, stale, position in `order`]
        self.blocks: dict[int, list[Any]] = {}
        self.order: list[int] = []  # the block numbers with a movement, in order
        self.suffix: list[tuple[int, int]] = []
        self.valid_from = 0
        self.total = 0  # the balance after every movement
        self.last = -1  # the latest day with a movement

    def move(self, day: int, delta_fen: int) -> None:
        number = day >> BLOCK_DAYS_LOG2
        block = self.blocks.get(number)
        if block is None:
            block = self._new_block(number)
        block[_DAYS][day & (BLOCK_DAYS - 1)] += delta_fen
        block[_SUM] += delta_fen
        block[_STALE] = True
        if self.valid_from <= block[_INDEX]:
            self.valid_from = block[_INDEX] + 1
        self.total += delta_fen
        if day > self.last:  # noqa: PLR1730 - a comparison is cheaper than max() here
            self.last = day

    def _new_block(self, number: int) -> list[Any]:
        """A block's first movement: the positions renumbered, every cached suffix dropped."""
        block = self.blocks[number] = [0, 0, array("q", _EMPTY_BLOCK), True, 0]
        insort(self.order, number)
        for i, n in enumerate(self.order):
            self.blocks[n][_INDEX] = i
        self.suffix = [(0, 0)] * len(self.order)
        self.valid_from = len(self.order)
        return block

    def _suffix(self, j: int) -> tuple[int, int]:
        """(net sum, lowest balance relative to their start) of the blocks from position j."""
        suffix, order, blocks = self.suffix, self.order, self.blocks
        valid = self.valid_from
        after = suffix[valid] if valid < len(order) else None
        for k in range(valid - 1, j - 1, -1):
            block = blocks[order[k]]
            if block[_STALE]:
                _refresh(block)
            if after is None:
                after = (block[_SUM], block[_LOW])
            else:
                low = block[_SUM] + after[1]
                after = (block[_SUM] + after[0], low if low < block[_LOW] else block[_LOW])
            suffix[k] = after
        self.valid_from = min(self.valid_from, j)
        return suffix[j]

    def lowest_from(self, day: int) -> int:
        """The lowest balance at the end of `day` or of any later date with a movement."""
        if day >= self.last:
            return self.total  # the usual case: nothing is dated after it
        number = day >> BLOCK_DAYS_LOG2
        own = self.blocks.get(number)
        j = own[_INDEX] + 1 if own is not None else bisect_right(self.order, number)
        balance = lowest = self.total
        if j < len(self.order):  # the later blocks, from their cached figures
            total_after, low_after = self._suffix(j)
            balance = self.total - total_after
            if balance + low_after < lowest:  # noqa: PLR1730 - cheaper than min()
                lowest = balance + low_after
        if own is not None:
            # The later days of the day's own block, newest first: the balance at the end of
            # each is `balance` less the sum of the days after it; the lowest of them (and of
            # the end of `day`) is `balance` less the largest such sum (0: none), summed in C.
            later = own[_DAYS][(day & (BLOCK_DAYS - 1)) + 1:]
            if later:
                top = max(accumulate(reversed(later)))
                if top > 0:
                    balance -= top
        return balance if balance < lowest else lowest
