"""HD wallets over btcnode: BIP39 mnemonics, BIP32 keys, BIP44/49/84 accounts, encrypted
keystores, coin selection, signing and PSBT, and the `wallet` command line."""

from wallets.errors import WalletError, WalletInputError, WalletMisuse, WrongPassphrase

__all__ = ["WalletError", "WalletInputError", "WalletMisuse", "WrongPassphrase"]
