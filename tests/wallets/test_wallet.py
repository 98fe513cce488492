"""`Wallet`: creating, opening and locking; addresses and labels; sending with exact fees and
clear errors; fee bumps; PSBTs between a watch-only and a signing wallet."""

from __future__ import annotations

from pathlib import Path

import pytest

from btcnode.consensus.params import MAINNET, REGTEST
from btcnode.mempool.feerate import FeeRate
from tests.wallets.test_sync import COIN, FAST_KDF, SUBSIDY, InProcessNode, funded, new_wallet, node
from wallets import (
    AddressType,
    DustOutput,
    InsufficientFunds,
    InvalidAddress,
    TxStatus,
    Wallet,
    WalletError,
    WalletInputError,
    WalletLocked,
    WalletMisuse,
    WrongPassphrase,
    derive_address,
    encode_slip132,
    extract_transaction,
    finalize_psbt,
    mnemonic_to_seed,
)
from wallets.accounts import account_key
from wallets.bip32 import format_path
from wallets.psbt import InputKey, KeyOrigin

__all__ = ["funded", "node"]  # fixtures shared with test_sync

# BIP84's test vector mnemonic; its regtest (coin type 1') addresses are derived here.
ABANDON = "abandon " * 11 + "about"


def test_create_returns_a_24_word_mnemonic_that_restores_the_same_addresses(
    tmp_path: Path,
) -> None:
    wallet, mnemonic = new_wallet(tmp_path)
    assert len(mnemonic.split()) == 24
    again = Wallet.restore(tmp_path / "again", REGTEST, mnemonic, "other", kdf=FAST_KDF)
    for address_type in AddressType:
        assert wallet.new_address(address_type) == again.new_address(address_type)


def test_addresses_follow_bip84_and_are_handed_out_in_order(tmp_path: Path) -> None:
    wallet, _ = new_wallet(tmp_path, mnemonic=ABANDON)
    seed = mnemonic_to_seed(ABANDON)
    expected = [derive_address(seed, AddressType.P2WPKH, REGTEST, 0, i) for i in range(3)]
    assert [wallet.new_address() for _ in range(3)] == expected
    change = wallet.new_address(change=True)
    assert change == derive_address(seed, AddressType.P2WPKH, REGTEST, 1, 0)
    assert wallet.address_at(AddressType.P2PKH, 7) == derive_address(
        seed, AddressType.P2PKH, REGTEST, 0, 7
    )
    assert wallet.new_address(AddressType.P2SH_P2WPKH).path == "m/49'/1'/0'/0/0"


