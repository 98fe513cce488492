"""BIP44/49/84 accounts against the BIP49/BIP84 examples ("abandon ... about")."""

from __future__ import annotations

from typing import Any

import pytest

from btcnode.address import WifKey, decode_segwit_address, decode_wif, script_for_address
from btcnode.consensus.hashes import hash160
from btcnode.consensus.params import MAINNET, REGTEST
from tests.vectors import load_json
from wallets.accounts import (
    CHANGE,
    RECEIVE,
    AddressType,
    DerivedAddress,
    account_key,
    account_path,
    address_key,
    address_path,
    decode_account_key,
    derive_address,
    derive_addresses,
    encode_slip132,
)
from wallets.bip32 import ExtendedKey, ExtendedKeyError, ExtendedKeyProblem
from wallets.bip39 import mnemonic_to_seed
from wallets.errors import WalletMisuse

_FILE: dict[str, Any] = load_json("bitcoin", "bip32_vectors.json")
BIP84: list[dict[str, str]] = _FILE["bip84"]["entries"]
BIP49: list[dict[str, str]] = _FILE["bip49"]["entries"]
ABOUT = " ".join(["abandon"] * 11 + ["about"])
SEED = mnemonic_to_seed(ABOUT)
TESTNET_SUFFIX = " (testnet)"


def _testnet_value(text: str) -> str:
    """BIP49 prints its testnet values as 'value (testnet)' or 'expr = value (testnet)'."""
    assert text.endswith(TESTNET_SUFFIX)
    return text.removesuffix(TESTNET_SUFFIX).rsplit(" = ", 1)[-1]


def _path_of(label: str) -> tuple[int, int]:
    """(change, index) from a label ending in "= m/84'/0'/0'/<change>/<index>"."""
    *_, change, index = label.rsplit("= ", 1)[1].split("/")
    return int(change), int(index)


def test_bip84_example_has_root_account_and_three_addresses() -> None:
    assert [entry["label"].split(",")[0] for entry in BIP84] == ["root"] + ["Account 0"] * 4
    assert BIP84[0]["mnemonic"] == ABOUT


def test_bip84_root_and_account_keys_mainnet() -> None:
    root, account = BIP84[0], BIP84[1]
    master = ExtendedKey.from_seed(SEED)
    assert encode_slip132(master, AddressType.P2WPKH, MAINNET) == root["rootpriv"]
    assert encode_slip132(master.neuter(), AddressType.P2WPKH, MAINNET) == root["rootpub"]
    key = account_key(SEED, AddressType.P2WPKH, MAINNET)
    assert encode_slip132(key, AddressType.P2WPKH, MAINNET) == account["xpriv"]
    assert encode_slip132(key.neuter(), AddressType.P2WPKH, MAINNET) == account["xpub"]
    assert decode_account_key(account["xpub"], AddressType.P2WPKH, MAINNET) == key.neuter()
    assert decode_account_key(account["xpriv"], AddressType.P2WPKH, MAINNET) == key
    plain = key.neuter().to_base58(MAINNET)
    assert decode_account_key(plain, AddressType.P2WPKH, MAINNET) == key.neuter()


@pytest.mark.parametrize("entry", BIP84[2:], ids=[e["label"][-14:] for e in BIP84[2:]])
def test_bip84_addresses_from_seed_and_from_zpub(entry: dict[str, str]) -> None:
    change, index = _path_of(entry["label"])
    derived = derive_address(SEED, AddressType.P2WPKH, MAINNET, change, index)
    assert derived.address == entry["address"]
    assert derived.pubkey.hex() == entry["pubkey"]
    assert derived.path == f"m/84'/0'/0'/{change}/{index}"
    assert derived.script_pubkey == script_for_address(entry["address"], MAINNET)
    watch_only = decode_account_key(BIP84[1]["xpub"], AddressType.P2WPKH, MAINNET)
    assert not watch_only.is_private
    assert derive_address(watch_only, AddressType.P2WPKH, MAINNET, change, index) == derived
    private = address_key(account_key(SEED, AddressType.P2WPKH, MAINNET), change, index)
    assert decode_wif(entry["privkey"], MAINNET) == WifKey(private.private_key, compressed=True)


def test_bip49_testnet_example_on_regtest() -> None:
    """Regtest shares testnet's Base58 prefixes, WIF prefix and tprv/tpub (so uprv/upub),
    and its coin type 1', so BIP49's testnet example holds on regtest as printed."""
    root, account, receive, derivation, address = BIP49
    assert root["masterseedWords"] == ABOUT
    master = ExtendedKey.from_seed(SEED)
    assert encode_slip132(master, AddressType.P2SH_P2WPKH, REGTEST) == _testnet_value(
        root["masterseed"]
    )
    key = account_key(SEED, AddressType.P2SH_P2WPKH, REGTEST)
    xprv, xpub = _testnet_value(account["account0Xpriv"]), _testnet_value(account["account0Xpub"])
    assert encode_slip132(key, AddressType.P2SH_P2WPKH, REGTEST) == xprv
    assert encode_slip132(key.neuter(), AddressType.P2SH_P2WPKH, REGTEST) == xpub
    derived = derive_address(SEED, AddressType.P2SH_P2WPKH, REGTEST, RECEIVE, 0)
    assert derived.path == "m/49'/1'/0'/0/0"
    assert "0x" + derived.pubkey.hex() == receive["account0recvPublicKeyHex"]
    secret = address_key(key, RECEIVE, 0).private_key
    assert "0x" + secret.hex() == receive["account0recvPrivateKeyHex"]
    assert decode_wif(receive["account0recvPrivateKey"], REGTEST).secret == secret
    assert derivation["keyhash"].endswith(hash160(derived.pubkey).hex())
    assert derivation["addressBytes"].endswith(hash160(b"\x00\x14" + hash160(derived.pubkey)).hex())
    assert derived.address == _testnet_value(address["address"])
    watch_only = decode_account_key(xpub, AddressType.P2SH_P2WPKH, REGTEST)
    assert derive_address(watch_only, AddressType.P2SH_P2WPKH, REGTEST, RECEIVE, 0) == derived


