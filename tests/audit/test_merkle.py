"""Tests of audit.merkle: hashing, MemoryTree, proof building from nodes, and verification."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    NodeReader,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    new_nodes_for_append,
    node_hash,
    require_consistency,
    require_inclusion,
    root,
    root_from_leaves,
    subtree_decomposition,
    verify_consistency,
    verify_inclusion,
)

MAX_N = 200
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_N)]
TREE = MemoryTree(LEAVES)
ROOTS = [root_from_leaves(LEAVES[:n]) for n in range(MAX_N + 1)]
# Sizes whose proofs get every single bit flipped; the rest get sampled flips.
EXHAUSTIVE_SIZES = (1, 2, 3, 4, 5, 7, 8, 13, 16, 17)


class CountingReader:
    """A NodeReader wrapper that counts node reads."""

    def __init__(self, inner: NodeReader) -> None:
        self.inner = inner
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.inner.node(level, index)


def bit_flips(value: bytes) -> Iterator[bytes]:
    """Yield every copy of ``value`` with exactly one bit flipped."""
    for bit in range(len(value) * 8):
        flipped = bytearray(value)
        flipped[bit // 8] ^= 1 << (bit % 8)
        yield bytes(flipped)


def one_flip(value: bytes, rng: random.Random) -> bytes:
    """Return ``value`` with one random bit flipped."""
    flipped = bytearray(value)
    bit = rng.randrange(len(value) * 8)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


# ---------------------------------------------------------------------------------------------
# Hashing and tree building
# ---------------------------------------------------------------------------------------------


def test_hash_functions_match_rfc_definitions() -> None:
    """Leaf, node and empty-tree hashes are SHA-256 with the 0x00 / 0x01 domain prefixes."""
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # The well-known RFC 6962 hash of the empty leaf.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    a, b = b"\x11" * 32, b"\x22" * 32
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != node_hash(b, a)


def test_root_from_leaves_small_trees() -> None:
    """The reference MTH: empty tree, single leaf, and the unbalanced 3-leaf tree."""
    a, b, c = LEAVES[:3]
    assert root_from_leaves([]) == EMPTY_ROOT
    assert root_from_leaves([a]) == a
    assert root_from_leaves([a, b, c]) == node_hash(node_hash(a, b), c)


def test_memory_tree_roots_match_reference_for_every_size() -> None:
    """MemoryTree.root(n) equals the recursive MTH for every n up to 200."""
    for n in range(MAX_N + 1):
        assert TREE.root(n) == ROOTS[n]


def test_memory_tree_stores_exactly_the_complete_subtrees() -> None:
    """After n appends, node (L, i) exists iff its subtree is complete, with the right hash."""
    n = 100
    tree = MemoryTree(LEAVES[:n])
    for level in range(8):
        width = 1 << level
        for index in range(n // width + 2):
            covered = LEAVES[index * width : (index + 1) * width]
            if (index + 1) * width <= n:
                assert tree.node(level, index) == root_from_leaves(covered)
            else:
                with pytest.raises(KeyError):
                    tree.node(level, index)


def test_new_nodes_for_append_returns_leaf_and_completed_parents() -> None:
    """Appending leaf i stores the leaf plus one parent per trailing 1-bit of i."""
    tree = MemoryTree()
    for i, leaf in enumerate(LEAVES[:64]):
        nodes = new_nodes_for_append(i, leaf, tree)
        trailing_ones = (i ^ (i + 1)).bit_length() - 1
        assert len(nodes) == 1 + trailing_ones
        assert nodes[0] == (0, i, leaf)
        for level, index, value in nodes:
            assert (index + 1) << level == i + 1  # each new node ends at the new leaf
            assert value == root_from_leaves(LEAVES[index << level : (index + 1) << level])
        tree.append(leaf)


def test_append_rejects_non_hash_leaf() -> None:
    """Only 32-byte leaf hashes can be appended; append_data hashes raw data itself."""
    tree = MemoryTree()
    with pytest.raises(ValueError, match="32 bytes"):
        tree.append(b"raw data")
    assert tree.append_data(b"raw data") == 0
    assert tree.root() == leaf_hash(b"raw data")


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.binary(max_size=40), max_size=80))
def test_property_memory_tree_root_equals_reference(data: list[bytes]) -> None:
    """For random leaf data, MemoryTree's root at every size equals the reference MTH."""
    leaves = [leaf_hash(d) for d in data]
    tree = MemoryTree(leaves)
    assert tree.size == len(leaves)
    for n in range(len(leaves) + 1):
        assert tree.root(n) == root_from_leaves(leaves[:n])


def test_subtree_decomposition_is_aligned_contiguous_and_short() -> None:
    """Every range [a, b) splits into at most 2*log2 aligned complete subtrees covering it."""
    for a in range(70):
        for b in range(a, 70):
            pos = a
            parts = subtree_decomposition(a, b)
            for level, index in parts:
                assert index << level == pos
                pos += 1 << level
            assert pos == b
            assert len(parts) <= 2 * max(1, (b - a).bit_length())