def test_open_checks_password_and_without_one_cannot_sign(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    funded.close()
    with pytest.raises(WrongPassphrase):
        Wallet.open(tmp_path / "w", REGTEST, "wrong")
    locked = Wallet.open(tmp_path / "w", REGTEST)
    assert locked.balance().confirmed == SUBSIDY  # reading needs no password
    with pytest.raises(WalletLocked):
        locked.send(node, [(locked.new_address().address, COIN)])
    locked.unlock("pw")
    locked.send(node, [(locked.new_address().address, COIN)])
    locked.close()


def test_a_wallet_directory_is_never_overwritten_nor_opened_twice(tmp_path: Path) -> None:
    wallet, _ = new_wallet(tmp_path)
    with pytest.raises(WalletMisuse, match="already holds a wallet"):
        new_wallet(tmp_path)
    with pytest.raises(WalletError, match="cannot open wallet database"):
        Wallet.open(tmp_path / "w", REGTEST)  # LevelDB's lock: one process at a time
    wallet.close()
    with pytest.raises(WalletInputError, match="no wallet"):
        Wallet.open(tmp_path / "nothing", REGTEST)
    with pytest.raises(WalletInputError, match="regtest wallet, not main"):
        Wallet.open(tmp_path / "w", MAINNET)


def test_a_wrong_bip39_passphrase_is_refused_at_unlock(tmp_path: Path) -> None:
    wallet, _ = new_wallet(tmp_path, bip39_passphrase="TREZOR")
    wallet.close()
    with pytest.raises(WalletInputError, match="not this wallet's"):
        Wallet.open(tmp_path / "w", REGTEST, "pw", bip39_passphrase="trezor")
    Wallet.open(tmp_path / "w", REGTEST, "pw", bip39_passphrase="TREZOR").close()


def test_send_pays_exact_amounts_and_fee(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    sent = funded.send(node, [(receiver.new_address().address, 7 * COIN)], fee_rate=FeeRate(3_000))
    # priced on the estimated size (71-byte signatures); a shorter low-S one saves a byte
    assert FeeRate(3_000).fee(sent.vsize) <= sent.fee <= FeeRate(3_000).fee(sent.vsize + 1)
    assert sent.change_address is not None and funded.is_mine(sent.change_address)
    node.mine_to_nobody()
    funded.sync(node)
    receiver.sync(node)
    assert receiver.balance().confirmed == 7 * COIN
    # the coinbase of block 2 matured at height 102; the spent one came back as change
    assert funded.balance().confirmed == 2 * SUBSIDY - 7 * COIN - sent.fee
    entry = next(h for h in funded.history() if h.txid == sent.txid)
    assert (entry.amount, entry.fee, entry.status) == (
        -7 * COIN - sent.fee,
        sent.fee,
        TxStatus.CONFIRMED,
    )


def test_the_next_send_spends_own_unconfirmed_change_not_the_same_coin(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    first = funded.send(node, [(funded.new_address().address, COIN)])
    second = funded.send(node, [(funded.new_address().address, COIN)])
    first_inputs = {i.prevout for i in funded.transaction(first.txid).vin}  # type: ignore[union-attr]
    second_inputs = {i.prevout for i in funded.transaction(second.txid).vin}  # type: ignore[union-attr]
    assert not first_inputs & second_inputs
    assert all(p.txid == first.txid for p in second_inputs)  # Core: trusted change
    mempool = node.call("getrawmempool")
    assert {first.txid_hex, second.txid_hex} <= set(mempool)


def test_send_errors_name_the_problem(funded: Wallet, node: InProcessNode) -> None:
    with pytest.raises(InsufficientFunds) as short:
        funded.send(node, [(funded.new_address().address, 60 * COIN)])
    assert short.value.available < 60 * COIN < short.value.needed
    assert str(short.value.needed) in str(short.value)
    assert str(short.value.available) in str(short.value)
    mainnet = derive_address(mnemonic_to_seed(ABANDON), AddressType.P2WPKH, MAINNET, 0, 0)
    with pytest.raises(InvalidAddress) as bad:
        funded.send(node, [(mainnet.address, COIN)])
    assert bad.value.address == mainnet.address and "bc" in bad.value.reason
    with pytest.raises(InvalidAddress):
        funded.send(node, [("not-an-address", COIN)])
    with pytest.raises(DustOutput) as dust:
        funded.send(node, [(funded.new_address().address, 100)])
    assert (dust.value.amount, dust.value.threshold) == (100, 294)
    assert funded.state.journal == {} and funded.balance().confirmed == SUBSIDY


def test_bump_replaces_the_payment_and_keeps_the_recipient(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    address = receiver.new_address().address
    original = funded.send(node, [(address, 4 * COIN)], fee_rate=FeeRate(1_000))
    bumped = funded.bump(node, original.txid)
    assert bumped.fee > original.fee
    assert funded.status_of(original.txid) is TxStatus.REPLACED
    assert set(node.call("getrawmempool")) == {bumped.txid_hex}
    node.mine_to_nobody()
    funded.sync(node)
    receiver.sync(node)
    assert receiver.balance().confirmed == 4 * COIN
    assert funded.balance().confirmed == 2 * SUBSIDY - 4 * COIN - bumped.fee
    assert funded.status_of(bumped.txid) is TxStatus.CONFIRMED
    assert funded.status_of(original.txid) is TxStatus.REPLACED


def test_watch_only_builds_a_psbt_the_seed_wallet_signs(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    mnemonic = _mnemonic(tmp_path)
    xpub = account_key(mnemonic_to_seed(mnemonic), AddressType.P2WPKH, REGTEST).neuter()
    watch = Wallet.create_watch_only(
        tmp_path / "watch",
        REGTEST,
        encode_slip132(xpub, AddressType.P2WPKH, REGTEST),
        AddressType.P2WPKH,
    )
    watch.sync(node)
    assert watch.balance() == funded.balance()
    with pytest.raises(WalletLocked):
        watch.send(node, [(watch.new_address().address, COIN)])
    psbt = watch.create_psbt([(watch.new_address().address, COIN)], fee_rate=FeeRate(2_000))
    [(pubkey, origin)] = [
        (key, KeyOrigin.deserialize(value))
        for kind, key, value in psbt.inputs[0].items()
        if kind == InputKey.BIP32_DERIVATION
    ]
    coin = next(c for c in funded.list_unspent() if c.spendable)
    # watch-only knows no master key: the account key's fingerprint and the path below it
    assert origin.fingerprint == xpub.fingerprint
    assert "m/84'/1'/0'/" + format_path(origin.path, relative=True) == coin.path
    assert pubkey == funded.state.by_script[coin.script_pubkey].derived.pubkey
    tx = extract_transaction(finalize_psbt(funded.sign_psbt(psbt)))
    funded.broadcast(node, tx)
    assert tx.txid[::-1].hex() in node.call("getrawmempool")
    watch.sync(node)
    assert watch.status_of(tx.txid) is TxStatus.UNCONFIRMED


def _mnemonic(tmp_path: Path) -> str:
    from wallets.keystore import read_keystore

    mnemonic = read_keystore(tmp_path / "w" / "keystore.json", "pw", REGTEST).mnemonic
    assert mnemonic is not None
    return mnemonic


def test_labels_name_history_entries_and_coins(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    address = receiver.new_address().address
    funded.set_label(address, "to bob")
    sent = funded.send(node, [(address, COIN)])
    receiver.set_label(address, "from alice")
    receiver.sync(node)
    assert next(h for h in funded.history() if h.txid == sent.txid).label == "to bob"
    assert receiver.history()[0].label == "from alice"
    assert receiver.list_unspent()[0].label == "from alice"
    with pytest.raises(InvalidAddress):
        funded.set_label("bc1qnope", "x")
    funded.set_label(address, "")
    assert funded.label_of(address) == ""
