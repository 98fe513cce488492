"""Block templates over the real chainstate and mempool: selection, coinbase, header fields."""

from __future__ import annotations

import dataclasses

import pytest

from btcnode.consensus.block import (
    Block,
    block_witness_merkle_root,
    witness_commitment,
    witness_commitment_index,
)
from btcnode.consensus.checks import check_block
from btcnode.consensus.contextual import contextual_check_block
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import REGTEST
from btcnode.consensus.subsidy import block_subsidy
from btcnode.miner import COINBASE_RESERVED_WEIGHT, build_template
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
    spend,
)

MINER = key("miner")
ALICE = key("alice")
PUBKEY_CHECKSIG = 0xAC


@pytest.fixture(scope="module")
def mature() -> tuple[Node, list[Block]]:
    return mature_node(MINER, 115)


def _fresh() -> tuple[Node, list[Block]]:
    return mature_node(MINER, 115)


def test_cpfp_package_is_picked_before_a_medium_transaction() -> None:
    node, blocks = _fresh()
    parent = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), fee=110)  # ~1 sat/vB
    child = pay(ALICE, output_coin(parent, 0), p2wpkh(ALICE), fee=20_000)  # ~180 sat/vB
    medium = pay(MINER, coinbase_coin(blocks[1]), p2wpkh(ALICE), fee=1_100)  # ~10 sat/vB
    for tx in (parent, child, medium):
        assert node.submit_transaction(tx, T0).accepted
    entries = {e.txid: e for e in node.mempool.entries()}
    template = node.block_template(p2wpkh(MINER), T0)
    assert [tx.txid for tx in template.txs] == [parent.txid, child.txid, medium.txid]
    # Room for the package and not for the medium transaction: the package wins.
    package_vsize = entries[parent.txid].vsize + entries[child.txid].vsize
    tight = build_template(
        node.chainstate,
        node.mempool,
        p2wpkh(MINER),
        T0,
        max_weight=COINBASE_RESERVED_WEIGHT + 4 * package_vsize + 1,
    )
    assert [tx.txid for tx in tight.txs] == [parent.txid, child.txid]
    assert tight.fees == (110, 20_000)


def test_coinbase_claims_subsidy_plus_the_included_fees_and_the_chain_accepts_it() -> None:
    node, blocks = _fresh()
    txs = [
        pay(MINER, coinbase_coin(blocks[i]), p2wpkh(ALICE), fee=1_000 + 137 * i) for i in range(6)
    ]
    for tx in txs:
        assert node.submit_transaction(tx, T0).accepted
    template = node.block_template(p2wpkh(MINER), T0)
    fees = sum(1_000 + 137 * i for i in range(6))
    assert template.total_fees == fees == sum(e.fee for e in node.mempool.entries())
    assert template.coinbase_value == block_subsidy(116, REGTEST) + fees
    block = solve_template(template)
    assert block.txs[0].vout[0].value == 50 * COIN + fees
    check_block(block, REGTEST)
    mtp = node.chainstate.median_time_past(node.chainstate.tip_height)
    contextual_check_block(block, 116, mtp, REGTEST)
    connected(node.submit_block(block, T0), block)
    assert node.chainstate.tip_height == 116
    assert len(node.mempool) == 0
    for tx in txs:
        assert node.chainstate.get_coin(output_coin(tx, 0)[0]) is not None


def test_header_fields_follow_the_tip() -> None:
    node, _ = _fresh()
    tip = node.chainstate.tip
    mtp = node.chainstate.median_time_past(tip.height)
    late = node.block_template(p2wpkh(MINER), T0 + 5_000)
    assert late.prev_hash == tip.hash and late.height == tip.height + 1
    assert late.time == T0 + 5_000
    assert late.bits == REGTEST.genesis.header.bits
    early = node.block_template(p2wpkh(MINER), mtp - 1_000)
    assert early.time == mtp + 1  # BIP113: never at or below the median time past
    block = early.block()
    assert block.txs[0].vin[0].script_sig[:2] == b"\x01\x74"  # BIP34: push of 116


