"""`Node.subscribe`: every chain and mempool change arrives as events, in the order it happened."""

from __future__ import annotations

from btcnode.mempool.results import RemovalReason
from btcnode.node import (
    BlockConnected,
    BlockDisconnected,
    Node,
    NodeEvent,
    TipChanged,
    TxAdded,
    TxRemoved,
)
from tests.btcnode.scenarios.helpers import (
    RBF_SEQUENCE,
    T0,
    coinbase_coin,
    key,
    mature_node,
    new_node,
    p2wpkh,
    pay,
)

MINER, ALICE, BOB = key("miner"), key("alice"), key("bob")


def _record(node: Node) -> list[NodeEvent]:
    events: list[NodeEvent] = []
    node.subscribe(events.append)
    return events


def test_generated_blocks_connect_in_order_then_move_the_tip() -> None:
    node = new_node()
    events = _record(node)
    blocks = node.generate(2, p2wpkh(MINER), T0)
    assert events == [
        BlockConnected(blocks[0], 1),
        TipChanged(blocks[0].hash, 1, 0),
        BlockConnected(blocks[1], 2),
        TipChanged(blocks[1].hash, 2, 0),
    ]


def test_a_replacement_removes_the_original_then_adds_itself_then_a_block_confirms_it() -> None:
    node, blocks = mature_node(MINER)
    coin = coinbase_coin(blocks[0])
    original = pay(MINER, coin, p2wpkh(ALICE), 10_000, sequence=RBF_SEQUENCE)
    replacement = pay(MINER, coin, p2wpkh(BOB), 20_000, sequence=RBF_SEQUENCE)
    events = _record(node)
    assert node.submit_transaction(original, T0).accepted
    assert node.submit_transaction(replacement, T0).accepted
    [block] = node.generate(1, p2wpkh(MINER), T0)
    assert events == [
        TxAdded(original, 10_000),
        TxRemoved(original.txid, original.wtxid, RemovalReason.REPLACED),
        TxAdded(replacement, 20_000),
        BlockConnected(block, 102),
        TipChanged(block.hash, 102, 0),
        TxRemoved(replacement.txid, replacement.wtxid, RemovalReason.BLOCK),
    ]


def test_invalidating_a_block_disconnects_it_and_returns_its_transactions() -> None:
    node, blocks = mature_node(MINER)
    payment = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), 10_000)
    assert node.submit_transaction(payment, T0).accepted
    [block] = node.generate(1, p2wpkh(MINER), T0)
    events = _record(node)
    node.invalidate_block(block.hash, T0)
    assert events == [
        BlockDisconnected(block, 102),
        TipChanged(blocks[-1].hash, 101, 1),
        TxAdded(payment, 10_000),
    ]


def test_an_unsubscribed_listener_hears_nothing_more() -> None:
    node = new_node()
    events: list[NodeEvent] = []
    unsubscribe = node.subscribe(events.append)
    node.generate(1, p2wpkh(MINER), T0)
    unsubscribe()
    unsubscribe()  # twice is harmless
    node.generate(1, p2wpkh(MINER), T0)
    assert len(events) == 2
