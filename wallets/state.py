"""The wallet's state in an ordered key-value store (LevelDB on disk, `MemoryStore` in tests).

What is kept, by key prefix:
  v            schema version                  m<name>      metadata (network, accounts)
  a<t><c><i>   derived address (type, chain, index, big-endian)
  n<t><c>      addresses handed out and highest used index of a chain
  l<address>   label                           u<txid><n>   unspent wallet coin
  t<txid>      wallet transaction              h<height>    hash of a scanned block
  c            sync cursor (height, hash)      j<txid>      send journal entry

Every chain (receive and change of each address type) has its addresses derived up to the
highest used index plus `GAP_LIMIT` (BIP44 "Address gap limit"), so a restored wallet finds
every payment. The whole state is also held in memory (as Core's wallet holds mapWallet):
changes go to memory and to one pending `WriteBatch`, and `commit` writes that batch at once,
so one block or one send is one atomic write. `discard` throws away uncommitted changes.

Pure: the store is injected; no clock, no randomness.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import OutPoint
from common.store.api import Store, WriteBatch
from wallets._records import (
    Coin,
    JournalEntry,
    TxStatus,
    WalletKind,
    WalletMeta,
    WalletStateCorrupted,
    WalletTx,
)
from wallets.accounts import (
    CHANGE,
    RECEIVE,
    AddressType,
    DerivedAddress,
    derive_addresses,
)
from wallets.bip32 import ExtendedKey
from wallets.errors import WalletInputError, WalletMisuse

__all__ = [
    "GAP_LIMIT",
    "RECENT_BLOCKS_KEPT",
    "SCHEMA_VERSION",
    "AddressRecord",
    "Coin",
    "JournalEntry",
    "TxStatus",
    "WalletKind",
    "WalletMeta",
    "WalletState",
    "WalletStateCorrupted",
    "WalletTx",
]

SCHEMA_VERSION = 1
GAP_LIMIT = 20  # BIP44 "Address gap limit": 20 unused addresses in a row end a chain's scan
RECENT_BLOCKS_KEPT = 288  # Core's MIN_BLOCKS_TO_KEEP: deeper reorgs need a rescan
_U32 = struct.Struct(">I")
_CHAINS = (RECEIVE, CHANGE)


@dataclass(frozen=True, slots=True)
class AddressRecord:
    """A derived address and where it sits: address type, chain (0 receive, 1 change), index."""

    address_type: AddressType
    change: int
    index: int
    derived: DerivedAddress

    @property
    def script_pubkey(self) -> bytes:
        return self.derived.script_pubkey

    @property
    def address(self) -> str:
        return self.derived.address

    def encode(self) -> bytes:
        d = self.derived
        doc = [d.address, d.script_pubkey.hex(), d.path, d.pubkey.hex()]
        return json.dumps(doc).encode()


def _address_key(address_type: AddressType, change: int, index: int) -> bytes:
    return b"a" + bytes((address_type.value, change)) + _U32.pack(index)


def _decode_address(key: bytes, value: bytes) -> AddressRecord:
    try:
        address_type, change = AddressType(key[1]), key[2]
        (index,) = _U32.unpack(key[3:7])
        address, script, path, pubkey = json.loads(value)
        derived = DerivedAddress(address, bytes.fromhex(script), path, bytes.fromhex(pubkey))
    except (ValueError, TypeError, struct.error) as err:
        raise WalletStateCorrupted(f"address {key.hex()}", str(err)) from None
    return AddressRecord(address_type, change, index, derived)


def _coin_key(outpoint: OutPoint) -> bytes:
    return b"u" + outpoint.txid + _U32.pack(outpoint.n)


class WalletState:
    """The wallet's records in memory, mirrored to a store one batch at a time."""

    def __init__(self, store: Store, params: ChainParams, meta: WalletMeta) -> None:
        self.store, self.params, self.meta = store, params, meta
        self._batch = WriteBatch()
        self.addresses: dict[tuple[AddressType, int], list[AddressRecord]] = {}
        self.by_script: dict[bytes, AddressRecord] = {}
        self.issued: dict[tuple[AddressType, int], int] = {}
        self.highest_used: dict[tuple[AddressType, int], int] = {}
        self.labels: dict[str, str] = {}
        self.coins: dict[OutPoint, Coin] = {}
        self.txs: dict[bytes, WalletTx] = {}
        self.spender: dict[OutPoint, bytes] = {}  # coin -> the applied wallet tx spending it
        self.watched: set[OutPoint] = set()  # coins, and coins spent by unconfirmed txs
        self.cursor: tuple[int, bytes] | None = None
        self.block_hashes: dict[int, bytes] = {}
        self.journal: dict[bytes, JournalEntry] = {}

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def initialize(cls, store: Store, params: ChainParams, meta: WalletMeta) -> WalletState:
        """A new wallet in an empty store, its first gap window derived, written synced."""
        if store.get(b"v") is not None:
            raise WalletMisuse("the store already holds a wallet")
        if meta.network != params.name:
            raise WalletMisuse(f"metadata of {meta.network} for a {params.name} wallet")
        state = cls(store, params, meta)
        state._batch.put(b"v", _U32.pack(SCHEMA_VERSION))
        state._batch.put(b"mmeta", meta.encode(params))
        for address_type, _ in meta.accounts:
            for change in _CHAINS:
                state.issued[(address_type, change)] = 0
                state.highest_used[(address_type, change)] = -1
                state.addresses[(address_type, change)] = []
                state._extend(address_type, change)
        state.commit(sync=True)
        return state

    @classmethod
    def load(cls, store: Store, params: ChainParams) -> WalletState:
        version = store.get(b"v")
        if version is None:
            raise WalletInputError("no wallet in this database")
        if version != _U32.pack(SCHEMA_VERSION):
            raise WalletStateCorrupted(
                "schema version", f"{version.hex()}, expected {SCHEMA_VERSION}"
            )
        raw_meta = store.get(b"mmeta")
        if raw_meta is None:
            raise WalletStateCorrupted("metadata", "missing")
        meta = WalletMeta.decode(raw_meta, params)
        state = cls(store, params, meta)
        state._load_all()
        return state

    def _load_all(self) -> None:
        for address_type, _ in self.meta.accounts:
            for change in _CHAINS:
                self.addresses[(address_type, change)] = []
        for key, value in self.store.iterate(prefix=b"a"):
            record = _decode_address(key, value)
            self.addresses[(record.address_type, record.change)].append(record)
            self.by_script[record.script_pubkey] = record
        for key, value in self.store.iterate(prefix=b"n"):
            chain = (AddressType(key[1]), key[2])
            self.issued[chain], used = struct.unpack(">Ii", value)
            self.highest_used[chain] = used
        self.labels = {k[1:].decode(): v.decode() for k, v in self.store.iterate(prefix=b"l")}
        for _, value in self.store.iterate(prefix=b"u"):
            coin = Coin.decode(value)
            self.coins[coin.outpoint] = coin
        for _, value in self.store.iterate(prefix=b"t"):
            wtx = WalletTx.decode(value)
            self.txs[wtx.txid] = wtx
            if wtx.status.is_applied:
                for coin in wtx.spent:
                    self.spender[coin.outpoint] = wtx.txid
        self._rebuild_watched()
        for key, value in self.store.iterate(prefix=b"h"):
            self.block_hashes[_U32.unpack(key[1:])[0]] = value
        cursor = self.store.get(b"c")
        if cursor is not None:
            self.cursor = (_U32.unpack(cursor[:4])[0], cursor[4:])
        for _, value in self.store.iterate(prefix=b"j"):
            entry = JournalEntry.decode(value)
            self.journal[entry.txid] = entry

    def _rebuild_watched(self) -> None:
        self.watched = set(self.coins)
        for outpoint, txid in self.spender.items():
            if self.txs[txid].height is None:
                self.watched.add(outpoint)

    # -- writing -------------------------------------------------------------------------

    def commit(self, *, sync: bool) -> None:
        """Write every change since the last commit as one atomic batch."""
        batch, self._batch = self._batch, WriteBatch()
        if len(batch):
            self.store.write(batch, sync=sync)
        elif sync:
            self.store.put(b"v", _U32.pack(SCHEMA_VERSION), sync=True)  # flush earlier writes

    def discard(self) -> None:
        """Forget uncommitted changes: reload everything from the store."""
        fresh = WalletState.load(self.store, self.params)
        self.__dict__.update(fresh.__dict__)
        self._batch = WriteBatch()

    # -- addresses -----------------------------------------------------------------------

    def account_key(self, address_type: AddressType) -> ExtendedKey:
        for kind, key in self.meta.accounts:
            if kind is address_type:
                return key
        raise WalletMisuse(f"this wallet has no {address_type.name} account")

    def _save_chain(self, address_type: AddressType, change: int) -> None:
        chain = (address_type, change)
        value = struct.pack(">Ii", self.issued[chain], self.highest_used[chain])
        self._batch.put(b"n" + bytes((address_type.value, change)), value)

    def _extend(self, address_type: AddressType, change: int) -> bool:
        """Derive addresses up to the window's end; True if any were added."""
        chain = (address_type, change)
        last_needed = max(self.highest_used[chain], self.issued[chain] - 1) + GAP_LIMIT
        added = self._derive_through(address_type, change, last_needed)
        self._save_chain(address_type, change)
        return added

    def _derive_through(self, address_type: AddressType, change: int, last: int) -> bool:
        records = self.addresses[(address_type, change)]
        key = self.account_key(address_type)
        first = len(records)
        indices = range(first, last + 1)
        for index, derived in zip(
            indices, derive_addresses(key, address_type, self.params, change, indices), strict=True
        ):
            record = AddressRecord(address_type, change, index, derived)
            records.append(record)
            self.by_script[derived.script_pubkey] = record
            self._batch.put(_address_key(address_type, change, index), record.encode())
        return last >= first

    def address_at(self, address_type: AddressType, change: int, index: int) -> AddressRecord:
        """The address at `index`, derived (and kept) if it lies beyond the window."""
        self.account_key(address_type)
        if change not in _CHAINS or index < 0:
            raise WalletMisuse(f"no address at chain {change}, index {index}")
        self._derive_through(address_type, change, index)
        return self.addresses[(address_type, change)][index]

    def next_unused(self, address_type: AddressType, change: int) -> AddressRecord:
        """The next address never handed out nor paid (Core's getnewaddress)."""
        chain = (address_type, change)
        self.account_key(address_type)
        index = max(self.issued[chain], self.highest_used[chain] + 1)
        self.issued[chain] = index + 1
        self._extend(address_type, change)
        return self.addresses[chain][index]

    def mark_used(self, scripts: Iterator[bytes] | list[bytes]) -> bool:
        """Record that `scripts` received coins; True if the gap window grew."""
        grew = False
        for script in scripts:
            record = self.by_script.get(script)
            if record is None:
                continue
            chain = (record.address_type, record.change)
            if record.index > self.highest_used[chain]:
                self.highest_used[chain] = record.index
                grew = self._extend(record.address_type, record.change) or grew
        return grew

    def set_label(self, address: str, label: str) -> None:
        if label:
            self.labels[address] = label
            self._batch.put(b"l" + address.encode(), label.encode())
        else:
            self.labels.pop(address, None)
            self._batch.delete(b"l" + address.encode())

    # -- coins and transactions ----------------------------------------------------------

    def _rewatch(self, outpoint: OutPoint) -> None:
        """A coin is watched while unspent or spent only by an unconfirmed wallet tx (a
        block spending it otherwise is a conflict the scan must see)."""
        txid = self.spender.get(outpoint)
        if outpoint in self.coins or (txid is not None and self.txs[txid].height is None):
            self.watched.add(outpoint)
        else:
            self.watched.discard(outpoint)

    def put_coin(self, coin: Coin) -> None:
        self.coins[coin.outpoint] = coin
        self._batch.put(_coin_key(coin.outpoint), coin.encode())
        self._rewatch(coin.outpoint)

    def drop_coin(self, outpoint: OutPoint) -> Coin | None:
        coin = self.coins.pop(outpoint, None)
        if coin is not None:
            self._batch.delete(_coin_key(outpoint))
            self._rewatch(outpoint)
        return coin

    def put_tx(self, wtx: WalletTx) -> None:
        self.txs[wtx.txid] = wtx
        self._batch.put(b"t" + wtx.txid, wtx.encode())
        for coin in wtx.spent:
            if self.spender.get(coin.outpoint) == wtx.txid:
                self._rewatch(coin.outpoint)

    def set_spender(self, outpoint: OutPoint, txid: bytes | None) -> None:
        if txid is None:
            self.spender.pop(outpoint, None)
        else:
            self.spender[outpoint] = txid
        self._rewatch(outpoint)

    # -- chain cursor --------------------------------------------------------------------

    def set_cursor(self, height: int, block_hash: bytes) -> None:
        self.cursor = (height, block_hash)
        self.block_hashes[height] = block_hash
        self._batch.put(b"c", _U32.pack(height) + block_hash)
        self._batch.put(b"h" + _U32.pack(height), block_hash)
        old = height - RECENT_BLOCKS_KEPT
        if old in self.block_hashes:
            del self.block_hashes[old]
            self._batch.delete(b"h" + _U32.pack(old))

    def rewind_cursor(self, height: int) -> None:
        """Forget the block at `height` (disconnected); the cursor moves to `height - 1`."""
        self.block_hashes.pop(height, None)
        self._batch.delete(b"h" + _U32.pack(height))
        previous = self.block_hashes.get(height - 1)
        if previous is None:
            self.cursor = None
            self._batch.delete(b"c")
        else:
            self.cursor = (height - 1, previous)
            self._batch.put(b"c", _U32.pack(height - 1) + previous)

    def reset_cursor(self) -> None:
        """Forget every scanned block (a rescan starts over)."""
        for height in list(self.block_hashes):
            self._batch.delete(b"h" + _U32.pack(height))
        self.block_hashes.clear()
        self.cursor = None
        self._batch.delete(b"c")

    # -- journal -------------------------------------------------------------------------

    def put_journal(self, entry: JournalEntry) -> None:
        self.journal[entry.txid] = entry
        self._batch.put(b"j" + entry.txid, entry.encode())

    def drop_journal(self, txid: bytes) -> None:
        if self.journal.pop(txid, None) is not None:
            self._batch.delete(b"j" + txid)

    @property
    def tip_height(self) -> int:
        """The height of the last block scanned; -1 before the first."""
        return -1 if self.cursor is None else self.cursor[0]
