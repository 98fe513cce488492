"""`WalletState` on a MemoryStore: the gap window, persistence of every record, atomic
commits and discards, and the ledger's rules for applying and undoing transactions."""

from __future__ import annotations

import pytest

from btcnode.consensus.params import MAINNET, REGTEST, ChainParams
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from common.store import MemoryStore
from wallets._ledger import BlockPlace, apply_tx, disconnect_block, undo_tx
from wallets._records import Coin, JournalEntry, JournalStatus, WalletTx
from wallets.accounts import CHANGE, RECEIVE, AddressType, account_key, derive_address
from wallets.bip32 import ExtendedKey
from wallets.bip39 import mnemonic_to_seed
from wallets.errors import WalletInputError
from wallets.state import (
    GAP_LIMIT,
    RECENT_BLOCKS_KEPT,
    TxStatus,
    WalletKind,
    WalletMeta,
    WalletState,
    WalletStateCorrupted,
)

SEED = mnemonic_to_seed("abandon " * 11 + "about")
MASTER = ExtendedKey.from_seed(SEED)
P2WPKH = AddressType.P2WPKH


def _meta(params: ChainParams = REGTEST) -> WalletMeta:
    accounts = tuple((t, account_key(SEED, t, params).neuter()) for t in AddressType)
    return WalletMeta(params.name, WalletKind.SEED, MASTER.fingerprint, accounts)


@pytest.fixture
def state() -> WalletState:
    return WalletState.initialize(MemoryStore(), REGTEST, _meta())


def _reloaded(state: WalletState) -> WalletState:
    return WalletState.load(state.store, REGTEST)


def test_a_new_wallet_derives_one_gap_window_per_chain(state: WalletState) -> None:
    for address_type in AddressType:
        for change in (RECEIVE, CHANGE):
            records = state.addresses[(address_type, change)]
            assert [r.index for r in records] == list(range(GAP_LIMIT))
            expected = derive_address(SEED, address_type, REGTEST, change, GAP_LIMIT - 1)
            assert records[-1].derived == expected
            assert state.by_script[expected.script_pubkey] is records[-1]


def test_handing_out_and_using_addresses_moves_the_window(state: WalletState) -> None:
    assert [state.next_unused(P2WPKH, RECEIVE).index for _ in range(3)] == [0, 1, 2]
    assert len(state.addresses[(P2WPKH, RECEIVE)]) == 2 + GAP_LIMIT + 1
    used = state.addresses[(P2WPKH, RECEIVE)][10].script_pubkey
    assert state.mark_used([used])
    assert len(state.addresses[(P2WPKH, RECEIVE)]) == 10 + GAP_LIMIT + 1
    assert not state.mark_used([used])  # already counted
    assert state.next_unused(P2WPKH, RECEIVE).index == 11  # never one before a used one
    state.commit(sync=True)
    again = _reloaded(state)
    assert again.addresses == state.addresses and again.issued == state.issued
    assert again.highest_used == state.highest_used
    assert again.next_unused(P2WPKH, RECEIVE).index == 12


def test_uncommitted_changes_are_discarded_and_never_reach_the_store(
    state: WalletState,
) -> None:
    state.set_label("bcrt1qexample", "kept")
    state.commit(sync=False)
    state.set_label("bcrt1qexample", "lost")
    state.next_unused(P2WPKH, RECEIVE)
    assert _reloaded(state).labels == {"bcrt1qexample": "kept"}
    state.discard()
    assert state.labels == {"bcrt1qexample": "kept"}
    assert state.next_unused(P2WPKH, RECEIVE).index == 0


def test_loading_refuses_another_network_and_damaged_records(state: WalletState) -> None:
    with pytest.raises(WalletInputError, match="regtest wallet, not main"):
        WalletState.load(state.store, MAINNET)
    state.store.put(b"t" + bytes(32), b'{"txid": 1}')
    with pytest.raises(WalletStateCorrupted) as caught:
        _reloaded(state)
    assert caught.value.what == "wallet transaction"
    state.store.put(b"v", b"\x00\x00\x00\x09")
    with pytest.raises(WalletStateCorrupted, match="schema version"):
        _reloaded(state)


