"""RFC 9162 (section 2.1) Merkle tree hashing, proofs and their verification.

Proofs are built from the hashes of complete, aligned subtrees read through a ``NodeReader``,
so a store that keeps every complete node by (level, index) serves any proof in O(log n) reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "MemoryTree",
    "NodeReader",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "new_nodes_for_append",
    "node_hash",
    "require_consistency",
    "require_inclusion",
    "root",
    "root_from_leaves",
    "subtree_decomposition",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
# Tree sizes and indices are uint64 on the wire (RFC 9162); anything larger is malformed.
MAX_TREE_SIZE = 2**64 - 1
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """An inclusion or consistency proof failed to verify; the message says why. Plain, like
    `audit.note.NoteError` and for the same reason; online edges map it to
    `audit.errors.ProofInvalid`."""


class NodeReader(Protocol):
    """Read access to the hashes of complete subtrees.

    ``node(level, index)`` is the hash of the complete subtree covering leaves
    ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes.
    """

    def node(self, level: int, index: int) -> bytes:
        """Return the stored hash of complete subtree (level, index); raise if absent."""
        ...


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash, SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash, SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) by the plain recursive definition (reference for tests; O(n))."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split_point(n)
    return node_hash(root_from_leaves(leaf_hashes[:k]), root_from_leaves(leaf_hashes[k:]))


# ---------------------------------------------------------------------------------------------
# Building: roots and proofs from complete subtrees
# ---------------------------------------------------------------------------------------------


def _split_point(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (n >= 2), RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_decomposition(start: int, end: int) -> list[tuple[int, int]]:
    """Split leaves ``[start, end)`` into maximal aligned complete subtrees, left to right.

    Returns (level, index) pairs. Each subtree is the largest one that both starts at the
    current position (so is aligned) and fits before ``end``.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    out: list[tuple[int, int]] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            # An aligned subtree at ``start`` can be no larger than start's lowest set bit.
            level = min(level, (start & -start).bit_length() - 1)
        out.append((level, start >> level))
        start += 1 << level
    return out


def _range_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """Return MTH(D[start:end]) for a range the RFC recursion produces (end > start).

    Such ranges start at a multiple of the next power of two >= their size, so their
    decomposition is the binary expansion of the size, and MTH is the right fold of it.
    """
    size = end - start
    if size <= 0 or start % (1 << (size - 1).bit_length()):
        raise ValueError(f"[{start}, {end}) is not a subtree of the RFC 9162 recursion")
    parts = subtree_decomposition(start, end)
    acc = reader.node(*parts[-1])
    for level, index in reversed(parts[:-1]):
        acc = node_hash(reader.node(level, index), acc)
    return acc


def root(reader: NodeReader, size: int) -> bytes:
    """Return the root hash of the tree of the first ``size`` leaves (popcount(size) reads)."""
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError(f"invalid tree size {size}")
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(reader, 0, size)


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """Return PATH(index, D[size]) of RFC 9162 2.1.3.1, leaf-side first.

    Walks down from the root; the sibling of each step is a single complete node, except
    the first time the walk turns left into a complete subtree (then it is an incomplete
    right range, folded from at most log2(size) nodes). Total reads <= 2 * log2(size).
    """
    if not 0 <= index < size <= MAX_TREE_SIZE:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split_point(end - start)
        mid = start + k
        if index < mid:
            path.append(_range_hash(reader, mid, end))
            end = mid
        else:
            path.append(reader.node(k.bit_length() - 1, start // k))
            start = mid
    path.reverse()
    return path


def consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]) of RFC 9162 2.1.4.1, leaf-side first.

    Iterative form of SUBPROOF: ``m`` is the old size relative to the current subtree
    ``[start, end)`` and ``complete`` is SUBPROOF's boolean flag. Equal sizes give [].
    """
    if not 0 < old_size <= new_size <= MAX_TREE_SIZE:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    path: list[bytes] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split_point(end - start)
        mid = start + k
        if m <= k:
            path.append(_range_hash(reader, mid, end))
            end = mid
        else:
            path.append(reader.node(k.bit_length() - 1, start // k))
            start, m, complete = mid, m - k, False
    if not complete:
        # The old tree's own subtree hash is only omitted when it is the whole old tree,
        # which the verifier already holds as the old root.
        path.append(_range_hash(reader, start, end))
    path.reverse()
    return path


def new_nodes_for_append(
    size_before: int, leaf: bytes, reader: NodeReader
) -> list[tuple[int, int, bytes]]:
    """Return the (level, index, hash) nodes that appending leaf hash ``leaf`` completes.

    The leaf itself is stored at (0, size_before); each time the new node is a right child
    (odd index), its left sibling is already stored and their parent becomes complete.
    """
    if not 0 <= size_before < MAX_TREE_SIZE:
        raise ValueError(f"cannot append to a tree of size {size_before}")
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
    nodes = [(0, size_before, leaf)]
    level, index, acc = 0, size_before, leaf
    while index & 1:
        acc = node_hash(reader.node(level, index - 1), acc)
        level, index = level + 1, index >> 1
        nodes.append((level, index, acc))
    return nodes


class MemoryTree:
    """An in-memory append-only tree that keeps every complete subtree node."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._size = 0
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def node(self, level: int, index: int) -> bytes:
        """Return the hash of the complete subtree at (level, index); KeyError if none."""
        try:
            return self._nodes[(level, index)]
        except KeyError:
            raise KeyError(f"no complete subtree at level {level}, index {index}") from None

    def append(self, leaf: bytes) -> int:
        """Append a leaf hash (``leaf_hash(data)``) and return its index."""
        for level, index, value in new_nodes_for_append(self._size, leaf, self):
            self._nodes[(level, index)] = value
        self._size += 1
        return self._size - 1

    def append_data(self, data: bytes) -> int:
        """Append a leaf by its data, hashing it with ``leaf_hash``; return its index."""
        return self.append(leaf_hash(data))

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (default: all)."""
        return root(self, self._checked_size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
        return inclusion_proof(self, index, self._checked_size(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return the consistency proof from ``old_size`` to ``new_size`` (default: all)."""
        return consistency_proof(self, old_size, self._checked_size(new_size))

    def _checked_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"tree size {size} exceeds the {self._size} leaves appended")
        return size


