"""The active chain as an array of block index nodes by height (Core's CChain).

Invariant: `nodes[h].height == h` and `nodes[h + 1].parent is nodes[h]`; `nodes[0]` is the
genesis node. Median time past and block locators are computed from this array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from btcnode.chain.index import BlockNode
from btcnode.consensus.contextual import MEDIAN_TIME_SPAN, median_time_past
from btcnode.consensus.errors import ChainMisuse

LOCATOR_DENSE_ENTRIES = 10  # Core's LocatorEntries: steps start doubling after this many


def node_median_time_past(node: BlockNode) -> int:
    """Median of the times of `node` and its ten predecessors (Core's GetMedianTimePast)."""
    times: list[int] = []
    walk: BlockNode | None = node
    while walk is not None and len(times) < MEDIAN_TIME_SPAN:
        times.append(walk.time)
        walk = walk.parent
    times.reverse()
    return median_time_past(times)


def locator_hashes(node: BlockNode) -> list[bytes]:
    """Core's LocatorEntries from `node`: dense at the top, exponentially sparse, then genesis."""
    hashes = []
    step = 1
    walk = node
    while True:
        hashes.append(walk.hash)
        if walk.height == 0:
            return hashes
        walk = walk.ancestor(max(walk.height - step, 0))
        if len(hashes) > LOCATOR_DENSE_ENTRIES:
            step *= 2


class ActiveChain:
    __slots__ = ("nodes",)

    def __init__(self, genesis: BlockNode) -> None:
        self.nodes: list[BlockNode] = [genesis]

    @property
    def tip(self) -> BlockNode:
        return self.nodes[-1]

    @property
    def height(self) -> int:
        return len(self.nodes) - 1

    def contains(self, node: BlockNode) -> bool:
        return node.height < len(self.nodes) and self.nodes[node.height] is node

    def at(self, height: int) -> BlockNode:
        if not 0 <= height < len(self.nodes):
            raise ChainMisuse(f"height {height} is not on the active chain (tip {self.height})")
        return self.nodes[height]

    def set_tip(self, node: BlockNode) -> None:
        """Make the chain end at `node`, rewriting only the heights that differ."""
        del self.nodes[node.height + 1 :]
        missing: list[BlockNode] = []
        walk: BlockNode | None = node
        while walk is not None and not self.contains(walk):
            missing.append(walk)
            walk = walk.parent
        for item in reversed(missing):
            if item.height < len(self.nodes):
                self.nodes[item.height] = item
            else:
                self.nodes.append(item)

    def push(self, node: BlockNode) -> None:
        if node.parent is not self.tip:
            raise ChainMisuse(f"{node} does not extend the tip {self.tip}")
        self.nodes.append(node)

    def pop(self) -> BlockNode:
        if len(self.nodes) == 1:
            raise ChainMisuse("the genesis block cannot be disconnected")
        return self.nodes.pop()

    def median_time_past(self, height: int) -> int:
        return node_median_time_past(self.at(height))

    def find_fork(
        self, hashes: Sequence[bytes], lookup: Callable[[bytes], BlockNode | None]
    ) -> BlockNode:
        """The first locator entry on the active chain, else genesis (FindForkInGlobalIndex)."""
        for block_hash in hashes:
            node = lookup(block_hash)
            if node is None:
                continue
            if self.contains(node):
                return node
            if node.height > self.height and node.ancestor(self.height) is self.tip:
                return self.tip
        return self.nodes[0]
