"""Fork choice: the most cumulative work wins, ties go to the block whose data came first.

`Candidates` is Core's setBlockIndexCandidates: nodes whose block and every ancestor's block
are stored (`have_chain`), not failed, at least as good as the tip by `work_key`. The best
one is where the active chain should end, unless the path to it holds a failed block.

Failure flags follow Core's InvalidBlockFound / InvalidateBlock / ResetBlockFailureFlags:
the block itself gets FAILED_VALID, every descendant FAILED_CHILD (eagerly, so a descendant
is never taken for a candidate), and reconsidering a block clears the flags of it, its
descendants and its ancestors. Every changed node is marked dirty for persistence.
"""

from __future__ import annotations

from btcnode.chain.active import ActiveChain
from btcnode.chain.index import BlockIndex, BlockNode, StatusFlag, Validity, work_key


class Candidates:
    __slots__ = ("_nodes",)

    def __init__(self) -> None:
        self._nodes: set[BlockNode] = set()

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: BlockNode) -> bool:
        return node in self._nodes

    def add(self, node: BlockNode) -> None:
        self._nodes.add(node)

    def discard(self, node: BlockNode) -> None:
        self._nodes.discard(node)

    def best(self) -> BlockNode | None:
        return max(self._nodes, key=work_key, default=None)

    def prune(self, tip: BlockNode) -> None:
        """Drop the candidates worse than `tip` (Core's PruneBlockIndexCandidates)."""
        floor = work_key(tip)
        self._nodes = {node for node in self._nodes if work_key(node) >= floor}

    def rebuild(self, index: BlockIndex, floor: BlockNode) -> None:
        """Every eligible node at least as good as `floor` (after flags were changed)."""
        bar = work_key(floor)
        self._nodes = {node for node in index if is_eligible(node) and work_key(node) >= bar}


def is_eligible(node: BlockNode) -> bool:
    return node.have_chain and not node.failed and node.validity >= Validity.TRANSACTIONS


def valid_floor(tip: BlockNode) -> BlockNode:
    """The tip, or if it is marked failed, its highest ancestor that is not."""
    walk = tip
    while walk.failed and walk.parent is not None:
        walk = walk.parent
    return walk


def find_most_work_chain(candidates: Candidates, active: ActiveChain) -> BlockNode:
    """Where the active chain should end (Core's FindMostWorkChain).

    Candidates whose path to the active chain holds a failed or missing block are dropped.
    Returns the tip itself (or its valid floor) when nothing is better.
    """
    floor = valid_floor(active.tip)
    while True:
        best = candidates.best()
        if best is None or work_key(best) <= work_key(floor):
            return floor
        if _path_usable(best, active):
            return best
        candidates.discard(best)


def _path_usable(node: BlockNode, active: ActiveChain) -> bool:
    walk: BlockNode | None = node
    while walk is not None and not active.contains(walk):
        if walk.failed or not walk.has(StatusFlag.HAVE_DATA):
            return False
        walk = walk.parent
    return walk is not None and not walk.failed


def link_block_data(index: BlockIndex, candidates: Candidates, node: BlockNode) -> None:
    """`node`'s data was stored: it and every waiting descendant may now have a full chain."""
    if node.parent is not None and not node.parent.have_chain:
        return
    todo = [node]
    while todo:
        walk = todo.pop()
        walk.have_chain = True
        if is_eligible(walk):
            candidates.add(walk)
        todo.extend(
            child
            for child in index.children(walk)
            if child.has(StatusFlag.HAVE_DATA) and not child.have_chain
        )


def mark_invalid(index: BlockIndex, candidates: Candidates, node: BlockNode) -> None:
    """`node` broke a rule: FAILED_VALID on it, FAILED_CHILD on its descendants."""
    node.status |= StatusFlag.FAILED_VALID
    index.mark_dirty(node)
    candidates.discard(node)
    for child in index.descendants(node):
        if not child.status & StatusFlag.FAILED_CHILD:
            child.status |= StatusFlag.FAILED_CHILD
            index.mark_dirty(child)
        candidates.discard(child)
    if index.best_header.failed:
        index.recompute_best_header()


def reset_failure_flags(index: BlockIndex, node: BlockNode) -> None:
    """Clear the failure flags of `node`, its descendants and its ancestors."""
    cleared = ~int(StatusFlag.failed())
    for walk in (node, *index.descendants(node)):
        if walk.failed:
            walk.status &= cleared
            index.mark_dirty(walk)
    ancestor = node.parent
    while ancestor is not None:
        if ancestor.failed:
            ancestor.status &= cleared
            index.mark_dirty(ancestor)
        ancestor = ancestor.parent
    index.recompute_best_header()
