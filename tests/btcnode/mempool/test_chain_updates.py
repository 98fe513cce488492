"""Following the chain with a fake chain view: blocks, reorgs, and what becomes invalid."""

from __future__ import annotations

from btcnode.consensus.block import Block, BlockHeader
from btcnode.consensus.coins import Coin
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.mempool import AcceptStatus, Mempool, RemovalReason
from tests.btcnode.mempool.helpers import (
    BASE_TIME,
    COIN,
    NO_RBF_SEQUENCE,
    Change,
    FakeChain,
    Utxo,
    Wallet,
    block_at,
    utxo,
)

NOW = BASE_TIME


def _confirm(chain: FakeChain, tx: Tx, height: int) -> None:
    for txin in tx.vin:
        chain.spend(txin.prevout)
    for n, out in enumerate(tx.vout):
        chain.coins[OutPoint(tx.txid, n)] = Coin(out, height, False)


def _unconfirm(chain: FakeChain, tx: Tx, spent: list[Utxo], height: int) -> None:
    for n in range(len(tx.vout)):
        del chain.coins[OutPoint(tx.txid, n)]
    for u in spent:
        chain.coins[u.outpoint] = Coin(u.out, height, False)


def test_block_removes_confirmed_and_conflicting_with_descendants(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin_a, coin_b = wallet.fund(chain), wallet.fund(chain)
    a = wallet.spend([coin_a], [COIN - 1000])
    a_child = wallet.chain_spend(a, 0, 1000)
    b = wallet.spend([coin_b], [COIN - 1000])
    b_child = wallet.chain_spend(b, 0, 1000)
    for tx in (a, a_child, b, b_child):
        assert pool.accept(tx, chain, NOW).accepted
    rival_b = wallet.spend([coin_b], [COIN - 5000], sequence=NO_RBF_SEQUENCE)
    block = block_at(201, a, rival_b)
    removed = pool.remove_for_block(block, NOW)
    assert [(r.txid, r.reason) for r in removed] == [
        (a.txid, RemovalReason.BLOCK),
        (b.txid, RemovalReason.CONFLICT),
        (b_child.txid, RemovalReason.CONFLICT),
    ]
    child = pool.get(a_child.txid)
    assert child is not None and child.parents == frozenset() and child.ancestor_count == 1
    assert (child.ancestor_size, child.ancestor_fees) == (child.vsize, child.fee)
    assert pool.spender_of(coin_b.outpoint) is None


def test_reorg_brings_back_a_parent_and_links_its_children(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin = wallet.fund(chain, height=150)
    parent = wallet.spend([coin], [COIN - 1000])
    _confirm(chain, parent, chain.tip_height)
    child = wallet.chain_spend(parent, 0, 2000)
    assert pool.accept(child, chain, NOW).accepted
    # The block holding the parent is disconnected; the chain is one block shorter.
    disconnected = block_at(chain.tip_height, parent)
    _unconfirm(chain, parent, [coin], 150)
    chain.tip_height -= 1
    result = pool.update_for_reorg(Change(disconnected=(disconnected,)), chain, NOW)
    assert [(r.txid, r.status) for r in result.resurrected] == [
        (parent.txid, AcceptStatus.ACCEPTED)
    ]
    assert result.removed == ()
    back, kid = pool.get(parent.txid), pool.get(child.txid)
    assert back is not None and kid is not None
    assert back.children == {child.txid} and kid.parents == {parent.txid}
    assert (back.descendant_count, back.descendant_fees) == (2, 3000)
    assert (kid.ancestor_count, kid.ancestor_size) == (2, back.vsize + kid.vsize)
    assert pool.ancestors(child.txid) == {parent.txid}


def test_reorg_drops_a_double_spent_parent_with_its_children(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin = wallet.fund(chain, height=150)
    parent = wallet.spend([coin], [COIN - 1000])
    _confirm(chain, parent, chain.tip_height)
    child = wallet.chain_spend(parent, 0, 2000)
    assert pool.accept(child, chain, NOW).accepted
    # The new chain spends the parent's input elsewhere.
    rival = wallet.spend([coin], [COIN - 3000])
    old_block, new_block = block_at(chain.tip_height, parent), block_at(chain.tip_height, rival)
    for n in range(len(parent.vout)):
        del chain.coins[OutPoint(parent.txid, n)]
    chain.coins[OutPoint(rival.txid, 0)] = Coin(rival.vout[0], chain.tip_height, False)
    change = Change(disconnected=(old_block,), connected=(new_block,))
    result = pool.update_for_reorg(change, chain, NOW)
    (offered,) = result.resurrected
    assert offered.reject_reason == "bad-txns-inputs-missingorspent"
    assert [(r.txid, r.reason) for r in result.removed] == [(child.txid, RemovalReason.REORG)]
    assert len(pool) == 0 and parent.txid not in pool.orphans


def test_reorg_skips_coinbases_and_reconfirmed_transactions(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin = wallet.fund(chain, height=150)
    tx = wallet.spend([coin], [COIN - 1000])
    _confirm(chain, tx, chain.tip_height)
    old_block = block_at(chain.tip_height, tx)
    new_block = Block(BlockHeader(1, bytes(32), bytes(32), 9, 0x207FFFFF, 0), old_block.txs)
    result = pool.update_for_reorg(Change((old_block,), (new_block,)), chain, NOW)
    assert result.resurrected == () and len(pool) == 0


def test_reorg_removes_what_the_shorter_chain_makes_invalid(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    maturity = chain.params.coinbase_maturity
    reward = wallet.fund(chain, 10 * COIN, height=chain.tip_height + 1 - maturity, coinbase=True)
    spends_reward = wallet.spend([reward], [10 * COIN - 1000])
    locked = wallet.spend(
        [wallet.fund(chain)], [COIN - 1000], lock_time=chain.tip_height, sequence=NO_RBF_SEQUENCE
    )
    relative = wallet.spend(
        [wallet.fund(chain, height=chain.tip_height - 4)], [COIN - 1000], sequence=5
    )
    fine = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    child_of_locked = wallet.chain_spend(locked, 0, 1000)
    for tx in (spends_reward, locked, relative, fine, child_of_locked):
        assert pool.accept(tx, chain, NOW).accepted, tx
    chain.tip_height -= 1
    result = pool.update_for_reorg(
        Change(disconnected=(block_at(chain.tip_height + 1),)), chain, NOW
    )
    removed = {(r.txid, r.reason) for r in result.removed}
    assert removed == {
        (spends_reward.txid, RemovalReason.REORG),  # the coinbase is immature again
        (locked.txid, RemovalReason.REORG),  # nLockTime not reached by the next block
        (child_of_locked.txid, RemovalReason.REORG),
        (relative.txid, RemovalReason.REORG),  # BIP68: one block short
    }
    assert [e.txid for e in pool.entries()] == [fine.txid]


def test_coins_view_layers_unconfirmed_outputs(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin = wallet.fund(chain)
    tx = wallet.spend([coin], [COIN // 2, COIN // 2 - 1000])
    assert pool.accept(tx, chain, NOW).accepted
    view = pool.coins_view(chain)
    assert view.get_coin(utxo(tx, 1).outpoint) == Coin(tx.vout[1], 0x7FFFFFFF, False)
    assert view.get_coin(OutPoint(tx.txid, 2)) is None
    assert view.get_coin(coin.outpoint) == chain.get_coin(coin.outpoint)
    assert view.is_unconfirmed(utxo(tx).outpoint) and not view.is_unconfirmed(coin.outpoint)
