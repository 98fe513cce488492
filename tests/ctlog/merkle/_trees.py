"""Shared helpers for the Merkle tests: deterministic leaves."""

from __future__ import annotations

from ctlog.merkle._hashing import hash_leaf


def leaf_hashes(count: int, salt: bytes = b"") -> list[bytes]:
    """Leaf hashes of `count` distinct entries."""
    return [hash_leaf(salt + i.to_bytes(8, "big")) for i in range(count)]
