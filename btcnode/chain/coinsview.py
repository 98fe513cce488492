"""UTXO views: the coin set (stored coins plus a write-back cache), and a layer of changes
made by one block.

`StoredCoins` is Core's CCoinsViewCache over CCoinsViewDB: reads look at the changes not yet
flushed, then at the store. The chainstate `apply`s each connected or disconnected block's
changes to it and writes them out with `write_to` when it flushes (see `flushing`). A coin
created and spent between two flushes never touches the store (Core's FRESH flag): its
creation is simply forgotten when it is spent.

`BlockCoinsView` layers the spends and additions of the block being connected (or
disconnected) over it, so a transaction sees outputs created earlier in the same block and
never sees a coin an earlier transaction spent; nothing reaches the coin set until the
chainstate applies `changes`. Base reads are remembered, so checking a transaction's inputs
and then spending them reads each coin once.
"""

from __future__ import annotations

from btcnode.chain.encoding import decode_coin, encode_coin
from btcnode.chain.layout import coin_key, coin_key_parts
from btcnode.consensus.coins import Coin
from btcnode.consensus.tx import OutPoint
from common.store.api import Store, WriteBatch


class StoredCoins:
    """The UTXO set (a `UtxoView`): the stored coins with the unflushed changes on top.

    `_pending` maps a coin key to the coin now there, or None where a stored coin is gone;
    `_fresh` holds the keys of pending coins the store does not have (created since the last
    flush), so spending one drops it instead of recording a delete.
    """

    __slots__ = ("_fresh", "_pending", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[bytes, Coin | None] = {}
        self._fresh: set[bytes] = set()

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self.get_by_key(coin_key(outpoint))

    def get_by_key(self, key: bytes) -> Coin | None:
        pending = self._pending
        if key in pending:
            return pending[key]
        raw = self._store.get(key)
        return None if raw is None else decode_coin(raw)

    @property
    def pending_count(self) -> int:
        """How many coin keys differ from the store (what a flush would write)."""
        return len(self._pending)

    def apply(self, changes: dict[bytes, Coin | None]) -> None:
        """Take one block's `BlockCoinsView.changes` into the cache.

        Precondition (kept by connect and disconnect): a coin is only put where none is.
        """
        pending, fresh = self._pending, self._fresh
        for key, coin in changes.items():
            if coin is None:
                if key in fresh:
                    fresh.discard(key)
                    del pending[key]
                else:
                    pending[key] = None
            elif key not in pending:
                pending[key] = coin
                fresh.add(key)
            else:
                pending[key] = coin  # over a pending delete: the store has a coin there

    def write_to(self, batch: WriteBatch) -> None:
        """Put every unflushed change into `batch` and forget it (the caller writes `batch`
        before anything else reads the store)."""
        pending = self._pending
        batch.put_many(
            [(key, encode_coin(coin)) for key, coin in pending.items() if coin is not None]
        )
        for key in [key for key, coin in pending.items() if coin is None]:
            batch.delete(key)
        self._pending = {}
        self._fresh = set()


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
        if coin is not None and key in self.changes and self._read.get(key) is None:
            # Created in this block over no base coin: forget it (Core's FRESH).
            del self.changes[key]
            self._read[key] = None
        else:
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
