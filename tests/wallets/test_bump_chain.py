"""Fee bumps of a wallet's chained unconfirmed sends against a real in-process node: a
child is bumped with the node taking it (its parent kept), adding only confirmed coins
(BIP125 rule 2); a parent whose outputs the wallet has spent again is refused, as Core's
bumpfee refuses ("Transaction has descendants in the wallet")."""

from __future__ import annotations

from pathlib import Path

import pytest

from btcnode.mempool.feerate import FeeRate
from tests.wallets.test_sync import COIN, SUBSIDY, InProcessNode, funded, new_wallet, node
from wallets import HasWalletDescendants, NotReplaceable, TxStatus, Wallet

__all__ = ["funded", "node"]  # fixtures shared with test_sync

RATE = FeeRate(1_000)  # 1 sat/vB: every bump below is well above it


def _mempool(node: InProcessNode) -> set[str]:
    return set(node.call("getrawmempool"))


def _inputs(wallet: Wallet, txid: bytes) -> set[tuple[bytes, int]]:
    tx = wallet.transaction(txid)
    assert tx is not None
    return {(i.prevout.txid, i.prevout.n) for i in tx.vin}


def _entry(wallet: Wallet, txid: bytes) -> tuple[int, int | None, TxStatus]:
    found = next(h for h in wallet.history() if h.txid == txid)
    return found.amount, found.fee, found.status


def test_bumping_the_child_replaces_it_and_keeps_its_parent(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    first = funded.send(node, [(receiver.new_address().address, COIN)], fee_rate=RATE)
    second = funded.send(node, [(receiver.new_address().address, 2 * COIN)], fee_rate=RATE)
    assert all(txid == first.txid for txid, _ in _inputs(funded, second.txid))  # its change

    bumped = funded.bump(node, second.txid)

    assert _mempool(node) == {first.txid_hex, bumped.txid_hex}
    assert _inputs(funded, bumped.txid) == _inputs(funded, second.txid)  # Core: same inputs
    assert bumped.fee > second.fee
    assert funded.status_of(first.txid) is TxStatus.UNCONFIRMED
    assert funded.status_of(second.txid) is TxStatus.REPLACED
    balance = funded.balance()
    assert (balance.confirmed, balance.unconfirmed) == (
        0,
        SUBSIDY - 3 * COIN - first.fee - bumped.fee,
    )
    node.mine_to_nobody()
    funded.sync(node)
    receiver.sync(node)
    assert receiver.balance().confirmed == 3 * COIN
    # the coinbase of block 2 matured at height 102
    assert funded.balance().confirmed == 2 * SUBSIDY - 3 * COIN - first.fee - bumped.fee
    assert _entry(funded, first.txid) == (-COIN - first.fee, first.fee, TxStatus.CONFIRMED)
    assert _entry(funded, bumped.txid) == (
        -2 * COIN - bumped.fee,
        bumped.fee,
        TxStatus.CONFIRMED,
    )
    assert _entry(funded, second.txid)[2] is TxStatus.REPLACED


def test_a_bump_adds_only_confirmed_coins_never_another_sends_change(
    tmp_path: Path, node: InProcessNode
) -> None:
    wallet, _ = new_wallet(tmp_path)
    node.mine(103, wallet.new_address().address)  # three mature coinbases of 50 BTC
    wallet.sync(node)
    receiver, _ = new_wallet(tmp_path, "r")
    first = wallet.send(node, [(receiver.new_address().address, 20 * COIN)], fee_rate=RATE)
    # a whole coin less the fee of one input and one output: a confirmed coinbase, no change
    whole = SUBSIDY - RATE.fee(110)
    second = wallet.send(node, [(receiver.new_address().address, whole)], fee_rate=RATE)
    assert second.change_address is None
    [(parent, _)] = _inputs(wallet, second.txid)
    assert parent != first.txid
    # the bump needs another coin: the first send's unconfirmed change would be refused by
    # the node (BIP125 rule 2), so only the third coinbase, confirmed, may be added
    bumped = wallet.bump(node, second.txid)

    assert _mempool(node) == {first.txid_hex, bumped.txid_hex}
    added = _inputs(wallet, bumped.txid) - _inputs(wallet, second.txid)
    assert len(added) == 1 and first.txid not in {txid for txid, _ in added}
    assert wallet.status_of(first.txid) is TxStatus.UNCONFIRMED
    assert wallet.status_of(second.txid) is TxStatus.REPLACED
    assert wallet.balance().confirmed == 0
    node.mine_to_nobody()
    wallet.sync(node)
    receiver.sync(node)
    assert receiver.balance().confirmed == 20 * COIN + whole
    # blocks 1 to 4 are mature at height 104
    assert wallet.balance().confirmed == 4 * SUBSIDY - 20 * COIN - whole - first.fee - bumped.fee
    assert _entry(wallet, bumped.txid) == (-whole - bumped.fee, bumped.fee, TxStatus.CONFIRMED)


def test_a_send_the_wallet_spent_again_is_not_bumped(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    first = funded.send(node, [(receiver.new_address().address, COIN)], fee_rate=RATE)
    # the child pays more than a bump of the parent alone would: the node would refuse that
    # bump ("less fees than conflicting txs"); a cheaper child it would evict unpaid
    second = funded.send(node, [(receiver.new_address().address, COIN)], fee_rate=FeeRate(20_000))
    before = (funded.balance(), funded.history(), dict(funded.state.journal))

    with pytest.raises(HasWalletDescendants) as refused:
        funded.bump(node, first.txid)

    err = refused.value
    assert isinstance(err, NotReplaceable)
    assert err.txid_hex == first.txid_hex and err.descendants == (second.txid,)
    assert "descendants in the wallet" in str(err) and second.txid_hex in str(err)
    assert (funded.balance(), funded.history(), dict(funded.state.journal)) == before
    assert _mempool(node) == {first.txid_hex, second.txid_hex}
    # the child's replacement spends the parent's change too: still refused
    bumped = funded.bump(node, second.txid)
    with pytest.raises(HasWalletDescendants) as again:
        funded.bump(node, first.txid)
    assert again.value.descendants == (bumped.txid,)
    assert _mempool(node) == {first.txid_hex, bumped.txid_hex}
