"""Where a node keeps its files: Core's regtest layout under one data directory.

    <datadir>/regtest/LOCK         held while a node runs (`common.runtime.DataDir`)
    <datadir>/regtest/chainstate/  block index, blocks, UTXO set, undo data (LevelDB)
    <datadir>/regtest/mempool/     the mempool's transactions (LevelDB, `mempool_store`)
    <datadir>/regtest/.cookie      RPC cookie `__cookie__:<hex>`, 0600, while the node runs
    <datadir>/regtest/wallets/     the wallet RPC's wallets, one directory each (--walletdir)

Pure path arithmetic: nothing here touches the disk.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CHAINSTATE_DIR",
    "COOKIE_FILE",
    "DEFAULT_DATADIR",
    "MEMPOOL_DIR",
    "NETWORK_DIR",
    "WALLETS_DIR",
    "cookie_path",
    "network_dir",
]

DEFAULT_DATADIR = "~/.btcnode"  # Core's is ~/.bitcoin; a separate one never touches Core's
NETWORK_DIR = "regtest"  # the only network this node runs (Core's regtest subdirectory)
CHAINSTATE_DIR = "chainstate"
MEMPOOL_DIR = "mempool"
COOKIE_FILE = ".cookie"
WALLETS_DIR = "wallets"


def network_dir(datadir: str | Path) -> Path:
    """`<datadir>/regtest`, with `~` expanded."""
    return Path(datadir).expanduser() / NETWORK_DIR


def cookie_path(datadir: str | Path) -> Path:
    return network_dir(datadir) / COOKIE_FILE
