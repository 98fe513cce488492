"""The block index tree: skip-pointer ancestors against a naive walk, fork points, fork choice."""

from __future__ import annotations

import random

import pytest

from btcnode.chain.index import (
    AncestorCursor,
    BlockIndex,
    BlockNode,
    BlockStatus,
    StatusFlag,
    Validity,
    last_common_ancestor,
    skip_height,
    work_key,
)
from btcnode.consensus.block import BlockHeader
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import REGTEST


def _index() -> BlockIndex:
    genesis = REGTEST.genesis.header
    return BlockIndex(BlockNode(genesis, None, int(Validity.SCRIPTS), 1))


def _child(index: BlockIndex, parent: BlockNode, nonce: int, bits: int | None = None) -> BlockNode:
    header = BlockHeader(
        4, parent.hash, bytes(32), parent.time + 1, bits or parent.bits, nonce & 0xFFFFFFFF
    )
    return index.add(header, int(Validity.TREE), 0)


def _naive_ancestor(node: BlockNode, height: int) -> BlockNode:
    while node.height > height:
        assert node.parent is not None
        node = node.parent
    return node


def test_skip_heights_point_below_and_skip_far() -> None:
    assert [skip_height(h) for h in range(6)] == [0, 0, 0, 1, 0, 1]
    for height in range(2, 5000):
        assert skip_height(height) < height
    assert skip_height(1 << 20) == 0


def test_ancestor_matches_a_naive_walk_on_a_random_tree() -> None:
    rng = random.Random(7)
    index = _index()
    nodes = [index.genesis]
    for nonce in range(3000):
        parent = nodes[-1] if rng.random() < 0.9 else rng.choice(nodes)
        nodes.append(_child(index, parent, nonce))
    for node in rng.sample(nodes, 200):
        for height in {0, node.height, rng.randrange(node.height + 1)}:
            assert node.ancestor(height) is _naive_ancestor(node, height)
    with pytest.raises(ChainMisuse):
        nodes[5].ancestor(nodes[5].height + 1)


def test_last_common_ancestor_of_two_branches() -> None:
    index = _index()
    trunk = [index.genesis]
    for nonce in range(50):
        trunk.append(_child(index, trunk[-1], nonce))
    left, right = trunk[30], trunk[30]
    for nonce in range(1000, 1020):
        left = _child(index, left, nonce)
    for nonce in range(2000, 2005):
        right = _child(index, right, nonce)
    assert last_common_ancestor(left, right) is trunk[30]
    assert last_common_ancestor(left, trunk[40]) is trunk[30]
    assert last_common_ancestor(trunk[10], trunk[40]) is trunk[10]
    assert {node.hash for node in index.descendants(trunk[30])} >= {left.hash, right.hash}


def test_work_key_prefers_work_then_first_seen() -> None:
    index = _index()
    a = _child(index, index.genesis, 1)
    b = _child(index, index.genesis, 2)
    a.sequence_id, b.sequence_id = 5, 3
    assert a.chain_work == b.chain_work
    assert max((a, b), key=work_key) is b
    c = _child(index, a, 3)
    c.sequence_id = 9
    assert max((a, b, c), key=work_key) is c


def test_chain_work_sums_block_proofs() -> None:
    index = _index()
    node = _child(index, index.genesis, 1)
    assert node.chain_work == 2 * index.genesis.chain_work  # regtest: 2 hashes per block


def test_status_encodes_as_cores_nstatus_byte() -> None:
    status = BlockStatus(Validity.SCRIPTS, StatusFlag.HAVE_DATA | StatusFlag.HAVE_UNDO)
    assert status.encode() == 5 | 8 | 16
    assert BlockStatus.decode(status.encode()) == status
    failed = BlockStatus.decode(int(Validity.TREE) | StatusFlag.FAILED_CHILD)
    assert failed.failed and not failed.have_data


def test_best_header_follows_work_and_skips_failed() -> None:
    index = _index()
    a1 = _child(index, index.genesis, 1)
    a2 = _child(index, a1, 2)
    assert index.best_header is a2
    a2.status |= StatusFlag.FAILED_VALID
    index.recompute_best_header()
    assert index.best_header is a1


def test_ancestor_cursor_agrees_with_ancestor_in_any_order() -> None:
    rng = random.Random(3)
    index = _index()
    node = index.genesis
    for nonce in range(500):
        node = _child(index, node, nonce)
    cursor = AncestorCursor(node)
    heights = list(range(500, 300, -1)) + [rng.randrange(501) for _ in range(300)]
    for height in heights:
        assert cursor(height) is node.ancestor(height)
