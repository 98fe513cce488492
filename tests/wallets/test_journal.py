"""The send journal: a signed transaction is on disk before the node sees it, and the next
sync gets it to the node whatever happened in between (crash, node down, already mined,
double-spent by another copy of the wallet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from btcnode.consensus.params import REGTEST
from btcnode.mempool.feerate import FeeRate
from btcnode.rpc import RpcCredentials, SyncRpcClient
from common.net import free_tcp_ports
from tests.wallets.test_sync import COIN, FAST_KDF, InProcessNode, funded, new_wallet, node
from wallets import NodeRefused, NodeUnavailable, TxStatus, Wallet
from wallets.journal import JournalStatus
from wallets.keystore import read_keystore

__all__ = ["funded", "node"]  # fixtures shared with test_sync


def _in_mempool(node: InProcessNode, txid: bytes) -> bool:
    return txid[::-1].hex() in node.call("getrawmempool")


def test_a_journaled_send_survives_reopening_and_the_next_sync_broadcasts_it(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    prepared = funded.prepare_send([(receiver.new_address().address, COIN)])
    assert not _in_mempool(node, prepared.txid)
    funded.close()  # as if the process died right after the journal write

    wallet = Wallet.open(tmp_path / "w", REGTEST)  # no password: resending needs no keys
    entry = wallet.state.journal[prepared.txid]
    assert (entry.status, entry.raw) == (JournalStatus.PENDING, prepared.raw)
    assert wallet.status_of(prepared.txid) is TxStatus.UNCONFIRMED
    spent = {c.outpoint for c in wallet.state.txs[prepared.txid].spent}
    assert not spent & {c.outpoint for c in wallet.list_unspent()}  # not spendable twice

    report = wallet.sync(node)
    assert report.rebroadcast == (prepared.txid,)
    assert _in_mempool(node, prepared.txid)
    assert wallet.state.journal[prepared.txid].status is JournalStatus.BROADCAST
    node.mine_to_nobody()
    wallet.sync(node)
    assert prepared.txid not in wallet.state.journal
    assert wallet.status_of(prepared.txid) is TxStatus.CONFIRMED


def test_a_send_while_the_node_is_down_stays_journaled(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    (port,) = free_tcp_ports(1)
    down = SyncRpcClient(f"http://127.0.0.1:{port}/", RpcCredentials("u", "p"), timeout_seconds=5)
    address = funded.new_address().address
    with pytest.raises(NodeUnavailable):
        funded.send(down, [(address, COIN)], fee_rate=FeeRate(2_000))
    [entry] = funded.state.journal.values()
    assert entry.status is JournalStatus.PENDING
    report = funded.sync(node)
    assert report.rebroadcast == (entry.txid,)


def test_a_tx_the_node_already_mined_leaves_the_journal(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    prepared = funded.prepare_send([(funded.new_address().address, COIN)])
    node.call("sendrawtransaction", prepared.raw.hex())  # someone else relayed it
    node.mine_to_nobody()
    report = funded.sync(node)
    assert report.rebroadcast == () and prepared.txid in report.touched
    assert funded.state.journal == {}
    assert funded.status_of(prepared.txid) is TxStatus.CONFIRMED


def test_a_journaled_tx_double_spent_by_a_mined_one_becomes_conflicted(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    mnemonic = read_keystore(tmp_path / "w" / "keystore.json", "pw", REGTEST).mnemonic
    assert mnemonic is not None
    twin = Wallet.restore(tmp_path / "twin", REGTEST, mnemonic, "pw", kdf=FAST_KDF)
    twin.sync(node)
    prepared = funded.prepare_send([(funded.new_address().address, COIN)])
    rival = twin.send(node, [(twin.new_address().address, 2 * COIN)])  # the same only coin
    node.mine_to_nobody()
    report = funded.sync(node)
    assert rival.txid in report.touched
    assert funded.status_of(prepared.txid) is TxStatus.CONFLICTED
    assert funded.state.journal == {}
    twin.sync(node)
    assert funded.balance() == twin.balance()


def test_a_send_the_node_refuses_is_undone_with_cores_code(
    funded: Wallet, node: InProcessNode
) -> None:
    before = funded.balance()
    with pytest.raises(NodeRefused) as caught:  # above sendrawtransaction's maxfeerate
        funded.send(node, [(funded.new_address().address, COIN)], fee_rate=FeeRate(20_000_000))
    assert caught.value.code == -25 and "maxfeerate" in caught.value.message
    assert funded.balance() == before
    assert funded.state.journal == {}
    [abandoned] = [h for h in funded.history() if h.status is TxStatus.ABANDONED]
    assert abandoned.amount < 0


def test_a_bump_made_while_the_node_is_down_replaces_the_original_at_the_next_sync(
    funded: Wallet, node: InProcessNode
) -> None:
    (port,) = free_tcp_ports(1)
    down = SyncRpcClient(f"http://127.0.0.1:{port}/", RpcCredentials("u", "p"), timeout_seconds=5)
    original = funded.send(node, [(funded.new_address().address, COIN)], fee_rate=FeeRate(1_000))
    with pytest.raises(NodeUnavailable):
        funded.bump(down, original.txid, fee_rate=FeeRate(10_000))
    [bump] = funded.state.journal.values()
    assert bump.replaces == original.txid
    assert funded.status_of(original.txid) is TxStatus.REPLACED
    report = funded.sync(node)  # the node still has the original in its mempool
    assert report.rebroadcast == (bump.txid,)
    assert node.call("getrawmempool") == [bump.txid[::-1].hex()]
    assert funded.status_of(original.txid) is TxStatus.REPLACED
    assert funded.status_of(bump.txid) is TxStatus.UNCONFIRMED
