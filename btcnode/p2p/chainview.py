"""The best header chain by height, for the scheduler's ancestor lookups (sans-I/O).

The chainstate answers "which block is at height h" only for the active chain. Headers-first
download walks the chain of the best header (Core's m_best_header), which runs ahead of the
active chain, so `HeaderChain` keeps that chain's hashes in a list indexed by height and
brings it up to date with `refresh()` (walking back from the new best header only as far as
the old list agrees, so the cost is the number of new or reorganised headers).

`ancestor(block, height)` is Core's CBlockIndex::GetAncestor for any indexed block: O(1) on
the best header chain and on the active chain, a walk back to the fork point elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from btcnode.chain import Chainstate, IndexEntry

__all__ = ["HeaderChain"]


class HeaderChain:
    __slots__ = ("_chainstate", "_hashes")

    def __init__(self, chainstate: Chainstate) -> None:
        self._chainstate = chainstate
        self._hashes: list[bytes] = [chainstate.block_hash_at(0)]
        self.refresh()

    @property
    def height(self) -> int:
        return len(self._hashes) - 1

    @property
    def best_hash(self) -> bytes:
        return self._hashes[-1]

    def refresh(self) -> None:
        """Follow the chainstate's best header (after headers or blocks were accepted)."""
        best = self._chainstate.best_header
        hashes = self._hashes
        if best.height == len(hashes) - 1 and hashes[-1] == best.hash:
            return
        added: list[bytes] = []
        entry: IndexEntry | None = best
        while entry is not None and (
            entry.height >= len(hashes) or hashes[entry.height] != entry.hash
        ):
            added.append(entry.hash)
            entry = self._chainstate.get_index(entry.prev_hash)
        fork_height = -1 if entry is None else entry.height
        del hashes[fork_height + 1 :]
        hashes.extend(reversed(added))

    def contains(self, block_hash: bytes, height: int) -> bool:
        hashes = self._hashes
        return height < len(hashes) and hashes[height] == block_hash

    def ancestor_lookup(self, entry: IndexEntry, floor: int) -> Callable[[int], bytes]:
        """A function from height (floor..entry.height) to `entry`'s ancestor at that height."""
        if self.contains(entry.hash, entry.height):
            return self._hashes.__getitem__
        path: dict[int, bytes] = {}
        walk: IndexEntry | None = entry
        while walk is not None and walk.height >= floor:
            if self.contains(walk.hash, walk.height):
                break
            path[walk.height] = walk.hash
            walk = self._chainstate.get_index(walk.prev_hash)
        hashes = self._hashes

        def lookup(height: int) -> bytes:
            found = path.get(height)
            return found if found is not None else hashes[height]

        return lookup

    def ancestor(self, block_hash: bytes, height: int) -> bytes | None:
        """The hash of `block_hash`'s ancestor at `height`, None if unknown or above it."""
        entry = self._chainstate.get_index(block_hash)
        if entry is None or not 0 <= height <= entry.height:
            return None
        return self.ancestor_lookup(entry, height)(height)