# ---------------------------------------------------------------------------------------------
# Proofs round trip
# ---------------------------------------------------------------------------------------------


def test_every_inclusion_proof_verifies_up_to_200() -> None:
    """For each size 1..200 and each leaf, the MemoryTree proof verifies against the MTH."""
    for n in range(1, MAX_N + 1):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            assert verify_inclusion(LEAVES[i], i, n, proof, ROOTS[n]), (i, n)


def test_every_consistency_proof_verifies_up_to_200() -> None:
    """For every pair 1 <= m <= n <= 200, the consistency proof verifies (all 20100 pairs)."""
    for n in range(1, MAX_N + 1):
        for m in range(1, n + 1):
            proof = TREE.consistency_proof(m, n)
            assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof), (m, n)
            assert (proof == []) == (m == n)


def test_proof_builders_reject_impossible_ranges() -> None:
    """Index >= size, old size 0 or > new size, and sizes beyond the tree raise ValueError."""
    with pytest.raises(ValueError):
        inclusion_proof(TREE, 5, 5)
    with pytest.raises(ValueError):
        inclusion_proof(TREE, -1, 5)
    with pytest.raises(ValueError):
        consistency_proof(TREE, 0, 5)
    with pytest.raises(ValueError):
        consistency_proof(TREE, 6, 5)
    with pytest.raises(ValueError):
        TREE.root(MAX_N + 1)
    with pytest.raises(ValueError):
        root(TREE, -1)


# ---------------------------------------------------------------------------------------------
# Tampering
# ---------------------------------------------------------------------------------------------


def _inclusion_tamperings(
    i: int, n: int, proof: list[bytes], flips: int | None, rng: random.Random
) -> Iterator[tuple[bytes, int, list[bytes], bytes]]:
    """Yield (leaf, index, proof, root) variants each with one bit flipped somewhere."""

    def flipped(value: bytes) -> Iterator[bytes]:
        if flips is None:
            yield from bit_flips(value)
        else:
            yield from (one_flip(value, rng) for _ in range(flips))

    for bad in flipped(LEAVES[i]):
        yield bad, i, proof, ROOTS[n]
    for bad in flipped(ROOTS[n]):
        yield LEAVES[i], i, proof, bad
    for k, element in enumerate(proof):
        for bad in flipped(element):
            yield LEAVES[i], i, [*proof[:k], bad, *proof[k + 1 :]], ROOTS[n]


def _check_inclusion_tampering(n: int, flips: int | None, rng: random.Random) -> None:
    for i in range(n):
        proof = TREE.inclusion_proof(i, n)
        for leaf, index, bad_proof, bad_root in _inclusion_tamperings(i, n, proof, flips, rng):
            assert not verify_inclusion(leaf, index, n, bad_proof, bad_root)
        others = range(n + 2) if flips is None else {i - 1, i + 1, i ^ 1, rng.randrange(n + 1)}
        for other in others:
            if other != i:
                assert not verify_inclusion(LEAVES[i], other, n, proof, ROOTS[n]), (i, other)
        assert not verify_inclusion(
            LEAVES[i], i, n, [*proof, proof[0] if proof else ROOTS[n]], ROOTS[n]
        )
        if proof:
            assert not verify_inclusion(LEAVES[i], i, n, proof[:-1], ROOTS[n])


def test_inclusion_tampering_exhaustive_for_small_sizes() -> None:
    """Every single-bit flip of leaf, root or proof element, any other index, and a longer or
    shorter proof all fail, for every leaf of a few small sizes."""
    rng = random.Random(0)
    for n in EXHAUSTIVE_SIZES:
        _check_inclusion_tampering(n, None, rng)


def test_inclusion_tampering_sampled_up_to_200() -> None:
    """Random bit flips, nearby indices and wrong proof lengths fail for sizes up to 200."""
    rng = random.Random(1)
    for n in range(1, MAX_N + 1, 3):
        _check_inclusion_tampering(n, 1, rng)


def test_inclusion_fails_for_sizes_with_a_different_path_length() -> None:
    """A proof checked against a size whose path has another length always fails."""
    for n in range(1, 70):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            for other in range(i + 1, 80):
                if other != n and len(TREE.inclusion_proof(i, other)) != len(proof):
                    assert not verify_inclusion(LEAVES[i], i, other, proof, ROOTS[n])


def test_inclusion_verification_does_not_pin_the_tree_size() -> None:
    """RFC 9162 verification binds leaf, index and root, but the size only shapes the path:
    the size-3 proof of leaf 0 also passes as size 4 with the same root. So the size must
    come from the signed checkpoint that carries the root, never from the prover."""
    proof = TREE.inclusion_proof(0, 3)
    assert verify_inclusion(LEAVES[0], 0, 3, proof, ROOTS[3])
    assert verify_inclusion(LEAVES[0], 0, 4, proof, ROOTS[3])