# ---------------------------------------------------------------------------------------------
# Verification (RFC 9162 2.1.3.2 and 2.1.4.2). verify_* return bool; require_* raise ProofError.
# ---------------------------------------------------------------------------------------------


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def _inclusion_args_failure(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> str | None:
    """Return why the inputs cannot form a valid inclusion proof, or None."""
    if not 0 <= size <= MAX_TREE_SIZE or index < 0:
        return f"invalid leaf index {index} or tree size {size}"
    if index >= size:
        return f"leaf index {index} is not below tree size {size}"
    # The RFC compares hashes only; lengths are checked so that, e.g., an empty leaf hash
    # cannot "verify" against an empty root in a one-leaf tree with an empty proof.
    if len(leaf) != HASH_SIZE or len(root_hash) != HASH_SIZE:
        return f"leaf hash and root must be {HASH_SIZE} bytes"
    if any(len(p) != HASH_SIZE for p in proof):
        return f"every proof element must be {HASH_SIZE} bytes"
    return None


def _inclusion_failure(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> str | None:
    """Return why the inclusion proof fails (RFC 9162 2.1.3.2), or None if it verifies."""
    reason = _inclusion_args_failure(leaf, index, size, proof, root_hash)
    if reason is not None:
        return reason
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return "proof is too long"
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        return "proof is too short"
    return None if r == root_hash else "computed root does not match the expected root"


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """Return whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree ``root_hash``."""
    return _inclusion_failure(leaf, index, size, proof, root_hash) is None


def require_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Like ``verify_inclusion`` but raise ``ProofError`` with the reason on failure."""
    reason = _inclusion_failure(leaf, index, size, proof, root_hash)
    if reason is not None:
        raise ProofError(f"inclusion proof for leaf {index} of {size}: {reason}")


def _consistency_args_failure(old_size: int, new_size: int, proof: Sequence[bytes]) -> str | None:
    """Return why the sizes and proof shape cannot form a valid proof, or None."""
    if not 0 <= old_size <= MAX_TREE_SIZE or not 0 <= new_size <= MAX_TREE_SIZE:
        return "tree sizes must be uint64"
    if old_size > new_size:
        return "old size is larger than new size"
    if old_size == 0:
        # RFC 9162 defines proofs for 0 < first only: every tree extends the empty tree,
        # so such a "proof" would prove nothing and is refused rather than waved through.
        return "no consistency proof exists from the empty tree"
    if any(len(p) != HASH_SIZE for p in proof):
        return f"every proof element must be {HASH_SIZE} bytes"
    return None


def _consistency_failure(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> str | None:
    """Return why the consistency proof fails, or None if it verifies."""
    reason = _consistency_args_failure(old_size, new_size, proof)
    if reason is not None:
        return reason
    if old_size == new_size:
        if proof:
            return "sizes are equal but the proof is not empty"
        # Byte comparison only: the shared vectors accept equal sizes with equal roots of
        # any length, as a tree head is trivially consistent with itself.
        return None if old_root == new_root else "sizes are equal but the roots differ"
    if not proof:
        return "proof is empty"
    return _consistency_path_failure(old_size, new_size, old_root, new_root, proof)


def _consistency_path_failure(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: Sequence[bytes]
) -> str | None:
    """RFC 9162 2.1.4.2 steps 2-7, for 0 < first < second and a non-empty proof."""
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return "proof is too long"
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        return "proof is too short"
    if fr != first_hash:
        return "computed old root does not match"
    if sr != second_hash:
        return "computed new root does not match"
    return None


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Return whether ``proof`` shows the tree ``new_root`` extends the tree ``old_root``.

    Equal sizes need an empty proof and equal roots; an old size of 0 always fails.
    """
    return _consistency_failure(old_size, new_size, old_root, new_root, proof) is None


def require_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Like ``verify_consistency`` but raise ``ProofError`` with the reason on failure."""
    reason = _consistency_failure(old_size, new_size, old_root, new_root, proof)
    if reason is not None:
        raise ProofError(f"consistency proof from {old_size} to {new_size}: {reason}")
