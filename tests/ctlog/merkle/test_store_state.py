"""MerkleStore's state: what reaches the batch, reopening from LevelDB, batches that are never
written, appends that never read back, O(log n) proof reads, argument errors and corrupt
storage."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from common.store import LevelStore, MemoryStore, WriteBatch
from ctlog.errors import UsageError
from ctlog.merkle import CompactRange
from ctlog.merkle._layout import CorruptTileError
from ctlog.merkle.reference import reference_root
from ctlog.merkle.store import MAX_PENDING_TILES, MerkleStore
from tests.ctlog.merkle._trees import CountingStore, append_in_batches, leaf_hashes

LEAVES = leaf_hashes(2000)
MANY = 40_000  # leaves in about 157 level-0 tiles: more than MAX_PENDING_TILES
OTHER = leaf_hashes(2000, salt=b"other")


def answers(tree: MerkleStore) -> tuple[object, ...]:
    """What the first 1500 leaves' tree answers: size, roots, proofs and hash tiles."""
    return (
        tree.size,
        [tree.root(s) for s in range(0, 1501, 50)],
        tree.inclusion_proof(700, 1400),
        tree.consistency_proof(300, 1500),
        tree.hash_tile(0, 4, 256),
        tree.hash_tile(0, 5, 220),
        tree.hash_tile(1, 0, 5),
    )


def test_reopening_from_leveldb_gives_the_same_tree(tmp_path: Path) -> None:
    with LevelStore(tmp_path / "db") as store:
        tree = MerkleStore(store)
        append_in_batches(tree, store, LEAVES[:1500], random.Random(1), 400)
        before = answers(tree)
    with LevelStore(tmp_path / "db", create=False) as store:
        tree = MerkleStore(store)
        after = answers(tree)
        assert after == before
        # Appending after a reopen continues the same tree (the edge tiles were reloaded).
        append_in_batches(tree, store, LEAVES[1500:], random.Random(2), 300)
        assert tree.root() == reference_root(LEAVES)


def test_a_batch_never_written_leaves_the_reopened_store_at_the_old_size(tmp_path: Path) -> None:
    with LevelStore(tmp_path / "db") as store:
        tree = MerkleStore(store)
        append_in_batches(tree, store, LEAVES[:300], random.Random(3), 100)
        lost = WriteBatch()
        tree.append(LEAVES[300:900], lost)  # never written
        assert tree.size == 900
        assert tree.root() == reference_root(LEAVES[:900])
    with LevelStore(tmp_path / "db") as store:
        reopened = MerkleStore(store)
        assert reopened.size == 300
        assert reopened.root() == reference_root(LEAVES[:300])


def test_reload_drops_an_unwritten_batch_and_the_tree_goes_on_from_the_old_size() -> None:
    store = MemoryStore()
    tree = MerkleStore(store)
    append_in_batches(tree, store, LEAVES[:300], random.Random(4), 100)
    tree.append(LEAVES[300:900], WriteBatch())  # discarded by the caller
    tree.reload()
    assert tree.size == 300
    with pytest.raises(UsageError):
        tree.root(301)
    # Different leaves after the reload: tiles held in memory for the lost batch are gone.
    diverging = LEAVES[:300] + OTHER[300:900]
    append_in_batches(tree, store, diverging[300:], random.Random(5), 200)
    assert tree.root() == reference_root(diverging)
    assert tree.hash_tile(0, 2, 256) == b"".join(diverging[512:768])


def test_several_appends_into_one_batch_read_their_own_writes() -> None:
    """Appends touching more tiles than the pending limit before the caller writes anything:
    every tile they touched stays readable from memory."""
    leaves = leaf_hashes(MANY)
    store = CountingStore()
    tree = MerkleStore(store)
    store.gets.clear()
    batch = WriteBatch()
    compact = CompactRange.empty()
    rng = random.Random(6)
    while compact.end < MANY:
        count = min(MANY - compact.end, rng.randint(1, 500))
        new = leaves[compact.end : compact.end + count]
        tree.append(new, batch)
        compact = compact.extend(new)
        assert tree.root() == compact.root()
        index = rng.randrange(compact.end)
        assert tree.leaf_hash(index) == leaves[index]
    assert len({key for key, _ in batch}) > MAX_PENDING_TILES + 1
    # All reads came from memory; the stored size was read only as the pending tiles doubled.
    assert store.gets == [b"merkle/size"] * 2
    assert MerkleStore(store).size == 0  # nothing written yet
    store.write(batch)
    assert MerkleStore(store).root() == reference_root(leaves)


def test_appends_never_read_tiles_back() -> None:
    leaves = leaf_hashes(MANY)
    store = CountingStore()
    tree = MerkleStore(store)
    store.gets.clear()
    appends = 0
    for start in range(0, MANY, 100):
        batch = WriteBatch()
        tree.append(leaves[start : start + 100], batch)
        store.write(batch)
        appends += 1
    # Only the stored size, now and then, to learn which pending tiles were written.
    assert set(store.gets) == {b"merkle/size"}
    assert len(store.gets) <= appends // 50
    assert tree.root() == reference_root(leaves)


def test_a_batch_holds_the_changed_tiles_and_the_new_size() -> None:
    store = MemoryStore()
    tree = MerkleStore(store, prefix=b"m/")
    batch = WriteBatch()
    tree.append(LEAVES[:300], batch)
    keys = [key for key, _ in batch]
    # Level-0 tiles 0 (full) and 1 (44 hashes), level-1 tile 0 (1 hash), then the size.
    assert keys == [
        b"m/t" + bytes([0]) + (0).to_bytes(8, "big"),
        b"m/t" + bytes([0]) + (1).to_bytes(8, "big"),
        b"m/t" + bytes([1]) + (0).to_bytes(8, "big"),
        b"m/size",
    ]
    values = dict(batch)
    assert values[b"m/size"] == (300).to_bytes(8, "big")
    assert values[keys[0]][: 256 * 32] == b"".join(LEAVES[:256])  # row 0 first
    assert len(values[keys[0]]) == 510 * 32  # 256 + 128 + ... + 2 hashes
    empty = WriteBatch()
    tree.append([], empty)
    assert len(empty) == 0 and tree.size == 300


