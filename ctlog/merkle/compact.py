"""`CompactRange`: a range of leaves [begin, end) held as the hashes of the O(log n) complete
subtrees that cover it (transparency-dev/merkle `compact.Range`).

A monitor appends the leaves it downloads to a range that starts at 0 and checks each signed
root against `root()` with no storage. Two adjacent ranges merge into one, so work can be
split and joined.

Invariants: `hashes[i]` is the hash of the i-th node of `range_nodes(begin, end)` (the
largest complete subtrees covering the range, left to right); every hash is 32 bytes;
0 <= begin <= end <= MAX_TREE_SIZE. The wire form (`serialize`) is begin and end as uint64,
then the hashes; their number follows from begin and end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.merkle._hashing import HASH_SIZE, hash_children
from ctlog.merkle.plan import fold_root, range_nodes
from ctlog.merkle.tiles import MAX_TREE_SIZE

SIZE_BYTES = 8  # RFC 6962 §3.5: tree sizes and leaf indices are uint64


@dataclass(frozen=True, slots=True)
class CompactRange:
    """Leaves [begin, end) as the hashes of the complete subtrees that cover them."""

    begin: int
    end: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        for name, value in (("begin", self.begin), ("end", self.end)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise UsageError(f"{name} must be an int, got {value!r}")
        if not 0 <= self.begin <= self.end <= MAX_TREE_SIZE:
            raise UsageError(f"range [{self.begin}, {self.end}) is not within a uint64 tree")
        if not isinstance(self.hashes, tuple):
            raise UsageError("hashes must be a tuple of bytes")
        expected = len(range_nodes(self.begin, self.end))
        if len(self.hashes) != expected:
            raise UsageError(
                f"range [{self.begin}, {self.end}) has {expected} subtrees, "
                f"got {len(self.hashes)} hashes"
            )
        for i, node_hash in enumerate(self.hashes):
            if not isinstance(node_hash, bytes) or len(node_hash) != HASH_SIZE:
                raise UsageError(f"hash {i} of the range is not {HASH_SIZE} bytes")

    @classmethod
    def empty(cls, begin: int = 0) -> CompactRange:
        """The empty range at `begin`."""
        return cls(begin, begin, ())

    def append(self, leaf_hash: bytes) -> CompactRange:
        """This range with one more leaf, given its Merkle leaf hash."""
        return self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> CompactRange:
        """This range with more leaves appended, given their Merkle leaf hashes."""
        hashes = list(self.hashes)
        end = self.end
        for leaf_hash in leaf_hashes:
            _check_hash(leaf_hash)
            end = _push(hashes, self.begin, end, 0, leaf_hash)
        return CompactRange(self.begin, end, tuple(hashes))

    def merge(self, other: CompactRange) -> CompactRange:
        """This range followed by `other`, which must begin where this one ends."""
        if not isinstance(other, CompactRange):
            raise UsageError(f"can only merge a CompactRange, got {type(other).__name__}")
        if other.begin != self.end:
            raise UsageError(f"cannot merge [{other.begin}, {other.end}) after end {self.end}")
        hashes = list(self.hashes)
        end = self.end
        for (level, _), node_hash in zip(
            range_nodes(other.begin, other.end), other.hashes, strict=True
        ):
            end = _push(hashes, self.begin, end, level, node_hash)
        return CompactRange(self.begin, end, tuple(hashes))

    def root(self) -> bytes:
        """MTH of leaves [0, end) (RFC 6962 §2.1); only for a range that begins at 0."""
        if self.begin != 0:
            raise UsageError(f"a range beginning at {self.begin} has no tree root")
        return fold_root(self.hashes)

    def serialize(self) -> bytes:
        return b"".join(
            (
                self.begin.to_bytes(SIZE_BYTES, "big"),
                self.end.to_bytes(SIZE_BYTES, "big"),
                *self.hashes,
            )
        )

    @classmethod
    def deserialize(cls, buf: bytes) -> CompactRange:
        """Parse `serialize` output; `InputError` for a short, long or inconsistent buffer."""
        if len(buf) < 2 * SIZE_BYTES:
            raise InputError(f"compact range is {len(buf)} bytes, shorter than its header")
        begin = int.from_bytes(buf[:SIZE_BYTES], "big")
        end = int.from_bytes(buf[SIZE_BYTES : 2 * SIZE_BYTES], "big")
        if begin > end:
            raise InputError(f"compact range [{begin}, {end}) is reversed")
        count = len(range_nodes(begin, end))
        body = buf[2 * SIZE_BYTES :]
        if len(body) != count * HASH_SIZE:
            raise InputError(
                f"compact range [{begin}, {end}) needs {count * HASH_SIZE} bytes of hashes, "
                f"got {len(body)}"
            )
        hashes = tuple(body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE))
        return cls(begin, end, hashes)


def _push(hashes: list[bytes], begin: int, end: int, level: int, node_hash: bytes) -> int:
    """Append the complete node (`level`, end >> level) to the range's hashes, merging it
    with left siblings that lie inside the range; return the new end."""
    if end & ((1 << level) - 1):
        raise UsageError(f"a level-{level} node cannot start at leaf {end}")
    new_end = end + (1 << level)
    if new_end > MAX_TREE_SIZE:
        raise UsageError("the range would end beyond a uint64 tree size")
    index = end >> level
    while index & 1 and (index - 1) << level >= begin:
        # The left sibling is inside the range, so it is the range's last subtree.
        node_hash = hash_children(hashes.pop(), node_hash)
        level += 1
        index >>= 1
    hashes.append(node_hash)
    return new_end


def _check_hash(leaf_hash: bytes) -> None:
    if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
        raise UsageError(f"leaf hash must be {HASH_SIZE} bytes, got {leaf_hash!r:.80}")


__all__ = ["CompactRange"]