def test_witness_commitment_is_present_and_correct() -> None:
    node, blocks = _fresh()
    tx = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), fee=500)
    assert node.submit_transaction(tx, T0).accepted
    block = solve_template(node.block_template(p2wpkh(MINER), T0))
    index = witness_commitment_index(block)
    assert index == 1
    expected = witness_commitment(block_witness_merkle_root(block), bytes(32))
    assert block.txs[0].vout[1].script_pubkey[6:] == expected
    assert block.txs[0].vin[0].witness == (bytes(32),)


def _pubkeys(count: int) -> list[bytes]:
    return [key(f"p2pk{i}").public_key.format(compressed=True) for i in range(count)]


def test_sigop_limit_binds_before_the_weight_limit() -> None:
    # Ten standard transactions of 2,000 P2PK outputs: 8,001 sigop cost and ~88,000 vbytes
    # each. With the coinbase's 400, nine reach 72,409 and a tenth 80,410 >= 80,000, while
    # ten would weigh only ~3.5M of the 3,996,000 allowed.
    node, blocks = _fresh()
    outputs = [(bytes((33,)) + pk + bytes((PUBKEY_CHECKSIG,)), 1_000) for pk in _pubkeys(2000)]
    for i in range(10):
        coin = coinbase_coin(blocks[i])
        change = coin[1].value - 2_000 * 1_000 - 100_000 - i
        tx = spend(MINER, [coin], [*outputs, (p2wpkh(MINER), change)])
        result = node.submit_transaction(tx, T0)
        assert result.accepted, result
        assert (
            result.entry is not None and result.entry.sigop_cost == 8_001
        )  # and 1 for the P2WPKH input
    template = node.block_template(p2wpkh(MINER), T0)
    assert len(template.txs) == 9
    assert sum(template.sigop_costs) == 72_009
    assert template.fees == tuple(100_000 + i for i in range(9, 0, -1))  # richest first
    block = solve_template(template)
    assert block.weight < 3_600_000
    connected(node.submit_block(block, T0), block)
    assert [e.fee for e in node.mempool.entries()] == [100_000]  # the poorest one waits


def test_weight_limit_with_a_smaller_maximum() -> None:
    node, blocks = _fresh()
    txs = [
        pay(MINER, coinbase_coin(blocks[i]), p2wpkh(ALICE), fee=1_000 * (i + 1)) for i in range(5)
    ]
    for tx in txs:
        assert node.submit_transaction(tx, T0).accepted
    vsize = node.mempool.entries()[0].vsize
    max_weight = COINBASE_RESERVED_WEIGHT + 4 * vsize * 3 + 1
    template = build_template(
        node.chainstate, node.mempool, p2wpkh(MINER), T0, max_weight=max_weight
    )
    assert [tx.txid for tx in template.txs] == [txs[4].txid, txs[3].txid, txs[2].txid]
    block = solve_template(template)
    assert block.weight <= max_weight
    connected(node.submit_block(block, T0), block)


def test_a_coinbase_script_too_large_for_the_reserve_is_refused(
    mature: tuple[Node, list[Block]],
) -> None:
    node, _ = mature
    with pytest.raises(ChainMisuse, match="reserved"):
        node.block_template(b"\x6a" + bytes(900), T0)
    with pytest.raises(ChainMisuse, match="sigops"):
        node.block_template(bytes([PUBKEY_CHECKSIG]) * 101, T0)


def test_template_is_a_frozen_value(mature: tuple[Node, list[Block]]) -> None:
    node, _ = mature
    template = node.block_template(p2wpkh(MINER), T0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.time = 0  # type: ignore[misc]
    later = dataclasses.replace(template, time=template.time + 1)
    assert later.block().header.time == template.time + 1
    assert later.block().txs == template.block().txs