def test_two_prefixes_are_two_trees_in_one_store() -> None:
    store = MemoryStore()
    first, second = MerkleStore(store, b"a/"), MerkleStore(store, b"b/")
    append_in_batches(first, store, LEAVES[:500], random.Random(9), 100)
    append_in_batches(second, store, OTHER[:70], random.Random(10), 100)
    assert MerkleStore(store, b"a/").root() == reference_root(LEAVES[:500])
    assert MerkleStore(store, b"b/").root() == reference_root(OTHER[:70])
    assert {key[:2] for key, _ in store.iterate()} == {b"a/", b"b/"}


def test_proofs_read_a_few_tiles_at_any_size() -> None:
    """O(log n) reads: at most two tiles per tile level, however large the tree."""
    store = CountingStore()
    leaves = leaf_hashes(70_000, salt=b"reads")
    append_in_batches(MerkleStore(store), store, leaves, random.Random(11), 4096)
    rng = random.Random(12)
    for _ in range(50):
        tree = MerkleStore(store)  # a cold cache
        size = rng.randint(1, 70_000)
        store.gets.clear()
        tree.inclusion_proof(rng.randrange(size), size)
        assert len(store.gets) <= 2 * 3, store.gets
        store.gets.clear()
        tree.consistency_proof(rng.randint(1, size), size)
        assert len(store.gets) <= 2 * 3, store.gets


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.root(11), "tree size 11 is outside 0 .. 10"),
        (lambda t: t.root(-1), "tree size -1 is outside 0 .. 10"),
        (lambda t: t.leaf_hash(10), "leaf index 10 is outside a tree of size 10"),
        (lambda t: t.inclusion_proof(5, 5), "leaf index 5 is outside a tree of size 5"),
        (lambda t: t.inclusion_proof(0, 11), "tree size 11 is outside 0 .. 10"),
        (lambda t: t.inclusion_proof(True, 5), "leaf index True is outside a tree of size 5"),
        (lambda t: t.consistency_proof(0, 5), "no consistency proof from size 0 to 5"),
        (lambda t: t.consistency_proof(6, 5), "no consistency proof from size 6 to 5"),
        (lambda t: t.consistency_proof(1, 11), "second tree size 11 is outside 0 .. 10"),
        (lambda t: t.hash_tile(0, 0, 11), "tile 0/0 has 10 hashes at tree size 10, not 11"),
        (lambda t: t.hash_tile(0, 1, 1), "tile 0/1 has 0 hashes at tree size 10, not 1"),
        (lambda t: t.hash_tile(1, 0, 1), "tile 1/0 has 0 hashes at tree size 10, not 1"),
        (lambda t: t.hash_tile(0, 0, 0), "tile width must be an int from 1 to 256, got 0"),
        (lambda t: t.hash_tile(64, 0, 1), "tile level must be an int from 0 to 63, got 64"),
        (lambda t: t.hash_tile(0, -1, 1), "tile index must be an int from 0 to"),
        (lambda t: t.append([LEAVES[0], b"x" * 31], WriteBatch()), "leaf hash 1 is not 32 bytes"),
        (lambda t: t.append(["ab" * 16], WriteBatch()), "leaf hash 0 is not 32 bytes"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_misuse_is_a_usage_error_with_a_message(call: object, message: str) -> None:
    store = MemoryStore()
    tree = MerkleStore(store)
    append_in_batches(tree, store, LEAVES[:10], random.Random(13), 10)
    with pytest.raises(UsageError) as caught:
        call(tree)  # type: ignore[operator]
    assert message in str(caught.value)
    assert tree.size == 10 and tree.root() == reference_root(LEAVES[:10])


def test_a_rejected_append_adds_nothing_to_the_batch() -> None:
    tree = MerkleStore(MemoryStore())
    batch = WriteBatch()
    with pytest.raises(UsageError):
        tree.append([*LEAVES[:300], b""], batch)
    assert len(batch) == 0 and tree.size == 0


def test_corrupt_storage_is_reported() -> None:
    store = MemoryStore()
    append_in_batches(MerkleStore(store), store, LEAVES[:300], random.Random(14), 300)
    edge_key = b"merkle/t" + bytes([0]) + (1).to_bytes(8, "big")  # the 44-hash edge tile
    edge = store.get(edge_key)
    assert edge is not None
    store.put(edge_key, edge[:-1])
    with pytest.raises(CorruptTileError) as caught:
        MerkleStore(store)
    assert "matches no tile width" in str(caught.value)
    store.delete(edge_key)
    with pytest.raises(CorruptTileError) as caught:
        MerkleStore(store)
    assert str(caught.value) == "stored tile 0/1 should hold 44 hashes at size 300"
    store.put(b"merkle/size", b"\x01")
    with pytest.raises(CorruptTileError) as caught:
        MerkleStore(store)
    assert str(caught.value) == "stored tree size is 1 bytes, not 8"
    store.put(b"merkle/size", (300).to_bytes(8, "big"))
    store.put(edge_key, edge)
    store.delete(b"merkle/t" + bytes([0]) + (0).to_bytes(8, "big"))
    with pytest.raises(CorruptTileError) as caught:
        MerkleStore(store).leaf_hash(3)
    assert str(caught.value) == "stored tile 0/0 is missing"
