"""A wallet directory: `keystore.json` (the mnemonic, encrypted) or `watch-only.json` (one
account's public key), and `wallet.db/`, the LevelDB of `wallets.state`.

Creating refuses a directory that already holds a wallet; the database is opened by one
process at a time (LevelDB's lock), and a second opener gets a clear `WalletError`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from btcnode.consensus.params import ChainParams
from common.store import LevelStore, StoreError
from wallets.accounts import AddressType, account_key, decode_account_key
from wallets.bip32 import ExtendedKey
from wallets.bip39 import entropy_to_mnemonic, normalize_mnemonic
from wallets.errors import WalletError, WalletInputError, WalletMisuse
from wallets.keystore import (
    ScryptParams,
    WalletSecret,
    WatchOnlyAccount,
    read_keystore,
    write_keystore,
    write_watch_only,
)
from wallets.state import WalletKind, WalletMeta, WalletState

__all__ = [
    "DATABASE_DIR",
    "KEYSTORE_FILE",
    "SEED_ACCOUNT_TYPES",
    "WATCH_ONLY_FILE",
    "create_seed_wallet",
    "create_watch_only_wallet",
    "open_wallet_state",
    "unlock_accounts",
]

KEYSTORE_FILE = "keystore.json"
WATCH_ONLY_FILE = "watch-only.json"
DATABASE_DIR = "wallet.db"
NEW_MNEMONIC_ENTROPY_BYTES = 32  # 24 words (BIP39: 256 bits of entropy)
SEED_ACCOUNT_TYPES = (AddressType.P2WPKH, AddressType.P2SH_P2WPKH, AddressType.P2PKH)

PrivateAccounts = dict[AddressType, ExtendedKey]


def _open_store(path: Path, *, create: bool) -> LevelStore:
    try:
        return LevelStore(path, create=create)
    except StoreError as err:
        raise WalletError(f"cannot open wallet database {path}: {err}") from None


def _new_datadir(datadir: Path) -> Path:
    if (datadir / DATABASE_DIR).exists() or (datadir / KEYSTORE_FILE).exists():
        raise WalletMisuse(f"{datadir} already holds a wallet")
    datadir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return datadir


def create_seed_wallet(
    datadir: Path,
    params: ChainParams,
    password: str,
    mnemonic: str | None,
    bip39_passphrase: str,
    kdf: ScryptParams,
) -> tuple[WalletState, PrivateAccounts, str]:
    """A keystore and a database for `mnemonic` (a fresh 24-word one if None): the state,
    the private account keys and the mnemonic in canonical form."""
    if mnemonic is None:
        mnemonic = entropy_to_mnemonic(secrets.token_bytes(NEW_MNEMONIC_ENTROPY_BYTES))
    secret = WalletSecret.from_mnemonic(mnemonic, bool(bip39_passphrase))
    master = ExtendedKey.from_seed(secret.to_seed(bip39_passphrase))
    private = {t: account_key(master, t, params) for t in SEED_ACCOUNT_TYPES}
    publics = tuple((t, key.neuter()) for t, key in private.items())
    meta = WalletMeta(params.name, WalletKind.SEED, master.fingerprint, publics)
    datadir = _new_datadir(datadir)
    write_keystore(datadir / KEYSTORE_FILE, secret, password, params, kdf=kdf)
    state = WalletState.initialize(_open_store(datadir / DATABASE_DIR, create=True), params, meta)
    return state, private, normalize_mnemonic(mnemonic)


def create_watch_only_wallet(
    datadir: Path, params: ChainParams, account_text: str, address_type: AddressType
) -> WalletState:
    """A watch-only account file and a database for the account key `account_text`."""
    key = decode_account_key(account_text, address_type, params)
    if key.is_private:
        raise WalletInputError(
            "a watch-only wallet takes the account's public key, not a private one"
        )
    datadir = _new_datadir(datadir)
    write_watch_only(datadir / WATCH_ONLY_FILE, WatchOnlyAccount(address_type, key), params)
    meta = WalletMeta(params.name, WalletKind.WATCH_ONLY, key.fingerprint, ((address_type, key),))
    return WalletState.initialize(_open_store(datadir / DATABASE_DIR, create=True), params, meta)


def open_wallet_state(datadir: Path, params: ChainParams) -> WalletState:
    if not (datadir / DATABASE_DIR).is_dir():
        raise WalletInputError(f"no wallet in {datadir}")
    store = _open_store(datadir / DATABASE_DIR, create=False)
    try:
        return WalletState.load(store, params)
    except BaseException:
        store.close()
        raise


def unlock_accounts(
    datadir: Path, state: WalletState, password: str, bip39_passphrase: str
) -> PrivateAccounts:
    """The private account keys from the keystore, checked against the wallet's xpubs (a
    wrong BIP39 passphrase gives another, valid-looking seed)."""
    if state.meta.kind is not WalletKind.SEED:
        raise WalletMisuse("a watch-only wallet has no keys to unlock")
    params = state.params
    secret = read_keystore(datadir / KEYSTORE_FILE, password, params)
    master = ExtendedKey.from_seed(secret.to_seed(bip39_passphrase))
    private = {t: account_key(master, t, params) for t, _ in state.meta.accounts}
    for address_type, public in state.meta.accounts:
        if private[address_type].neuter() != public:
            raise WalletInputError("the keystore's seed (or BIP39 passphrase) is not this wallet's")
    return private
