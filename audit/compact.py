"""A compact range: the right frontier of a growing RFC 9162 tree.

Appending leaves one by one keeps only the hashes of the maximal complete subtrees (at most
log2(n) of them), which give the root of the tree at the current size. Verifiers use it to
recompute roots while streaming, with memory that does not grow with the log. Standard library
only: the offline verifier uses it.
"""

from __future__ import annotations

import hashlib

from audit.merkle import EMPTY_ROOT, node_hash

_NODE_PREFIX = b"\x01"
_LEAF_PREFIX = b"\x00"


class CompactRange:
    """The frontier of the tree of the leaves appended so far."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []  # complete subtree hashes, largest (leftmost) first
        self.size = 0

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf hash; return the interior nodes (level >= 1, index, hash) it completes."""
        index, level, acc = self.size, 0, leaf
        stack, completed = self._stack, []
        while index & 1:
            acc = node_hash(stack.pop(), acc)
            level, index = level + 1, index >> 1
            completed.append((level, index, acc))
        stack.append(acc)
        self.size += 1
        return completed

    def push_event_hash(self, event_hash: bytes) -> None:
        """Append the leaf of an event hash, SHA-256(0x00 || event hash); the fast path."""
        acc = hashlib.sha256(_LEAF_PREFIX + event_hash).digest()
        index, stack, sha = self.size, self._stack, hashlib.sha256
        while index & 1:
            acc = sha(_NODE_PREFIX + stack.pop() + acc).digest()
            index >>= 1
        stack.append(acc)
        self.size += 1

    def root(self) -> bytes:
        """The root hash of the tree of the `size` leaves appended (a right fold)."""
        if not self._stack:
            return EMPTY_ROOT
        acc = self._stack[-1]
        for h in reversed(self._stack[:-1]):
            acc = node_hash(h, acc)
        return acc
