"""Errors of the wallet: whose fault it was.

`WalletError` is the base. `WalletMisuse` is a caller's mistake (a bad path, an impossible
amount). `WalletInputError` is bad input from a user or a file: a mnemonic with a wrong word
or checksum, a malformed extended key, an address of another network, a corrupted keystore;
its message is the one line the CLI prints. `WrongPassphrase` is a keystore that does not
open with the password given. Messages never contain secrets (seeds, keys, passwords).
"""

from __future__ import annotations

__all__ = ["WalletError", "WalletInputError", "WalletMisuse", "WrongPassphrase"]


class WalletError(Exception):
    """Base of every error raised by `wallets`."""


class WalletMisuse(WalletError):
    """The caller used the wallet API wrongly; fixing the call fixes it."""


class WalletInputError(WalletError):
    """A user-supplied value or file is invalid; the message says which and why."""


class WrongPassphrase(WalletInputError):
    """The keystore did not decrypt: the password is wrong (or the file was altered)."""
