"""Leaves folded into the tree in runs (`CompactRange.push_event_hashes`, as the offline
verifier's hot loop folds them) give the roots that leaves pushed one at a time give, at every
size a checkpoint may name."""

from __future__ import annotations

import hashlib

import pytest

from audit.compact import RUN_LEAVES, CompactRange
from audit.offline.events import _Folder


def _hashes(n: int) -> list[bytes]:
    return [hashlib.sha256(str(i).encode()).digest() for i in range(n)]


def test_runs_give_the_roots_of_single_leaves_at_every_wanted_size() -> None:
    """Sizes inside a run, at its edges and after it: each root as one leaf at a time."""
    hashes = _hashes(3 * RUN_LEAVES + 37)
    single, roots = CompactRange(), {0: CompactRange().root()}
    for i, h in enumerate(hashes):
        single.push_event_hash(h)
        roots[i + 1] = single.root()
    wanted = {0, 1, 23, RUN_LEAVES - 1, RUN_LEAVES, RUN_LEAVES + 1, 2 * RUN_LEAVES + 5,
              len(hashes)}
    folder = _Folder(wanted)
    for h in hashes:
        folder.waiting.append(h)
        if len(folder.waiting) == folder.room:
            folder.fold()
    folder.fold()
    assert folder.roots == {size: roots[size] for size in wanted}
    assert folder.tree.root() == single.root() and folder.tree.size == len(hashes)


def test_a_subtree_cannot_stand_where_its_leaves_would_not() -> None:
    """A complete subtree pushed after a size that is not a multiple of its leaves is refused."""
    tree = CompactRange()
    tree.push_event_hash(_hashes(1)[0])
    with pytest.raises(ValueError, match="cannot follow 1 leaves"):
        tree.push_subtree(b"\0" * 32, 8)
