"""Double spends end to end: in the mempool (first seen, BIP125), in a block, and a confirmed
payment reversed by a longer private chain (Nakamoto's attacker, whitepaper section 11)."""

from __future__ import annotations

from btcnode.chain import ChainUpdate
from btcnode.consensus.errors import TxResult
from btcnode.consensus.hashes import hash256_hex
from btcnode.mempool import RemovalReason
from tests.btcnode.scenarios.helpers import (
    RBF_SEQUENCE,
    T0,
    coinbase_coin,
    connected,
    key,
    mature_node,
    new_node,
    output_coin,
    p2wpkh,
    pay,
)

PAYER, MERCHANT, ATTACKER, MINER = key("payer"), key("merchant"), key("attacker"), key("miner")


def test_a_conflicting_transaction_is_refused_while_the_first_is_pooled() -> None:
    node, blocks = mature_node(PAYER)
    coin = coinbase_coin(blocks[0])
    first = pay(PAYER, coin, p2wpkh(MERCHANT), fee=1_000)
    second = pay(PAYER, coin, p2wpkh(ATTACKER), fee=50_000)  # pays far more, no BIP125 signal
    assert node.submit_transaction(first, T0).accepted
    result = node.submit_transaction(second, T0)
    assert not result.accepted
    assert result.reject_reason == "txn-mempool-conflict"
    assert result.error is not None
    assert result.error.result is TxResult.MEMPOOL_POLICY  # Core's TX_MEMPOOL_POLICY
    assert hash256_hex(first.txid) in result.error.debug  # the evidence: which transaction
    assert [e.txid for e in node.mempool.entries()] == [first.txid]


def test_a_bip125_replacement_evicts_the_original() -> None:
    node, blocks = mature_node(PAYER)
    coin = coinbase_coin(blocks[0])
    original = pay(PAYER, coin, p2wpkh(MERCHANT), fee=1_000, sequence=RBF_SEQUENCE)
    assert node.submit_transaction(original, T0).accepted
    stingy = pay(PAYER, coin, p2wpkh(ATTACKER), fee=1_000)  # BIP125 rule 3: must pay more
    assert node.submit_transaction(stingy, T0).reject_reason == "insufficient fee"
    replacement = pay(PAYER, coin, p2wpkh(ATTACKER), fee=5_000)
    result = node.submit_transaction(replacement, T0)
    assert result.accepted, result
    assert [(r.txid, r.reason) for r in result.replaced] == [
        (original.txid, RemovalReason.REPLACED)
    ]
    assert [e.txid for e in node.mempool.entries()] == [replacement.txid]
    (block,) = node.generate(1, p2wpkh(MINER), T0)
    assert block.txs[1:] == (replacement,)


def test_a_block_spending_a_pooled_input_evicts_the_pooled_spend() -> None:
    node, blocks = mature_node(PAYER)
    other = new_node()
    for block in blocks:
        connected(other.submit_block(block, T0), block)
    coin = coinbase_coin(blocks[0])
    pooled = pay(PAYER, coin, p2wpkh(MERCHANT), fee=1_000)
    child = pay(MERCHANT, output_coin(pooled, 0), p2wpkh(MERCHANT), fee=1_000)
    mined_elsewhere = pay(PAYER, coin, p2wpkh(ATTACKER), fee=1_000)
    assert node.submit_transaction(pooled, T0).accepted
    assert node.submit_transaction(child, T0).accepted
    assert other.submit_transaction(mined_elsewhere, T0).accepted
    (block,) = other.generate(1, p2wpkh(MINER), T0)
    update = connected(node.submit_block(block, T0), block)
    assert update.connected == (block,)
    assert len(node.mempool) == 0  # the conflicting spend and its child are gone


def test_a_confirmed_payment_is_reversed_by_a_longer_private_chain() -> None:
    # Node A is the merchant's. The attacker runs node M, which shares nothing with A but
    # the blocks A published before the payment.
    a, blocks = mature_node(PAYER)
    m = new_node()
    for block in blocks:
        connected(m.submit_block(block, T0), block)
    coin = coinbase_coin(blocks[0])
    payment = pay(PAYER, coin, p2wpkh(MERCHANT), fee=1_000)  # P
    assert a.submit_transaction(payment, T0).accepted
    (confirming,) = a.generate(1, p2wpkh(MINER), T0)
    assert confirming.txs[1:] == (payment,)
    assert a.chainstate.get_coin(output_coin(payment, 0)[0]) is not None  # 1 confirmation

    # In private, the attacker pays the same coin to himself (P') and mines two blocks.
    theft = pay(PAYER, coin, p2wpkh(ATTACKER), fee=1_000)
    assert m.submit_transaction(theft, T0).accepted
    private = m.generate(2, p2wpkh(ATTACKER), T0)
    assert private[0].txs[1:] == (theft,)

    first = a.submit_block(private[0], T0)  # equal work: A keeps the chain it saw first
    assert isinstance(first, ChainUpdate) and first.tip_hash == confirming.hash
    update = connected(a.submit_block(private[1], T0), private[1])
    assert update.disconnected == (confirming,)
    assert update.connected == tuple(private)
    # Core's MaybeUpdateMempoolForReorg offers P again; its input is spent by P' in the new
    # chain, so it is refused and does not come back to the mempool.
    assert payment.txid not in a.mempool and len(a.mempool) == 0
    assert a.chainstate.get_coin(output_coin(payment, 0)[0]) is None
    assert a.chainstate.get_coin(output_coin(theft, 0)[0]) is not None
    assert a.chainstate.get_coin(coin[0]) is None
    retry = a.submit_transaction(payment, T0)
    assert retry.reject_reason == "bad-txns-inputs-missingorspent"
    assert retry.error is not None and retry.error.result is TxResult.MISSING_INPUTS
    assert a.chainstate.utxo_stats() == m.chainstate.utxo_stats()
