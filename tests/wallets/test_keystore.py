"""Keystores: round trips, wrong passwords, corruption, bounds, permissions, no leaks."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from btcnode.consensus.params import MAINNET, REGTEST
from wallets.accounts import AddressType, account_key, derive_address
from wallets.bip39 import entropy_to_mnemonic
from wallets.errors import WalletError, WalletInputError, WalletMisuse, WrongPassphrase
from wallets.keystore import (
    DEFAULT_SCRYPT,
    KeystoreCorrupted,
    KeystorePermissionError,
    ScryptParams,
    WalletSecret,
    WatchOnlyAccount,
    read_keystore,
    read_watch_only,
    seal,
    unseal,
    write_keystore,
    write_watch_only,
)

FAST = ScryptParams(n=2**4, r=8, p=1)  # tests only: the default costs ~1 s per unlock
MNEMONIC = entropy_to_mnemonic(bytes(range(100, 132)))  # 24 words
WORDS = set(MNEMONIC.split(" "))
PASSWORD = "Tr0ub4dor&3-horse-staple"
SEED = bytes(range(7, 71))  # 64 bytes
SALT, NONCE = bytes(range(16)), bytes(range(12))


def _sealed(secret: WalletSecret | None = None) -> bytes:
    return seal(
        secret or WalletSecret.from_mnemonic(MNEMONIC), PASSWORD, REGTEST, FAST, SALT, NONCE
    )


def _assert_no_secret(text: str) -> None:
    assert PASSWORD not in text and MNEMONIC not in text and SEED.hex() not in text
    leaked = [word for word in WORDS if f" {word} " in f" {text} " or f"'{word}'" in text]
    assert not leaked, leaked


def test_default_cost_is_strong() -> None:
    assert ScryptParams(n=2**17, r=8, p=1) == DEFAULT_SCRYPT


def test_round_trip_mnemonic(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    secret = WalletSecret.from_mnemonic(MNEMONIC, has_bip39_passphrase=True)
    write_keystore(path, secret, PASSWORD, REGTEST, kdf=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    restored = read_keystore(path, PASSWORD, REGTEST)
    assert restored == secret
    assert restored.to_seed("extra words") != WalletSecret.from_mnemonic(MNEMONIC).to_seed()
    document = json.loads(path.read_text())
    assert set(document) == {"format", "version", "kind", "network", "kdf", "cipher", "ciphertext"}
    assert document["kdf"] | {"salt": None} == {
        "name": "scrypt",
        "n": 16,
        "r": 8,
        "p": 1,
        "salt": None,
    }
    _assert_no_secret(path.read_text())


def test_round_trip_seed_and_fresh_randomness(tmp_path: Path) -> None:
    secret = WalletSecret(None, SEED)
    first, second = tmp_path / "a", tmp_path / "b"
    write_keystore(first, secret, PASSWORD, REGTEST, kdf=FAST)
    write_keystore(second, secret, PASSWORD, REGTEST, kdf=FAST)
    assert read_keystore(first, PASSWORD, REGTEST).to_seed() == SEED
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["kdf"]["salt"] != b["kdf"]["salt"] and a["cipher"]["nonce"] != b["cipher"]["nonce"]


def test_seal_is_deterministic_given_salt_and_nonce() -> None:
    assert _sealed() == _sealed()
    assert unseal(_sealed(), PASSWORD, REGTEST, "mem") == WalletSecret.from_mnemonic(MNEMONIC)


def test_wrong_password() -> None:
    with pytest.raises(WrongPassphrase) as caught:
        unseal(_sealed(), PASSWORD + "x", REGTEST, "w.json")
    assert "wrong password for keystore w.json" in str(caught.value)
    _assert_no_secret(str(caught.value))


def test_altered_header_fails_authentication() -> None:
    document = json.loads(_sealed())
    document["kdf"]["n"] = 32  # still within bounds, so only GCM's tag can notice
    with pytest.raises(WrongPassphrase):
        unseal(json.dumps(document).encode(), PASSWORD, REGTEST, "w.json")


def test_flipped_ciphertext_bit_fails_authentication() -> None:
    document = json.loads(_sealed())
    raw = bytearray(bytes.fromhex(document["ciphertext"]))
    raw[3] ^= 1
    document["ciphertext"] = raw.hex()
    with pytest.raises(WrongPassphrase):
        unseal(json.dumps(document).encode(), PASSWORD, REGTEST, "w.json")


def _edit(change: Any) -> bytes:
    document = json.loads(_sealed())
    change(document)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_sealed()[:-40], "not a complete JSON document"),
        (b"", "not a complete JSON document"),
        (b"[]", "not a JSON object"),
        (b"\xff\xfe", "not a complete JSON document"),
        (_edit(lambda d: d.update(version=2)), "version 1"),
        (_edit(lambda d: d.pop("cipher")), "keystore fields"),
        (_edit(lambda d: d.update(extra=1)), "keystore fields"),
        (_edit(lambda d: d["kdf"].update(name="pbkdf2")), "unsupported kdf"),
        (_edit(lambda d: d["kdf"].update(n=2**30)), "scrypt parameters refused"),
        (_edit(lambda d: d["kdf"].update(n=1000)), "power of two"),
        (_edit(lambda d: d["kdf"].update(p=10**9)), "scrypt parameters refused"),
        (_edit(lambda d: d["kdf"].update(n=True)), "scrypt parameters refused"),
        (_edit(lambda d: d["kdf"].update(salt="zz")), "salt is not hex"),
        (_edit(lambda d: d["cipher"].update(nonce="00")), "nonce is 1 bytes"),
        (_edit(lambda d: d.update(ciphertext="00" * 15)), "shorter than the 16-byte tag"),
        (b'{"format": 1, "format": 2}', "not a complete JSON document"),
        (b" " * (64 * 1024 + 1), "at most 65536"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_corrupted(data: bytes, reason: str) -> None:
    with pytest.raises(KeystoreCorrupted) as caught:
        unseal(data, PASSWORD, REGTEST, "w.json")
    assert str(caught.value).startswith("keystore w.json is corrupted: ")
    assert reason in caught.value.reason
    _assert_no_secret(str(caught.value))


def test_network_and_kind_are_checked() -> None:
    with pytest.raises(WalletInputError, match="'regtest', expected 'mainnet'"):
        unseal(_sealed(), PASSWORD, MAINNET, "w.json")
    key = account_key(SEED, AddressType.P2WPKH, REGTEST).neuter()
    from wallets.keystore import encode_watch_only

    watch = encode_watch_only(WatchOnlyAccount(AddressType.P2WPKH, key), REGTEST)
    with pytest.raises(WalletInputError, match="'watch-only', expected 'encrypted'"):
        unseal(watch, PASSWORD, REGTEST, "w.json")


def test_permissions_too_open_refused(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    write_keystore(path, WalletSecret(None, SEED), PASSWORD, REGTEST, kdf=FAST)
    os.chmod(path, 0o640)
    with pytest.raises(KeystorePermissionError) as caught:
        read_keystore(path, PASSWORD, REGTEST)
    assert caught.value.mode == 0o640 and "chmod 600" in str(caught.value)
    os.chmod(path, 0o400)
    assert read_keystore(path, PASSWORD, REGTEST).to_seed() == SEED


def test_existing_file_not_replaced_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    write_keystore(path, WalletSecret(None, SEED), PASSWORD, REGTEST, kdf=FAST)
    with pytest.raises(WalletMisuse, match="exists"):
        write_keystore(path, WalletSecret.from_mnemonic(MNEMONIC), PASSWORD, REGTEST, kdf=FAST)
    write_keystore(
        path, WalletSecret.from_mnemonic(MNEMONIC), "new", REGTEST, kdf=FAST, overwrite=True
    )
    assert read_keystore(path, "new", REGTEST).mnemonic == MNEMONIC
    assert [p.name for p in tmp_path.iterdir()] == ["wallet.json"]  # no temp file left


def test_missing_file_and_non_regular_file(tmp_path: Path) -> None:
    with pytest.raises(WalletInputError, match="cannot open keystore"):
        read_keystore(tmp_path / "absent", PASSWORD, REGTEST)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    for path in (tmp_path, fifo):
        with pytest.raises(WalletInputError, match="not a regular file"):
            read_keystore(path, PASSWORD, REGTEST)
    os.symlink(fifo, tmp_path / "link")
    with pytest.raises(WalletInputError, match="cannot open keystore"):
        read_keystore(tmp_path / "link", PASSWORD, REGTEST)  # O_NOFOLLOW


def test_unwritable_directory_is_a_wallet_error(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match="cannot write keystore"):
        write_keystore(tmp_path / "no" / "dir", WalletSecret(None, SEED), "pw", REGTEST, kdf=FAST)


def test_secret_reprs_and_errors_hold_no_secret() -> None:
    mnemonic_secret = WalletSecret.from_mnemonic(MNEMONIC)
    seed_secret = WalletSecret(None, SEED)
    assert (
        repr(mnemonic_secret) == "WalletSecret(<mnemonic of 24 words>, has_bip39_passphrase=False)"
    )
    _assert_no_secret(repr(mnemonic_secret) + str(mnemonic_secret) + repr(seed_secret))
    swapped = MNEMONIC.split(" ")
    swapped[0], swapped[1] = swapped[1], swapped[0]  # every word known, checksum broken
    with pytest.raises(WalletInputError) as caught:
        WalletSecret.from_mnemonic(" ".join(swapped))
    _assert_no_secret(str(caught.value))


def test_empty_password_and_secret_shape_refused() -> None:
    with pytest.raises(WalletInputError, match="non-empty password"):
        seal(WalletSecret(None, SEED), "", REGTEST, FAST, SALT, NONCE)
    with pytest.raises(WalletMisuse):
        WalletSecret(MNEMONIC, SEED)
    with pytest.raises(WalletMisuse):
        WalletSecret(None, SEED[:15])
    with pytest.raises(WalletMisuse, match="needs its BIP39 passphrase"):
        WalletSecret.from_mnemonic(MNEMONIC, has_bip39_passphrase=True).to_seed()
    with pytest.raises(WalletMisuse, match="scrypt n=1048576, r=8 needs"):
        ScryptParams(n=2**20, r=8, p=1)


def test_watch_only_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "watch.json"
    key = account_key(SEED, AddressType.P2SH_P2WPKH, REGTEST).neuter()
    write_watch_only(path, WatchOnlyAccount(AddressType.P2SH_P2WPKH, key), REGTEST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    account = read_watch_only(path, REGTEST)
    assert account == WatchOnlyAccount(AddressType.P2SH_P2WPKH, key)
    assert derive_address(account.account_key, AddressType.P2SH_P2WPKH, REGTEST, 0, 4) == (
        derive_address(SEED, AddressType.P2SH_P2WPKH, REGTEST, 0, 4)
    )
    assert json.loads(path.read_text())["account_key"].startswith("tpub")
    with pytest.raises(WalletMisuse):
        WatchOnlyAccount(AddressType.P2WPKH, key.__class__.from_seed(SEED))


def test_watch_only_corrupted(tmp_path: Path) -> None:
    path = tmp_path / "watch.json"
    key = account_key(SEED, AddressType.P2WPKH, REGTEST).neuter()
    write_watch_only(path, WatchOnlyAccount(AddressType.P2WPKH, key), REGTEST)
    document = json.loads(path.read_text())
    document["account_key"] = document["account_key"][:-1] + "x"
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreCorrupted, match="account key refused"):
        read_watch_only(path, REGTEST)
    document["account_key"], document["address_type"] = key.to_base58(REGTEST), "P2TR"
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreCorrupted, match="unknown address type"):
        read_watch_only(path, REGTEST)
