"""Reorganisations end to end: two nodes that share nothing but blocks, the most-work rule,
and what a reorg does to the mempool (REGTEST, MemoryStore, exact outcomes)."""

from __future__ import annotations

from btcnode.chain import ChainUpdate, TipStatus
from btcnode.consensus.block import Block
from btcnode.consensus.tx import Tx
from btcnode.node import Node
from tests.btcnode.scenarios.helpers import (
    T0,
    coinbase_coin,
    key,
    mature_node,
    new_node,
    output_coin,
    p2wpkh,
    pay,
)

ALICE, BOB, MINER_A, MINER_B = key("alice"), key("bob"), key("miner a"), key("miner b")


def _feed(node: Node, blocks: list[Block]) -> list[ChainUpdate]:
    updates = []
    for block in blocks:
        update = node.submit_block(block, T0)
        assert isinstance(update, ChainUpdate), update
        updates.append(update)
    return updates


def _unchanged(update: ChainUpdate, tip: Block) -> None:
    assert update.disconnected == () and update.connected == ()
    assert update.tip_hash == tip.hash and update.invalid == ()


def test_a_heavier_b_chain_replaces_the_a_chain_equal_work_does_not() -> None:
    a, b = new_node(), new_node()
    chain_a = a.generate(3, p2wpkh(MINER_A), T0)
    chain_b = b.generate(5, p2wpkh(MINER_B), T0)
    assert {blk.hash for blk in chain_a}.isdisjoint(blk.hash for blk in chain_b)
    for update in _feed(a, chain_b[:3]):  # equal work at height 3: the first seen stays
        _unchanged(update, chain_a[-1])
    tips = {tip.hash: tip for tip in a.chainstate.chain_tips()}
    assert tips[chain_b[2].hash].status is TipStatus.VALID_HEADERS
    (update,) = _feed(a, chain_b[3:4])
    assert update.disconnected == tuple(reversed(chain_a))
    assert update.connected == tuple(chain_b[:4])
    assert (update.tip_hash, update.tip_height) == (chain_b[3].hash, 4)
    (update,) = _feed(a, chain_b[4:])
    assert update.disconnected == () and update.connected == (chain_b[4],)
    assert a.chainstate.utxo_stats() == b.chainstate.utxo_stats()
    tips = {tip.hash: tip for tip in a.chainstate.chain_tips()}
    assert tips[chain_a[-1].hash].status is TipStatus.VALID_FORK
    assert tips[chain_a[-1].hash].branch_len == 3


def _shared_prefix(blocks: int = 101) -> tuple[Node, Node, list[Block]]:
    """Node A mined `blocks` blocks to MINER_A; node B got them as blocks, nothing else."""
    a, prefix = mature_node(MINER_A, blocks)
    b = new_node()
    _feed(b, prefix)
    assert b.chainstate.tip_hash == a.chainstate.tip_hash
    return a, b, prefix


def test_one_block_reorg_returns_its_transaction_to_the_mempool() -> None:
    a, b, prefix = _shared_prefix()
    payment = pay(MINER_A, coinbase_coin(prefix[0]), p2wpkh(ALICE), fee=1_000)
    assert a.submit_transaction(payment, T0).accepted
    (x,) = a.generate(1, p2wpkh(MINER_A), T0)
    assert x.txs[1:] == (payment,) and len(a.mempool) == 0
    y, z = b.generate(2, p2wpkh(MINER_B), T0)
    _unchanged(_feed(a, [y])[0], x)
    (update,) = _feed(a, [z])
    assert update.disconnected == (x,) and update.connected == (y, z)
    assert [e.txid for e in a.mempool.entries()] == [payment.txid]
    assert a.chainstate.get_coin(output_coin(payment, 0)[0]) is None
    assert a.chainstate.get_coin(coinbase_coin(x)[0]) is None  # x's coinbase is gone
    assert a.chainstate.get_coin(coinbase_coin(prefix[0])[0]) is not None  # unspent again


def test_ten_block_reorg_brings_back_a_chain_of_transactions_parents_first() -> None:
    a, b, prefix = _shared_prefix()
    coin = coinbase_coin(prefix[0])
    chain_a: list[Block] = []
    payments: list[Tx] = []
    for _ in range(10):  # each block confirms a spend of the previous block's payment
        payment = pay(MINER_A if not payments else ALICE, coin, p2wpkh(ALICE), fee=1_000)
        assert a.submit_transaction(payment, T0).accepted
        chain_a += a.generate(1, p2wpkh(MINER_A), T0)
        payments.append(payment)
        coin = output_coin(payment, 0)
    chain_b = b.generate(11, p2wpkh(MINER_B), T0)
    for update in _feed(a, chain_b[:10]):
        _unchanged(update, chain_a[-1])
    (update,) = _feed(a, chain_b[10:])
    assert update.disconnected == tuple(reversed(chain_a))
    assert update.connected == tuple(chain_b)
    assert update.tip_height == 112
    entries = {e.txid: e for e in a.mempool.entries()}
    assert set(entries) == {tx.txid for tx in payments}
    assert [entries[tx.txid].ancestor_count for tx in payments] == list(range(1, 11))
    assert a.chainstate.utxo_stats() == b.chainstate.utxo_stats()
    # The next block of A confirms the whole chain again, in order.
    (block,) = a.generate(1, p2wpkh(MINER_A), T0)
    assert [tx.txid for tx in block.txs[1:]] == [tx.txid for tx in payments]


def test_reorg_across_the_coinbase_maturity_boundary() -> None:
    # Block 1's coinbase can be spent in block 101 (100 confirmations), not in block 100.
    a, blocks = mature_node(MINER_A, 100)
    spend = pay(MINER_A, coinbase_coin(blocks[0]), p2wpkh(ALICE), fee=1_000)
    assert a.submit_transaction(spend, T0).accepted
    (block101,) = a.generate(1, p2wpkh(MINER_A), T0)
    assert block101.txs[1:] == (spend,)
    update = a.invalidate_block(block101.hash, T0)  # tip 100: still spendable in block 101
    assert update.disconnected == (block101,) and update.tip_height == 100
    assert [e.txid for e in a.mempool.entries()] == [spend.txid]
    update = a.invalidate_block(blocks[99].hash, T0)  # tip 99: the spend would be premature
    assert update.disconnected == (blocks[99],) and update.tip_height == 99
    assert len(a.mempool) == 0
    result = a.submit_transaction(spend, T0)
    assert result.reject_reason == "bad-txns-premature-spend-of-coinbase"
    update = a.reconsider_block(blocks[99].hash, T0)
    assert update.connected == (blocks[99], block101) and update.tip_height == 101
    assert a.chainstate.get_coin(output_coin(spend, 0)[0]) is not None
    assert len(a.mempool) == 0


def test_a_spend_of_a_coinbase_the_reorg_removes_is_dropped() -> None:
    a, b, _ = _shared_prefix(4)
    chain_a = a.generate(101, p2wpkh(MINER_A), T0)  # heights 5..105
    spend = pay(MINER_A, coinbase_coin(chain_a[0]), p2wpkh(ALICE), fee=1_000)
    assert a.submit_transaction(spend, T0).accepted
    chain_b = b.generate(103, p2wpkh(MINER_B), T0)  # heights 5..107, more work
    updates = _feed(a, chain_b)
    assert updates[101].disconnected == tuple(reversed(chain_a))
    assert a.chainstate.tip_height == 107
    assert len(a.mempool) == 0  # its input, block 5's coinbase on chain A, no longer exists
    result = a.submit_transaction(spend, T0)
    assert result.reject_reason == "bad-txns-inputs-missingorspent"
