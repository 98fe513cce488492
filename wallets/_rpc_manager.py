"""The wallets `btcnode run` has loaded, by name, as Core's wallet RPC sees them.

`WalletManager` creates, loads and unloads the wallets of one wallet directory (one `Wallet`
data directory per name, `<walletdir>/<name>/`), picks the wallet a request is for (Core's
GetWalletForJSONRPCRequest: `/wallet/<name>`, or on `/` the only loaded wallet; -19 with
several, -18 with none), and keeps each encrypted wallet's unlock timer.

Encryption as Core's: a wallet created with a passphrase is encrypted and locked until
`walletpassphrase`. Without one, the keystore is sealed under a fixed, public placeholder
with the cheapest KDF: not encrypted, as Core's unencrypted wallets are not; a wallet whose
keystore does not open with the placeholder is encrypted. Locking reopens the wallet
without its password, so no key stays in memory after `walletlock` or a timeout.
"""

from __future__ import annotations

import enum
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from btcnode.consensus.params import ChainParams
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.registry import Call
from wallets.errors import WrongPassphrase
from wallets.keystore import DEFAULT_SCRYPT, ScryptParams
from wallets.wallet import NodeClient, Wallet

__all__ = [
    "MAX_UNLOCK_TIMEOUT_S",
    "NO_ENCRYPTION_KDF",
    "WALLET_URI_PREFIX",
    "LoadedWallet",
    "WalletManager",
    "WalletRpcCode",
]

WALLET_URI_PREFIX = "/wallet/"
MAX_UNLOCK_TIMEOUT_S = 100_000_000  # Core's MAX_SLEEP_TIME for walletpassphrase (~3 years)
UNENCRYPTED_PLACEHOLDER = "opentrust-unencrypted-wallet"  # public: "no passphrase" in Core
NO_ENCRYPTION_KDF = ScryptParams(n=2, r=1, p=1)  # the placeholder protects nothing: no cost
_WALLET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")  # a directory name, no paths


class WalletRpcCode(enum.IntEnum):
    """Core's codes the wallet methods use that the node's `RpcErrorCode` lacks."""

    INVALID_LABEL_NAME = -11
    METHOD_DEPRECATED = -32
    WALLET_ERROR = -4
    INSUFFICIENT_FUNDS = -6
    UNLOCK_NEEDED = -13
    PASSPHRASE_INCORRECT = -14
    WRONG_ENC_STATE = -15
    NOT_FOUND = -18
    NOT_SPECIFIED = -19
    ALREADY_LOADED = -35
    ALREADY_EXISTS = -36


@dataclass(slots=True)
class LoadedWallet:
    """A loaded wallet: `unlocked_until` is Core's (UNIX s; 0 locked; unused unencrypted)."""

    name: str
    path: Path
    wallet: Wallet
    encrypted: bool
    unlocked_until: int = 0

    def locked(self, now: int) -> bool:
        return self.encrypted and self.unlocked_until <= now


