"""Which node hashes a root or proof needs, and how to finish it from them (pure).

A node is `(level, index)`: the Merkle Tree Hash of leaves [index * 2**level,
(index + 1) * 2**level). Plans only ever name *complete* nodes of the tree at the size asked
about, so a store that keeps every complete node can answer them at any past size. A proof
at a past size may need one node that is not complete (the "ephemeral" node on the right
edge); the plan lists the O(log n) complete nodes under it and `ProofPlan.finish` hashes them
together (transparency-dev/merkle `proof.Nodes`).

Proof order is the one RFC 6962 §2.1.1 PATH and §2.1.2 PROOF produce: siblings from the
bottom up, the ephemeral node, then the complete subtrees to the left from the closest one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.errors import UsageError
from ctlog.merkle._hashing import EMPTY_ROOT, NODE_PREFIX

NodeId = tuple[int, int]
"""`(level, index)` of a complete node."""


@dataclass(frozen=True, slots=True)
class ProofPlan:
    """The complete nodes a proof needs, in proof order. The hashes of
    `nodes[ephemeral_begin:ephemeral_end]` fold (right to left) into one ephemeral node;
    every other node is a proof element as it is."""

    nodes: tuple[NodeId, ...]
    ephemeral_begin: int
    ephemeral_end: int

    def __post_init__(self) -> None:
        if not 0 <= self.ephemeral_begin <= self.ephemeral_end <= len(self.nodes):
            raise UsageError(
                f"ephemeral range [{self.ephemeral_begin}, {self.ephemeral_end}) is not "
                f"within {len(self.nodes)} nodes"
            )

    def finish(self, hashes: Sequence[bytes]) -> list[bytes]:
        """The proof, given the hashes of `nodes` in the same order."""
        if len(hashes) != len(self.nodes):
            raise UsageError(f"plan needs {len(self.nodes)} hashes, got {len(hashes)}")
        begin, end = self.ephemeral_begin, self.ephemeral_end
        if end - begin < 2:
            return list(hashes)
        return [*hashes[:begin], fold_right(hashes[begin:end]), *hashes[end:]]


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """The largest complete nodes that exactly cover leaves [begin, end), left to right.

    Each is the largest aligned subtree starting where the previous one ended that still
    fits, so sizes first grow then shrink (transparency-dev/merkle `compact.RangeNodes`).
    """
    _check_range(begin, end)
    return _range_nodes(begin, end)


def _range_nodes(begin: int, end: int) -> list[NodeId]:
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def root_plan(size: int) -> list[NodeId]:
    """The nodes whose hashes `fold_root` turns into the root of the tree of `size` leaves."""
    return range_nodes(0, size)


def fold_root(hashes: Sequence[bytes]) -> bytes:
    """The root from the hashes of `root_plan(size)`; EMPTY_ROOT for size 0 (RFC 6962 §2.1)."""
    return fold_right(hashes) if hashes else EMPTY_ROOT


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive subtrees of decreasing size: hash pairs from the right.

    RFC 6962 §2.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])), where D[0:k] is the
    largest power-of-two-sized prefix, which is the leftmost of these subtrees.
    """
    if not hashes:
        raise UsageError("cannot fold an empty list of hashes")
    sha256 = hashlib.sha256
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = sha256(NODE_PREFIX + left + result).digest()
    return result


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """The plan of the RFC 6962 §2.1.1 PATH(index, D[size]); 0 <= index < size."""
    _check_range(0, size)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise UsageError(f"leaf index {index!r} is outside a tree of size {size}")
    nodes, begin, end = _proof_nodes(0, index, size)
    return ProofPlan(tuple(nodes[1:]), begin - 1, end - 1)


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """The plan of the RFC 6962 §2.1.2 PROOF(size1, D[size2]); 0 < size1 <= size2.

    size1 = 0 has no proof here: an empty tree is consistent with everything, and a verifier
    rejects it (RFC 9162 §2.1.4.2 requires 0 < first).
    """
    _check_range(0, size2)
    if isinstance(size1, bool) or not isinstance(size1, int) or not 0 < size1 <= size2:
        raise UsageError(f"no consistency proof from size {size1!r} to {size2}")
    if size1 == size2:
        return ProofPlan((), 0, 0)
    # The largest complete subtree that ends at size1: every proof node hangs off its path.
    level = (size1 & -size1).bit_length() - 1
    index = (size1 >> level) - 1
    nodes, begin, end = _proof_nodes(level, index, size2)
    if index == 0:
        # size1 is a power of two: the verifier knows that node, it is the old root.
        return ProofPlan(tuple(nodes[1:]), begin - 1, end - 1)
    return ProofPlan(tuple(nodes), begin, end)


def _proof_nodes(level: int, index: int, size: int) -> tuple[list[NodeId], int, int]:
    """The seed node (level, index), its path to the root of a tree of `size` leaves, and
    where the ephemeral nodes are (transparency-dev/merkle `proof.nodes`).

    The fork is the highest complete ancestor of the seed; above it, its right sibling is
    the (possibly incomplete) subtree [fork end, size) and every higher sibling is a complete
    subtree to the left.
    """
    inner = (index ^ (size >> level)).bit_length() - 1
    fork_level, fork_index = level + inner, index >> inner
    nodes: list[NodeId] = [(level, index)]
    for step in range(inner):
        nodes.append((level + step, (index >> step) ^ 1))
    begin = len(nodes)
    nodes.extend(_aligned_nodes((fork_index + 1) << fork_level, size))
    end = len(nodes)
    nodes.extend(reversed(_aligned_nodes(0, fork_index << fork_level)))
    return nodes, begin, end


def _aligned_nodes(begin: int, end: int) -> list[NodeId]:
    """`range_nodes(begin, end)` when `begin` is a multiple of a power of two above
    end - begin (as both sides of a fork are): the set bits of end - begin, high to low."""
    nodes: list[NodeId] = []
    rest = end - begin
    while rest:
        level = rest.bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
        rest ^= 1 << level
    return nodes


def _check_range(begin: int, end: int) -> None:
    for name, value in (("begin", begin), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UsageError(f"{name} must be a non-negative int, got {value!r}")
    if begin > end:
        raise UsageError(f"range [{begin}, {end}) is reversed")


__all__ = [
    "NodeId",
    "ProofPlan",
    "consistency_plan",
    "fold_right",
    "fold_root",
    "inclusion_plan",
    "range_nodes",
    "root_plan",
]
