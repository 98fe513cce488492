"""UTXO views: the stored coin set, and a layer of changes made by one block.

`StoredCoins` reads coins straight from the store. `BlockCoinsView` layers the spends and
additions of the block being connected (or disconnected) over it, so a transaction sees
outputs created earlier in the same block and never sees a coin an earlier transaction
spent; nothing reaches the store until the chainstate writes `changes` in the block's batch.
Base reads are remembered, so checking a transaction's inputs and then spending them reads
each coin from the store once.
"""

from __future__ import annotations

from btcnode.chain.encoding import decode_coin, encode_coin
from btcnode.chain.layout import coin_key, coin_key_parts
from btcnode.consensus.coins import Coin
from btcnode.consensus.tx import OutPoint
from common.store.api import Store, WriteBatch

MAX_SCRIPT_SIZE = 10_000  # Core's script.h: a larger script can never be spent
OP_RETURN = 0x6A


def is_unspendable(script_pubkey: bytes) -> bool:
    """Core's CScript::IsUnspendable: such outputs never enter the UTXO set."""
    return (bool(script_pubkey) and script_pubkey[0] == OP_RETURN) or len(
        script_pubkey
    ) > MAX_SCRIPT_SIZE


class StoredCoins:
    """The UTXO set as stored (a `UtxoView`)."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self.get_by_key(coin_key(outpoint))

    def get_by_key(self, key: bytes) -> Coin | None:
        raw = self._store.get(key)
        return None if raw is None else decode_coin(raw)


class BlockCoinsView:
    """The stored coins with one block's changes on top; `changes` maps a coin key to the
    coin now there, or None where a coin was spent or removed."""

    __slots__ = ("_base", "_read", "changes")

    def __init__(self, base: StoredCoins) -> None:
        self._base = base
        self._read: dict[bytes, Coin | None] = {}
        self.changes: dict[bytes, Coin | None] = {}

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self._get(coin_key_parts(outpoint.txid, outpoint.n))

    def _get(self, key: bytes) -> Coin | None:
        if key in self.changes:
            return self.changes[key]
        if key not in self._read:
            self._read[key] = self._base.get_by_key(key)
        return self._read[key]

    def spend(self, outpoint: OutPoint) -> Coin | None:
        """Remove the coin at `outpoint`; returns what was there."""
        return self.spend_parts(outpoint.txid, outpoint.n)

    def spend_parts(self, txid: bytes, n: int) -> Coin | None:
        """Remove the coin at output `n` of `txid`; returns what was there."""
        key = coin_key_parts(txid, n)
        coin = self._get(key)
        self.changes[key] = None
        return coin

    def add(self, txid: bytes, n: int, coin: Coin) -> Coin | None:
        """Put `coin` at output `n` of `txid`; returns what was there before."""
        key = coin_key_parts(txid, n)
        previous = self._get(key)
        self.changes[key] = coin
        return previous

    def add_new(self, txid: bytes, n: int, coin: Coin) -> None:
        """Put a coin known not to exist yet (a fresh output; no read of the base)."""
        self.changes[coin_key_parts(txid, n)] = coin

    def write_to(self, batch: WriteBatch) -> None:
        for key, coin in self.changes.items():
            if coin is None:
                batch.delete(key)
            else:
                batch.put(key, encode_coin(coin))
