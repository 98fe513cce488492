"""`Node`'s own contract: misuse is refused, orphans wait, generate mines what it says."""

from __future__ import annotations

import dataclasses

import pytest

from btcnode.chain import BlockOutcome, Chainstate
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import MAINNET, REGTEST
from btcnode.mempool import Mempool
from btcnode.node import Node, solve_template
from common.store import MemoryStore
from tests.btcnode.scenarios.helpers import (
    T0,
    coinbase_coin,
    connected,
    key,
    mature_node,
    new_node,
    p2wpkh,
    pay,
)

MINER, ALICE = key("miner"), key("alice")


def test_the_chainstate_and_the_node_must_agree_on_the_network() -> None:
    chainstate = Chainstate.open(MemoryStore(), REGTEST)
    with pytest.raises(ChainMisuse, match=r"regtest.*mainnet"):
        Node(chainstate, Mempool(), MAINNET)


def test_generate_counts() -> None:
    node = new_node()
    assert node.generate(0, p2wpkh(MINER), T0) == []
    with pytest.raises(ChainMisuse):
        node.generate(-1, p2wpkh(MINER), T0)
    blocks = node.generate(3, p2wpkh(MINER), T0)
    assert [b.hash for b in blocks] == [node.chainstate.block_hash_at(h) for h in (1, 2, 3)]
    assert all(b.txs[0].vout[0].script_pubkey == p2wpkh(MINER) for b in blocks)


def test_an_unreachable_target_is_refused_before_grinding() -> None:
    node = new_node()
    template = dataclasses.replace(node.block_template(p2wpkh(MINER), T0), bits=0x01800000)
    with pytest.raises(ChainMisuse, match="no reachable target"):
        solve_template(template)


def test_blocks_out_of_order_wait_as_orphans_then_update_the_mempool() -> None:
    a, blocks = mature_node(MINER)
    b = new_node()
    for block in blocks:
        connected(b.submit_block(block, T0), block)
    payment = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), fee=1_000)
    assert a.submit_transaction(payment, T0).accepted
    assert b.submit_transaction(payment, T0).accepted
    first, second = a.generate(2, p2wpkh(MINER), T0)
    assert first.txs[1:] == (payment,)
    assert b.submit_block(second, T0) is BlockOutcome.ORPHAN
    assert [e.txid for e in b.mempool.entries()] == [payment.txid]
    update = connected(b.submit_block(first, T0), second)
    assert update.connected == (first, second)
    assert len(b.mempool) == 0
