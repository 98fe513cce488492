"""A naive RFC 6962 §2.1 Merkle tree, written straight from the RFC's recursive definitions.

It recomputes every subtree from the leaves (O(n) hashes per call) and is the oracle the
fast code is tested against; a test double of a log may use it too. Inputs are leaf hashes
(`hash_leaf(entry)` for each entry; `reference_leaf_hashes` does that). Indices are 0-based.
"""

from __future__ import annotations

from collections.abc import Sequence

from ctlog.errors import UsageError
from ctlog.merkle._hashing import EMPTY_ROOT, hash_children, hash_leaf


def reference_leaf_hashes(entries: Sequence[bytes]) -> list[bytes]:
    """The Merkle leaf hash of each entry (RFC 6962 §2.1: SHA-256(0x00 || d))."""
    return [hash_leaf(entry) for entry in entries]


def reference_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) (RFC 6962 §2.1)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT  # MTH({}) = SHA-256()
    if n == 1:
        return leaf_hashes[0]  # MTH({d(0)}): the leaf hash
    k = _split(n)
    return hash_children(reference_root(leaf_hashes[:k]), reference_root(leaf_hashes[k:]))


def reference_inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) for leaf `index` = m (RFC 6962 §2.1.1); 0 <= m < n."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise UsageError(f"leaf index {index} is outside a tree of size {n}")
    return _path(index, leaf_hashes)


def reference_consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for m = `size1` (RFC 6962 §2.1.2); 0 < m <= n."""
    n = len(leaf_hashes)
    if not 0 < size1 <= n:
        raise UsageError(f"no consistency proof from size {size1} to {n}")
    return _subproof(size1, leaf_hashes, True)


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962 §2.1), for n > 1."""
    return 1 << ((n - 1).bit_length() - 1)


def _path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []  # PATH(0, {d(0)}) = {}
    k = _split(n)
    if m < k:
        return [*_path(m, d[:k]), reference_root(d[k:])]
    return [*_path(m - k, d[k:]), reference_root(d[:k])]


def _subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        # SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
        return [] if b else [reference_root(d)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, d[:k], b), reference_root(d[k:])]
    return [*_subproof(m - k, d[k:], False), reference_root(d[:k])]


__all__ = [
    "reference_consistency_proof",
    "reference_inclusion_proof",
    "reference_leaf_hashes",
    "reference_root",
]