def test_regtest_addresses_use_coin_type_1() -> None:
    legacy = derive_address(SEED, AddressType.P2PKH, REGTEST, RECEIVE, 0)
    nested = derive_address(SEED, AddressType.P2SH_P2WPKH, REGTEST, CHANGE, 3)
    native = derive_address(SEED, AddressType.P2WPKH, REGTEST, RECEIVE, 0)
    assert legacy.address[0] in "mn" and legacy.path == "m/44'/1'/0'/0/0"
    assert nested.address.startswith("2") and nested.path == "m/49'/1'/0'/1/3"
    assert native.address.startswith("bcrt1q") and native.path == "m/84'/1'/0'/0/0"
    # BIP84's testnet first address for this mnemonic is tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl
    _, program = decode_segwit_address("tb", "tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl")
    assert native.script_pubkey == b"\x00\x14" + program
    for derived in (legacy, nested, native):
        assert script_for_address(derived.address, REGTEST) == derived.script_pubkey


def test_bip44_mainnet_first_address() -> None:
    # the well-known first BIP44 address of "abandon ... about" (iancoleman, Electrum)
    derived = derive_address(SEED, AddressType.P2PKH, MAINNET, RECEIVE, 0)
    assert derived.address == "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA"


def test_paths() -> None:
    assert account_path(AddressType.P2WPKH, REGTEST) == "m/84'/1'/0'"
    assert account_path(AddressType.P2PKH, MAINNET, 7) == "m/44'/0'/7'"
    assert address_path(AddressType.P2WPKH, REGTEST, 0, 0, 5) == "m/84'/1'/0'/0/5"
    for bad in ((0, 2, 0), (0, 0, 2**31), (-1, 0, 0), (0, True, 0)):
        with pytest.raises(WalletMisuse):
            address_path(AddressType.P2WPKH, REGTEST, *bad)


def test_account_number_comes_from_the_account_key() -> None:
    key = account_key(SEED, AddressType.P2WPKH, REGTEST, account=2)
    derived = derive_address(key.neuter(), AddressType.P2WPKH, REGTEST, RECEIVE, 1)
    assert derived.path == "m/84'/1'/2'/0/1"
    assert derived == derive_address(SEED, AddressType.P2WPKH, REGTEST, RECEIVE, 1, account=2)
    with pytest.raises(WalletMisuse, match="account 1"):
        derive_address(key, AddressType.P2WPKH, REGTEST, RECEIVE, 1, account=1)


def test_keys_that_are_not_account_keys_are_refused() -> None:
    master = ExtendedKey.from_seed(SEED)
    with pytest.raises(WalletMisuse, match="depth 2"):
        derive_address(master.derive_path("m/84'/1'"), AddressType.P2WPKH, REGTEST, 0, 0)
    with pytest.raises(WalletMisuse, match="private master key"):
        derive_address(master.neuter(), AddressType.P2WPKH, REGTEST, 0, 0)


def test_slip132_of_another_type_or_network_refused() -> None:
    zpub = BIP84[1]["xpub"]
    with pytest.raises(ExtendedKeyError) as caught:
        decode_account_key(zpub, AddressType.P2SH_P2WPKH, MAINNET)
    assert caught.value.problem is ExtendedKeyProblem.WRONG_ADDRESS_TYPE
    assert "P2WPKH" in str(caught.value) and "P2SH_P2WPKH" in str(caught.value)
    with pytest.raises(ExtendedKeyError) as caught:
        decode_account_key(zpub, AddressType.P2WPKH, REGTEST)
    assert caught.value.problem is ExtendedKeyProblem.UNKNOWN_VERSION
    tpub = account_key(SEED, AddressType.P2WPKH, REGTEST).neuter().to_base58(REGTEST)
    with pytest.raises(ExtendedKeyError) as caught:
        decode_account_key(tpub, AddressType.P2WPKH, MAINNET)
    assert caught.value.problem is ExtendedKeyProblem.WRONG_NETWORK


def test_derived_address_validates() -> None:
    with pytest.raises(WalletMisuse):
        DerivedAddress("bcrt1q", b"", "m/0", b"\x04" + bytes(32))


@pytest.mark.parametrize("address_type", list(AddressType))
def test_a_range_of_addresses_is_each_address_derived_alone(address_type: AddressType) -> None:
    account = account_key(SEED, address_type, REGTEST)
    for change in (RECEIVE, CHANGE):
        batch = derive_addresses(account, address_type, REGTEST, change, range(3, 9))
        alone = [derive_address(account, address_type, REGTEST, change, i) for i in range(3, 9)]
        assert batch == alone
    with pytest.raises(WalletMisuse):
        derive_addresses(account, address_type, REGTEST, 2, range(1))
