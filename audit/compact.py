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
RUN_LEAVES_LOG2 = 8
RUN_LEAVES = 1 << RUN_LEAVES_LOG2  # leaves hashed as one complete subtree by `push_event_hashes`


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

    def push_event_hashes(self, event_hashes: list[bytes]) -> None:
        """Append the leaves of many event hashes. A run of RUN_LEAVES that starts at a multiple
        of RUN_LEAVES is one complete subtree, hashed level by level in comprehensions, not one
        call per node: what a streaming verifier spends on the tree, halved."""
        if len(event_hashes) != RUN_LEAVES or self.size & (RUN_LEAVES - 1):
            for h in event_hashes:
                self.push_event_hash(h)
            return
        sha = hashlib.sha256
        level = [sha(_LEAF_PREFIX + h).digest() for h in event_hashes]
        while len(level) > 1:
            pairs = iter(level)
            level = [sha(_NODE_PREFIX + a + b).digest() for a, b in zip(pairs, pairs, strict=True)]
        self.push_subtree(level[0], RUN_LEAVES_LOG2)

    def push_subtree(self, subtree_root: bytes, level: int) -> None:
        """Append a complete subtree of 2**level leaves, given its root; the size must be a
        multiple of 2**level (the subtree then stands where its leaves would)."""
        if self.size & ((1 << level) - 1):
            raise ValueError(f"a subtree of level {level} cannot follow {self.size} leaves")
        acc, index, stack, sha = subtree_root, self.size >> level, self._stack, hashlib.sha256
        while index & 1:
            acc = sha(_NODE_PREFIX + stack.pop() + acc).digest()
            index >>= 1
        stack.append(acc)
        self.size += 1 << level

    def root(self) -> bytes:
        """The root hash of the tree of the `size` leaves appended (a right fold)."""
        if not self._stack:
            return EMPTY_ROOT
        acc = self._stack[-1]
        for h in reversed(self._stack[:-1]):
            acc = node_hash(h, acc)
        return acc
