"""HD wallets over btcnode: BIP39 mnemonics, BIP32 keys, BIP44/49/84 accounts, encrypted
keystores, coin selection, signing and PSBT, and the `wallet` command line."""

from wallets.bip32 import (
    ExtendedKey,
    ExtendedKeyError,
    ExtendedKeyProblem,
    InvalidChildKey,
    InvalidPathError,
    KeyVersions,
    extended_key_network,
    format_path,
    parse_path,
)
from wallets.bip39 import (
    MnemonicChecksumError,
    MnemonicError,
    MnemonicLengthError,
    UnknownMnemonicWord,
    entropy_to_mnemonic,
    mnemonic_to_entropy,
    mnemonic_to_seed,
    mnemonic_to_seed_unchecked,
    normalize_mnemonic,
)
from wallets.errors import WalletError, WalletInputError, WalletMisuse, WrongPassphrase

__all__ = [
    "ExtendedKey",
    "ExtendedKeyError",
    "ExtendedKeyProblem",
    "InvalidChildKey",
    "InvalidPathError",
    "KeyVersions",
    "MnemonicChecksumError",
    "MnemonicError",
    "MnemonicLengthError",
    "UnknownMnemonicWord",
    "WalletError",
    "WalletInputError",
    "WalletMisuse",
    "WrongPassphrase",
    "entropy_to_mnemonic",
    "extended_key_network",
    "format_path",
    "mnemonic_to_entropy",
    "mnemonic_to_seed",
    "mnemonic_to_seed_unchecked",
    "normalize_mnemonic",
    "parse_path",
]