class WalletManager:
    """The loaded wallets of one wallet directory, by name."""

    def __init__(
        self,
        walletdir: Path,
        params: ChainParams,
        node_for: Callable[[Call], NodeClient],
        *,
        kdf: ScryptParams = DEFAULT_SCRYPT,
    ) -> None:
        self.walletdir = walletdir
        self.params = params
        self.node_for = node_for
        self.kdf = kdf
        self.loaded: dict[str, LoadedWallet] = {}

    def path_of(self, name: str) -> Path:
        if not _WALLET_NAME.fullmatch(name):
            raise RpcError(
                RpcErrorCode.INVALID_PARAMETER,
                f"Invalid wallet name {name!r}: use 1-64 letters, digits, '.', '_' or '-'",
            )
        return self.walletdir / name

    def create(self, name: str, passphrase: str | None) -> None:
        """Create and load wallet `name`; encrypted (and locked) iff a passphrase is given."""
        path = self.path_of(name)
        if path.exists():
            raise RpcError(
                WalletRpcCode.ALREADY_EXISTS,
                f"Wallet file verification failed. Failed to create database path '{path}'. "
                "Database already exists.",
            )
        self.walletdir.mkdir(parents=True, exist_ok=True)
        try:
            wallet = self._create_new(path, passphrase)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)  # it did not exist: leave nothing half-made
            raise
        self.loaded[name] = LoadedWallet(name, path, wallet, encrypted=bool(passphrase))

    def _create_new(self, path: Path, passphrase: str | None) -> Wallet:
        if not passphrase:
            wallet, _ = Wallet.create(
                path, self.params, UNENCRYPTED_PLACEHOLDER, kdf=NO_ENCRYPTION_KDF
            )
            return wallet
        wallet, _ = Wallet.create(path, self.params, passphrase, kdf=self.kdf)
        wallet.close()
        return Wallet.open(path, self.params)  # locked until walletpassphrase

    def load(self, name: str) -> None:
        path = self.path_of(name)
        if name in self.loaded:
            raise RpcError(WalletRpcCode.ALREADY_LOADED, f'Wallet "{name}" is already loaded.')
        if not path.is_dir():
            raise RpcError(
                WalletRpcCode.NOT_FOUND,
                f"Wallet file verification failed. Failed to load database path '{path}'. "
                "Path does not exist.",
            )
        wallet = Wallet.open(path, self.params)
        try:
            wallet.unlock(UNENCRYPTED_PLACEHOLDER)
            encrypted = False
        except WrongPassphrase:
            encrypted = True
        except BaseException:
            wallet.close()
            raise
        self.loaded[name] = LoadedWallet(name, path, wallet, encrypted)

    def unload(self, name: str) -> None:
        entry = self.loaded.pop(name, None)
        if entry is None:
            raise RpcError(
                WalletRpcCode.NOT_FOUND, "Requested wallet does not exist or is not loaded"
            )
        entry.wallet.close()

    def close_all(self) -> None:
        for name in list(self.loaded):
            self.unload(name)

    def named(self, uri: str) -> LoadedWallet:
        """The wallet a request is for: Core's GetWalletForJSONRPCRequest."""
        if uri.startswith(WALLET_URI_PREFIX):
            entry = self.loaded.get(uri[len(WALLET_URI_PREFIX) :])
            if entry is None:
                raise RpcError(
                    WalletRpcCode.NOT_FOUND, "Requested wallet does not exist or is not loaded"
                )
            return entry
        if len(self.loaded) == 1:
            return next(iter(self.loaded.values()))
        if not self.loaded:
            raise RpcError(
                WalletRpcCode.NOT_FOUND,
                "No wallet is loaded. Load a wallet using loadwallet or create a new one with "
                "createwallet. (Note: A default wallet is no longer automatically created)",
            )
        raise RpcError(
            WalletRpcCode.NOT_SPECIFIED,
            "Wallet file not specified (must request wallet RPC through /wallet/<filename> "
            "uri-path).",
        )

    def for_call(self, call: Call, *, sync: bool = True) -> LoadedWallet:
        """The request's wallet, relocked if its unlock timed out, synced with the node."""
        entry = self.named(call.uri)
        if entry.encrypted and entry.unlocked_until and entry.locked(call.ctx.clock()):
            self.lock(entry)
        if sync:
            entry.wallet.sync(self.node_for(call))
        return entry

    def lock(self, entry: LoadedWallet) -> None:
        """Forget the keys; the wallet stays open (and keeps its mempool cache)."""
        entry.wallet.lock()
        entry.unlocked_until = 0

    def unlock(self, entry: LoadedWallet, passphrase: str, until: int) -> None:
        try:
            entry.wallet.unlock(passphrase)
        except WrongPassphrase:
            raise RpcError(
                WalletRpcCode.PASSPHRASE_INCORRECT,
                "Error: The wallet passphrase entered was incorrect.",
            ) from None
        entry.unlocked_until = until
