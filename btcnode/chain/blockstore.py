"""Raw blocks in the store, with the last few decoded kept in memory.

A block is stored once, serialized with witnesses, under `layout.block_key`. Reading one
back also yields each transaction's bytes (sliced from the raw block, no re-serialization),
which the script checkers use. The cache holds the blocks most recently stored or read, so
connecting a block right after receiving it, or reconnecting after a short reorg, decodes
nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from btcnode.chain.encoding import CorruptChainstate
from btcnode.chain.layout import block_key
from btcnode.consensus.block import HEADER_BYTES, Block
from btcnode.consensus.errors import SerializationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.serialize import ser_compact_size
from common.store.api import Store, WriteBatch

MAX_CACHED_BLOCKS = 16  # a reorg this deep or a burst of blocks this long decodes nothing


@dataclass(frozen=True, slots=True)
class StoredBlock:
    block: Block
    tx_bytes: tuple[bytes, ...]  # tx_bytes[i] == block.txs[i].serialize()


def serialize_block(block: Block) -> tuple[bytes, tuple[bytes, ...]]:
    """The block's serialization and each transaction's part of it."""
    tx_bytes = tuple(tx.serialize() for tx in block.txs)
    return _join(block, tx_bytes), tx_bytes


def _join(block: Block, tx_bytes: tuple[bytes, ...]) -> bytes:
    """The serialization of `block` whose transactions serialize to `tx_bytes`."""
    return block.header.serialize() + ser_compact_size(len(tx_bytes)) + b"".join(tx_bytes)


def split_transactions(raw: bytes, block: Block) -> tuple[bytes, ...]:
    """Each transaction's bytes within `raw`, the serialization `block` was decoded from."""
    pos = HEADER_BYTES + len(ser_compact_size(len(block.txs)))
    parts = []
    for tx in block.txs:
        end = pos + tx.total_size
        parts.append(raw[pos:end])
        pos = end
    if pos != len(raw):
        raise CorruptChainstate(f"block {block.header.hash_hex}: sizes do not add up")
    return tuple(parts)


class BlockStore:
    __slots__ = ("_cache", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: OrderedDict[bytes, StoredBlock] = OrderedDict()

    def put(
        self,
        batch: WriteBatch,
        block: Block,
        serialized: tuple[bytes, tuple[bytes, ...]] | None = None,
    ) -> None:
        """Add `block` to `batch` (and to the cache); `serialized` is `serialize_block(block)`
        when the caller has it already."""
        raw, tx_bytes = serialized if serialized is not None else serialize_block(block)
        batch.put(block_key(block.hash), raw)
        self._remember(block.hash, StoredBlock(block, tx_bytes))

    def get(self, block_hash: bytes) -> StoredBlock:
        """The stored block; raises `CorruptChainstate` if it is missing or does not decode."""
        cached = self._cache.get(block_hash)
        if cached is not None:
            self._cache.move_to_end(block_hash)
            return cached
        raw = self._store.get(block_key(block_hash))
        if raw is None:
            raise CorruptChainstate(f"block {hash256_hex(block_hash)} is indexed but not stored")
        try:
            block = Block.deserialize(raw)
        except (SerializationError, ValueError) as exc:
            raise CorruptChainstate(f"stored block {hash256_hex(block_hash)}: {exc}") from exc
        if block.hash != block_hash:
            raise CorruptChainstate(f"block stored under {hash256_hex(block_hash)} hashes apart")
        stored = StoredBlock(block, split_transactions(raw, block))
        self._remember(block_hash, stored)
        return stored

    def get_raw(self, block_hash: bytes) -> bytes | None:
        """The block's serialization with witnesses (what P2P `block` messages carry), or
        None if it is not stored. A cached block is put back together from its parts."""
        cached = self._cache.get(block_hash)
        if cached is not None:
            return _join(cached.block, cached.tx_bytes)
        return self._store.get(block_key(block_hash))

    def _remember(self, block_hash: bytes, stored: StoredBlock) -> None:
        self._cache[block_hash] = stored
        self._cache.move_to_end(block_hash)
        while len(self._cache) > MAX_CACHED_BLOCKS:
            self._cache.popitem(last=False)