def _check_consistency_tampering(m: int, n: int, flips: int | None, rng: random.Random) -> None:
    proof = TREE.consistency_proof(m, n)
    old, new = ROOTS[m], ROOTS[n]
    flip = bit_flips if flips is None else (lambda v: (one_flip(v, rng) for _ in range(flips)))
    for bad in flip(old):
        assert not verify_consistency(m, n, bad, new, proof)
    for bad in flip(new):
        assert not verify_consistency(m, n, old, bad, proof)
    for k, element in enumerate(proof):
        for bad in flip(element):
            assert not verify_consistency(m, n, old, new, [*proof[:k], bad, *proof[k + 1 :]])
    for other in range(0, n + 1):
        if other != m:
            assert not verify_consistency(other, n, old, new, proof), (m, other, n)
    assert not verify_consistency(m, n, old, new, [*proof, new])
    if proof:
        assert not verify_consistency(m, n, old, new, proof[:-1])
        assert not verify_consistency(m, n, old, new, proof[1:])


def test_consistency_tampering_exhaustive_for_small_sizes() -> None:
    """Every bit flip of either root or any proof element, any other old size and a longer or
    shorter proof all fail, for every pair with new size in a few small sizes."""
    rng = random.Random(2)
    for n in EXHAUSTIVE_SIZES:
        for m in range(1, n + 1):
            _check_consistency_tampering(m, n, None, rng)


def test_consistency_tampering_sampled_up_to_200() -> None:
    """Random bit flips, other old sizes and wrong proof lengths fail for sampled pairs."""
    rng = random.Random(3)
    for n in range(1, MAX_N + 1, 3):
        for m in rng.sample(range(1, n + 1), min(n, 6)):
            _check_consistency_tampering(m, n, 2, rng)


def test_consistency_fails_for_new_sizes_with_a_different_path_length() -> None:
    """A proof checked against a new size whose proof has another length always fails."""
    for n in range(2, 60):
        for m in range(1, n):
            proof = TREE.consistency_proof(m, n)
            for other in range(m + 1, 70):
                if len(TREE.consistency_proof(m, other)) != len(proof):
                    assert not verify_consistency(m, other, ROOTS[m], ROOTS[n], proof)


def test_verifier_edge_cases() -> None:
    """Edge cases of RFC 9162: empty trees, equal sizes, reversed sizes, wrong hash lengths."""
    a = LEAVES[0]
    assert not verify_inclusion(a, 0, 0, [], EMPTY_ROOT)  # nothing is in the empty tree
    assert verify_inclusion(a, 0, 1, [], a)
    assert not verify_inclusion(b"", 0, 1, [], b"")  # lengths are checked, not just equality
    assert not verify_inclusion(a, 0, 2, [b"\x00" * 31], a)
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, ROOTS[5], [])
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[4], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
    assert not verify_consistency(5, 4, ROOTS[5], ROOTS[4], TREE.consistency_proof(4, 5))
    assert not verify_consistency(4, 5, ROOTS[4], ROOTS[5], [])
    assert not verify_consistency(4, 2**64, ROOTS[4], ROOTS[5], TREE.consistency_proof(4, 5))


def test_require_wrappers_raise_proof_error_with_reason() -> None:
    """require_* return None on success and raise ProofError naming the reason on failure."""
    require_inclusion(LEAVES[3], 3, 10, TREE.inclusion_proof(3, 10), ROOTS[10])
    require_consistency(3, 10, ROOTS[3], ROOTS[10], TREE.consistency_proof(3, 10))
    with pytest.raises(ProofError, match="not below tree size"):
        require_inclusion(LEAVES[3], 10, 10, [], ROOTS[10])
    with pytest.raises(ProofError, match="too short"):
        require_inclusion(LEAVES[3], 3, 10, TREE.inclusion_proof(3, 10)[:-1], ROOTS[10])
    with pytest.raises(ProofError, match="empty tree"):
        require_consistency(0, 10, EMPTY_ROOT, ROOTS[10], [])
    with pytest.raises(ProofError, match="new root"):
        require_consistency(3, 10, ROOTS[3], ROOTS[9], TREE.consistency_proof(3, 10))


# ---------------------------------------------------------------------------------------------
# Cost: proofs read O(log n) nodes
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_tree() -> MemoryTree:
    """A tree of 2**16 leaves."""
    return MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(1 << 16))


def test_node_reads_are_logarithmic(big_tree: MemoryTree) -> None:
    """At size 2**16 (and 2**16 - 1) root, inclusion and consistency proofs read at most
    2 * 17 + 2 nodes, and the proofs still verify."""
    rng = random.Random(4)
    limit = 2 * 17 + 2
    for n in (1 << 16, (1 << 16) - 1):
        full_root = big_tree.root(n)
        for _ in range(300):
            i, m = rng.randrange(n), rng.randrange(1, n + 1)
            reader = CountingReader(big_tree)
            proof = inclusion_proof(reader, i, n)
            assert reader.reads <= limit
            assert verify_inclusion(big_tree.node(0, i), i, n, proof, full_root)
            reader = CountingReader(big_tree)
            proof = consistency_proof(reader, m, n)
            assert reader.reads <= limit
            assert verify_consistency(m, n, big_tree.root(m), full_root, proof)
        reader = CountingReader(big_tree)
        root(reader, n)
        assert reader.reads <= 17
