"""Shared helpers for the Merkle tests: deterministic leaves and trees built in batches."""

from __future__ import annotations

import random
from collections.abc import Sequence

from common.store import MemoryStore, Store, WriteBatch
from ctlog.merkle import hash_leaf
from ctlog.merkle.store import MerkleStore


def leaf_hashes(count: int, salt: bytes = b"") -> list[bytes]:
    """Leaf hashes of `count` distinct entries."""
    return [hash_leaf(salt + i.to_bytes(8, "big")) for i in range(count)]


def append_in_batches(
    tree: MerkleStore, store: Store, leaves: Sequence[bytes], rng: random.Random, max_batch: int
) -> None:
    """Append `leaves` in written batches of random sizes from 1 to `max_batch`."""
    start = 0
    while start < len(leaves):
        stop = min(len(leaves), start + rng.randint(1, max_batch))
        batch = WriteBatch()
        tree.append(leaves[start:stop], batch)
        store.write(batch)
        start = stop


class CountingStore(MemoryStore):
    """A MemoryStore that records the key of every `get`."""

    def __init__(self) -> None:
        super().__init__()
        self.gets: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        self.gets.append(key)
        return super().get(key)


__all__ = ["CountingStore", "append_in_batches", "leaf_hashes"]
