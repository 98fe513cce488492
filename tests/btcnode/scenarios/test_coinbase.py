"""The coinbase end to end: REGTEST halvings at 150 and 300, and coinbase maturity enforced
by both the mempool and block validation (100 confirmations, not 99)."""

from __future__ import annotations

import dataclasses

from btcnode.chain import ChainUpdate
from btcnode.consensus.block import Block
from btcnode.consensus.tx import Tx
from btcnode.node import Node, solve_template
from tests.btcnode.scenarios.helpers import (
    COIN,
    T0,
    coinbase_coin,
    connected,
    key,
    mature_node,
    output_coin,
    p2wpkh,
    pay,
)

MINER, ALICE = key("miner"), key("alice")


def _block_with(
    node: Node, txs: tuple[Tx, ...], fees: tuple[int, ...], coinbase_value: int | None = None
) -> Block:
    """The node's next block with `txs` put in by hand (not through the mempool), its
    coinbase claiming `coinbase_value` (default: what the rules allow)."""
    template = node.block_template(p2wpkh(MINER), T0)
    if coinbase_value is None:
        coinbase_value = template.coinbase_value + sum(fees)
    template = dataclasses.replace(
        template,
        txs=txs,
        fees=fees,
        sigop_costs=tuple(1 for _ in txs),
        coinbase_value=coinbase_value,
    )
    return solve_template(template)


def _refused(update: object, block: Block, reason: str) -> None:
    assert isinstance(update, ChainUpdate), update
    assert update.connected == () and update.tip_hash == block.header.prev_block
    error = update.rejection(block.hash)
    assert error is not None and error.reject_reason == reason, error


def test_subsidy_halves_at_150_and_300() -> None:
    node, blocks = mature_node(MINER, 149)
    # Block 150 may claim 25 BTC plus fees; 50 BTC is one halving too many.
    greedy = _block_with(node, (), (), coinbase_value=50 * COIN)
    _refused(node.submit_block(greedy, T0), greedy, "bad-cb-amount")
    payment = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), fee=4_321)
    assert node.submit_transaction(payment, T0).accepted
    blocks += node.generate(152, p2wpkh(MINER), T0)
    assert node.chainstate.tip_height == 301
    values = {height: blocks[height - 1].txs[0].vout[0].value for height in range(1, 302)}
    assert values[1] == values[149] == 50 * COIN
    assert values[150] == 25 * COIN + 4_321  # the payment's fee with the first 25 BTC
    assert values[151] == values[299] == 25 * COIN
    assert values[300] == values[301] == 1_250_000_000
    assert sum(values.values()) == 149 * 50 * COIN + 150 * 25 * COIN + 2 * 1_250_000_000 + 4_321


def test_coinbase_spend_at_99_confirmations_is_refused_by_mempool_and_block() -> None:
    node, blocks = mature_node(MINER, 99)  # block 1's coinbase has 99 confirmations
    early = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), fee=1_000)
    result = node.submit_transaction(early, T0)
    assert not result.accepted
    assert result.reject_reason == "bad-txns-premature-spend-of-coinbase"
    block = _block_with(node, (early,), (1_000,))
    _refused(node.submit_block(block, T0), block, "bad-txns-premature-spend-of-coinbase")
    assert node.chainstate.tip_height == 99


def test_coinbase_spend_at_100_confirmations_is_accepted_by_mempool_and_block() -> None:
    node, blocks = mature_node(MINER, 100)  # block 1's coinbase has 100 confirmations
    by_block = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), fee=1_000)
    block = _block_with(node, (by_block,), (1_000,))
    connected(node.submit_block(block, T0), block)
    assert node.chainstate.get_coin(output_coin(by_block, 0)[0]) is not None
    # Now block 2's coinbase has 100 confirmations: the mempool takes its spend.
    by_pool = pay(MINER, coinbase_coin(blocks[1]), p2wpkh(ALICE), fee=1_000)
    result = node.submit_transaction(by_pool, T0)
    assert result.accepted, result
    (mined,) = node.generate(1, p2wpkh(MINER), T0)
    assert mined.txs[1:] == (by_pool,)
