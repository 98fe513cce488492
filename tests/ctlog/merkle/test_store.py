"""MerkleStore on MemoryStore and LevelStore against the reference tree: roots at every past
size, every proof up to 70 leaves, seeded-random proofs up to a few thousand leaves, and hash
tiles at tile levels 0-2. Every proof produced is also checked by the verifiers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.store import LevelStore, MemoryStore, Store, WriteBatch
from ctlog.merkle import EMPTY_ROOT, verify_consistency, verify_inclusion
from ctlog.merkle.reference import (
    reference_consistency_proof,
    reference_inclusion_proof,
    reference_root,
)
from ctlog.merkle.store import MerkleStore
from tests.ctlog.merkle._trees import append_in_batches, leaf_hashes

SMALL = 70  # every (index, size) and (size1, size2) pair up to here
LARGE = 3000  # seeded random proofs up to here: spans 11 full tiles and a level-1 tile
RANDOM_PROOFS = 120  # per kind; the reference is O(n) per proof
LEAVES = leaf_hashes(LARGE)


@cache
def prefix_root(size: int) -> bytes:
    return reference_root(LEAVES[:size])


@pytest.fixture(params=["memory", "level"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    else:
        with LevelStore(tmp_path / "db") as level:
            yield level


def built(store: Store, count: int, seed: int, max_batch: int) -> MerkleStore:
    tree = MerkleStore(store)
    append_in_batches(tree, store, LEAVES[:count], random.Random(seed), max_batch)
    assert tree.size == count
    return tree


def test_every_root_and_proof_up_to_70_leaves(store: Store) -> None:
    tree = built(store, SMALL, seed=1, max_batch=9)
    for size in range(SMALL + 1):
        assert tree.root(size) == prefix_root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == reference_inclusion_proof(index, LEAVES[:size])
            verify_inclusion(index, size, LEAVES[index], proof, prefix_root(size))
        for size1 in range(1, size + 1):
            proof = tree.consistency_proof(size1, size)
            assert proof == reference_consistency_proof(size1, LEAVES[:size])
            verify_consistency(size1, size, prefix_root(size1), prefix_root(size), proof)
    assert [tree.leaf_hash(i) for i in range(SMALL)] == LEAVES[:SMALL]


def test_seeded_random_proofs_up_to_3000_leaves(store: Store) -> None:
    tree = built(store, LARGE, seed=2, max_batch=700)
    rng = random.Random(3)
    for _ in range(RANDOM_PROOFS):
        size = rng.randint(1, LARGE)
        index = rng.randrange(size)
        proof = tree.inclusion_proof(index, size)
        assert proof == reference_inclusion_proof(index, LEAVES[:size]), (index, size)
        verify_inclusion(index, size, LEAVES[index], proof, tree.root(size))
    for _ in range(RANDOM_PROOFS):
        size2 = rng.randint(1, LARGE)
        size1 = rng.randint(1, size2)
        proof = tree.consistency_proof(size1, size2)
        assert proof == reference_consistency_proof(size1, LEAVES[:size2]), (size1, size2)
        verify_consistency(size1, size2, prefix_root(size1), prefix_root(size2), proof)
    for size in [
        0,
        1,
        255,
        256,
        257,
        511,
        512,
        2047,
        2048,
        2049,
        LARGE,
        *rng.sample(range(LARGE), 20),
    ]:
        assert tree.root(size) == prefix_root(size), size


def test_proofs_while_growing_one_leaf_at_a_time(store: Store) -> None:
    """Reads right after each append, before its batch is written, see the new leaf; after
    writing (and sometimes reloading from the store) they still do."""
    tree = MerkleStore(store)
    assert tree.root() == EMPTY_ROOT
    for size in range(1, 600):
        batch = WriteBatch()
        tree.append([LEAVES[size - 1]], batch)
        check_newest_leaf(tree, size)
        store.write(batch)
        if size % 7 == 0:
            tree.reload()
            check_newest_leaf(tree, size)


def check_newest_leaf(tree: MerkleStore, size: int) -> None:
    root = tree.root()
    assert root == prefix_root(size)
    proof = tree.inclusion_proof(size - 1, size)
    verify_inclusion(size - 1, size, LEAVES[size - 1], proof, root)
    if size > 1:
        proof = tree.consistency_proof(size - 1, size)
        verify_consistency(size - 1, size, prefix_root(size - 1), root, proof)


@given(
    batches=st.lists(st.integers(0, 300), min_size=1, max_size=12),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=40, deadline=None)
def test_any_batching_gives_the_reference_tree(batches: list[int], seed: int) -> None:
    store = MemoryStore()
    tree = MerkleStore(store)
    size = 0
    for count in batches:
        batch = WriteBatch()
        tree.append(LEAVES[size : size + count], batch)
        store.write(batch)
        size += count
    assert tree.size == size
    assert MerkleStore(store).root() == prefix_root(size)
    rng = random.Random(seed)
    for _ in range(5):
        past = rng.randint(0, size)
        assert tree.root(past) == prefix_root(past)
        if past:
            index = rng.randrange(past)
            verify_inclusion(
                index, past, LEAVES[index], tree.inclusion_proof(index, past), prefix_root(past)
            )
            first = rng.randint(1, past)
            proof = tree.consistency_proof(first, size)
            verify_consistency(first, size, prefix_root(first), prefix_root(size), proof)


def test_hash_tiles_are_the_level_8l_nodes(store: Store) -> None:
    tree = built(store, LARGE, seed=4, max_batch=1000)
    # Level 0: leaf hashes; tile 11 is partial (3000 = 11 * 256 + 184).
    for index, width in [(0, 256), (5, 256), (10, 256), (11, 184), (11, 7), (0, 1)]:
        first = index * 256
        assert tree.hash_tile(0, index, width) == b"".join(LEAVES[first : first + width])
    # Level 1: roots of 256-leaf subtrees; tile 0 is partial with 11 hashes.
    level8 = [reference_root(LEAVES[i * 256 : (i + 1) * 256]) for i in range(11)]
    assert tree.hash_tile(1, 0, 11) == b"".join(level8)
    assert tree.hash_tile(1, 0, 4) == b"".join(level8[:4])


def test_hash_tiles_at_level_2() -> None:
    """65,536 + 300 leaves: a full level-1 tile and a level-2 tile of width 1."""
    count = 65_536 + 300
    leaves = leaf_hashes(count, salt=b"level2")
    store = MemoryStore()
    tree = MerkleStore(store)
    append_in_batches(tree, store, leaves, random.Random(5), 4096)
    level8 = [reference_root(leaves[i * 256 : (i + 1) * 256]) for i in range(257)]
    assert tree.hash_tile(1, 0, 256) == b"".join(level8[:256])
    assert tree.hash_tile(1, 1, 1) == level8[256]
    assert tree.hash_tile(2, 0, 1) == reference_root(leaves[:65_536])
    assert tree.root() == reference_root(leaves)
    index = 65_536 + 123
    proof = tree.inclusion_proof(index, count)
    verify_inclusion(index, count, leaves[index], proof, tree.root())