def test_records_round_trip() -> None:
    coin = Coin(OutPoint(b"\x01" * 32, 3), 5000, b"\x00\x14" + bytes(20), None, False)
    assert Coin.decode(coin.encode()) == coin
    wtx = WalletTx(b"\x02" * 32, b"raw", TxStatus.UNCONFIRMED, 17, (coin,))
    confirmed = wtx.confirmed_at(9, b"\x03" * 32, 1234, 5)
    for record in (wtx, confirmed, confirmed.with_status(TxStatus.REPLACED, b"\x04" * 32)):
        assert WalletTx.decode(record.encode()) == record
    entry = JournalEntry(b"\x05" * 32, b"raw", JournalStatus.PENDING, 3, b"\x06" * 32)
    assert JournalEntry.decode(entry.encode()) == entry


def test_the_cursor_keeps_only_recent_block_hashes(state: WalletState) -> None:
    for height in range(RECENT_BLOCKS_KEPT + 5):
        state.set_cursor(height, height.to_bytes(32, "big"))
    state.commit(sync=False)
    again = _reloaded(state)
    assert again.cursor == (RECENT_BLOCKS_KEPT + 4, (RECENT_BLOCKS_KEPT + 4).to_bytes(32, "big"))
    assert sorted(again.block_hashes) == list(range(5, RECENT_BLOCKS_KEPT + 5))
    again.rewind_cursor(RECENT_BLOCKS_KEPT + 4)
    assert again.tip_height == RECENT_BLOCKS_KEPT + 3


def _pay(state: WalletState, prevout: OutPoint, value: int, to_wallet: bool = True) -> Tx:
    script = state.addresses[(P2WPKH, RECEIVE)][0].script_pubkey if to_wallet else b"\x51"
    return Tx(2, (TxIn(prevout, b"", 0xFFFFFFFD),), (TxOut(value, script),), 0)


def test_a_mined_double_spend_conflicts_the_unconfirmed_tx_and_its_child(
    state: WalletState,
) -> None:
    funding = _pay(state, OutPoint(b"\x09" * 32, 0), 10_000)
    apply_tx(state, funding, 1, BlockPlace(1, b"\x0a" * 32, 100, 1))
    coin = OutPoint(funding.txid, 0)
    ours = _pay(state, coin, 9_000)
    child = _pay(state, OutPoint(ours.txid, 0), 8_000)
    assert apply_tx(state, ours, 2) and apply_tx(state, child, 2)
    assert set(state.coins) == {OutPoint(child.txid, 0)}
    assert coin in state.watched  # spent only by an unconfirmed tx: a block may conflict it
    rival = _pay(state, coin, 9_500, to_wallet=False)
    assert apply_tx(state, rival, 3, BlockPlace(2, b"\x0b" * 32, 200, 1))
    assert state.txs[ours.txid].status is TxStatus.CONFLICTED
    assert state.txs[child.txid].status is TxStatus.CONFLICTED
    assert state.coins == {} and coin not in state.watched
    assert not apply_tx(state, ours, 4)  # a mempool tx against a confirmed spend is ignored
    state.commit(sync=False)
    assert _reloaded(state).txs == state.txs


def test_disconnecting_a_block_unconfirms_what_the_mempool_has_and_undoes_the_rest(
    state: WalletState,
) -> None:
    stays = _pay(state, OutPoint(b"\x07" * 32, 0), 1_000)
    goes = _pay(state, OutPoint(b"\x08" * 32, 0), 2_000)
    state.set_cursor(1, b"\x01" * 32)
    for position, tx in enumerate((stays, goes)):
        apply_tx(state, tx, 5, BlockPlace(2, b"\x02" * 32, 50, position))
    state.set_cursor(2, b"\x02" * 32)
    disconnect_block(state, 2, {stays.txid})
    assert state.txs[stays.txid].status is TxStatus.UNCONFIRMED
    assert state.coins[OutPoint(stays.txid, 0)].height is None
    assert state.txs[goes.txid].status is TxStatus.CONFLICTED
    assert OutPoint(goes.txid, 0) not in state.coins
    assert state.cursor == (1, b"\x01" * 32)


def test_undo_gives_back_the_spent_coins(state: WalletState) -> None:
    funding = _pay(state, OutPoint(b"\x09" * 32, 0), 10_000)
    apply_tx(state, funding, 1, BlockPlace(1, b"\x0a" * 32, 100, 1))
    before = dict(state.coins)
    spend = _pay(state, OutPoint(funding.txid, 0), 9_000, to_wallet=False)
    apply_tx(state, spend, 2)
    assert state.coins == {}
    undo_tx(state, spend.txid, TxStatus.ABANDONED)
    assert state.coins == before and state.spender == {}
    assert state.txs[spend.txid].spent == tuple(before.values())
