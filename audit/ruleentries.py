"""The rule audit's memory of every entry: its id (per county, for R9) and what a reversal needs
of it (R6: kind, amount, business date, project or batch), in one flat array (standard library
only: the offline verifier uses it).

A dict of a million entries with their details costs some 350 bytes each; here an entry costs
one slot of an open-addressing table: three 8-byte cells side by side (the key, the
amount-and-kind, the date-and-reference), about 30 bytes at the table's load. Side by side, as
the audit looks an entry up and then writes its details: one cache miss per entry where three
arrays cost three (a million entries are larger than the caches). The key is Python's 64-bit
hash of (county, entry id), keyed at random per process (SipHash): two different ids of one
county share a key with probability about n² / 2⁶⁵ (3·10⁻⁸ for a million entries), which would
be reported as a duplicate id; an id is never missed.
"""

from __future__ import annotations

from array import array

LOAD_MAX = 0.8
SIZE_MIN = 1 << 12
KINDS = ("", "appropriation", "disbursement", "expenditure", "recovery")
KIND_CODE = {k: i for i, k in enumerate(KINDS) if k}
AMOUNT_BITS = 47  # amounts up to AMOUNT_FEN_MAX < 2**44; 3 bits of kind above them
REF_BITS = 16


def _size_for(entries: int) -> int:
    """Slots for `entries` at most LOAD_MAX full (not a power of two: memory is the limit)."""
    return max(SIZE_MIN, int(entries / LOAD_MAX) + 1024)


CELLS = 3  # per slot: key, amount | kind << AMOUNT_BITS, day number << REF_BITS | reference
KEY, MONEY, WHERE = range(CELLS)


class EntryTable:
    """Open addressing with linear probing over the keys; key 0 marks an empty slot. A slot is
    named by the position of its first cell (a multiple of CELLS)."""

    __slots__ = ("cells", "end", "limit", "size", "used")

    def __init__(self, expected_entries: int = 0) -> None:
        self._allocate(_size_for(expected_entries))

    def _allocate(self, size: int) -> None:
        self.cells = array("q", bytes(8 * CELLS * size))
        self.size, self.end, self.used = size, CELLS * size, 0
        self.limit = int(LOAD_MAX * size)  # at most this many keys before the table grows

    @staticmethod
    def key(county: int, entry_id: str) -> int:
        return hash((county, entry_id)) or 1

    def slot(self, key: int) -> int:
        """The slot holding `key`, or the empty slot where it would go."""
        cells, end = self.cells, self.end
        i = key % self.size * CELLS
        while True:
            k = cells[i]
            if k == key or k == 0:  # noqa: PLR1714 - no tuple built per probe
                return i
            i += CELLS
            if i == end:
                i = 0

    def claim(self, key: int) -> tuple[int, bool]:
        """The slot for `key` and whether it is new there; a new key is stored (growing the
        table first if it is full), with nothing remembered of it yet."""
        i = self.slot(key)
        if self.cells[i]:
            return i, False
        if self.used + 1 > self.limit:
            self._grow()
            i = self.slot(key)
        self.cells[i] = key
        self.used += 1
        return i, True

    def put(self, key: int, kind: int, amount_fen: int, day: int, ref: int) -> bool:
        """Remember an entry (a later one with the same key replaces it, as in the ledger);
        False if the key was there before."""
        i, new = self.claim(key)
        self.set(i, kind, amount_fen, day, ref)
        return new

    def set(self, i: int, kind: int, amount_fen: int, day: int, ref: int) -> None:
        """What a reversal needs of the entry in slot i (day < 2**16, ref < 2**16)."""
        if not (0 <= day < 1 << (32 - REF_BITS) and 0 <= ref < 1 << REF_BITS):
            raise ValueError(f"day number {day} or reference {ref} out of the table's range")
        self.cells[i + MONEY] = amount_fen | kind << AMOUNT_BITS
        self.cells[i + WHERE] = day << REF_BITS | ref

    def forget(self, i: int) -> None:
        """Nothing remembered of the entry in slot i (its key stays)."""
        self.cells[i + MONEY] = self.cells[i + WHERE] = 0

    def get(self, key: int) -> tuple[int, int, int, int] | None:
        """(kind code, amount, day number, reference) of the entry, or None."""
        i = self.slot(key)
        if self.cells[i] == 0:
            return None
        money, where = self.cells[i + MONEY], self.cells[i + WHERE]
        return (money >> AMOUNT_BITS, money & ((1 << AMOUNT_BITS) - 1), where >> REF_BITS,
                where & ((1 << REF_BITS) - 1))

    def _grow(self) -> None:
        old = self.cells
        self._allocate(2 * self.size)
        for at in range(0, len(old), CELLS):
            if old[at]:
                i = self.slot(old[at])
                self.cells[i:i + CELLS] = old[at:at + CELLS]
                self.used += 1
