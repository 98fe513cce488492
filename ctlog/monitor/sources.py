"""Where a monitor gets tree heads and entries: the RFC 6962 API or static-ct tiles.

Both sources answer the same three questions for the driver: the latest tree head and how
to tie it to the verified one (`latest`), where the next request should end (`chunk_end`),
and the MerkleTreeLeaf bytes of entries [start, end) from one request (`fetch`: a non-empty
prefix of them, or an error). `Rfc6962Source` learns the log's real get-entries page size
from the first answer (RFC 6962 §4.6 lets a log return fewer entries than asked) and sizes
later requests to it.
`TileSource` reads one data tile per request and verifies the checkpoint note with the
log's key (static-ct-api §Checkpoints). `start_range` fetches what a monitor needs to begin
at the latest tree head without the entries before it (see `ctlog.monitor.bootstrap`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from ctlog.checkpoint import RFC6962NoteVerifier, sth_from_checkpoint_note
from ctlog.client import LogClient
from ctlog.errors import InputError, UsageError
from ctlog.leaf import MerkleTreeLeaf, TileLeaf, parse_data_tile
from ctlog.merkle import HASH_SIZE, hash_leaf
from ctlog.merkle.compact import CompactRange
from ctlog.merkle.tiles import TILE_WIDTH, TileRef
from ctlog.monitor.bootstrap import (
    compact_range_from_last_leaf,
    compact_range_from_tiles,
    tiles_for_range,
)
from ctlog.monitor.core import REBUILD, ConsistencyBy, MonitorCore
from ctlog.sth import SignedTreeHead

DEFAULT_PAGE_ENTRIES = 1000  # what most RFC 6962 logs serve per get-entries; they may cap lower
MAX_PAGE_ENTRIES = 10_000  # one response of this many certificates stays well under 64 MiB
HTTP_NOT_FOUND = 404  # RFC 9110 §15.5.5


class EntrySource(Protocol):
    """What the monitor driver needs from a log."""

    async def latest(
        self, core: MonitorCore
    ) -> tuple[SignedTreeHead, Sequence[bytes] | ConsistencyBy]: ...

    def chunk_end(self, start: int, limit: int) -> int: ...

    @property
    def calibrated(self) -> bool: ...

    async def fetch(self, start: int, end: int) -> list[bytes]: ...

    async def start_range(self) -> tuple[SignedTreeHead, CompactRange]: ...


class Rfc6962Source:
    """Tree heads from get-sth (+ get-sth-consistency), entries from get-entries."""

    def __init__(self, client: LogClient, page_entries: int = DEFAULT_PAGE_ENTRIES) -> None:
        if not 1 <= page_entries <= MAX_PAGE_ENTRIES:
            raise UsageError(f"page size must be 1..{MAX_PAGE_ENTRIES}, got {page_entries}")
        self._client = client
        self._page = page_entries
        self._calibrated = False

    @property
    def calibrated(self) -> bool:
        """Whether a get-entries answer has shown the log's page size yet."""
        return self._calibrated

    @property
    def page_entries(self) -> int:
        return self._page

    async def latest(
        self, core: MonitorCore
    ) -> tuple[SignedTreeHead, Sequence[bytes] | ConsistencyBy]:
        sth = await self._client.get_sth()
        request = core.consistency_request(sth)
        proof = await self._client.get_sth_consistency(*request) if request else []
        return sth, proof

    def chunk_end(self, start: int, limit: int) -> int:
        return min(limit, start + self._page)

    async def start_range(self) -> tuple[SignedTreeHead, CompactRange]:
        """The latest tree head and, from its last leaf's audit path (RFC 6962 §4.8), the
        compact range of its entries."""
        sth = await self._client.get_sth()
        if sth.tree_size == 0:
            return sth, CompactRange.empty()
        entry, path = await self._client.get_entry_and_proof(sth.tree_size - 1, sth.tree_size)
        leaf_hash = hash_leaf(entry.leaf_input)
        return sth, compact_range_from_last_leaf(sth.tree_size, leaf_hash, path)

    async def fetch(self, start: int, end: int) -> list[bytes]:
        """Entries from `start`, at most up to `end`: what one get-entries answer holds."""
        got = await self._client.get_entries(start, end - 1)
        if not self._calibrated:
            self._calibrated = True
            self._page = min(self._page, len(got))
        return [entry.leaf_input for entry in got]


class TileSource:
    """Tree heads from /checkpoint, entries from data tiles (static-ct-api)."""

    def __init__(self, client: LogClient, verifier: RFC6962NoteVerifier) -> None:
        self._client = client
        self._verifier = verifier

    @property
    def calibrated(self) -> bool:
        return True  # tiles have a fixed width

    async def latest(
        self, core: MonitorCore
    ) -> tuple[SignedTreeHead, Sequence[bytes] | ConsistencyBy]:
        return await self.latest_checkpoint()

    async def latest_checkpoint(self) -> tuple[SignedTreeHead, ConsistencyBy]:
        sth = sth_from_checkpoint_note(await self._client.get_checkpoint(), self._verifier)
        # static-ct-api serves no consistency proofs: rebuilding the tree from the verified
        # compact range must reach the new root, which is a stronger check.
        return sth, REBUILD

    def chunk_end(self, start: int, limit: int) -> int:
        return min(limit, (start // TILE_WIDTH + 1) * TILE_WIDTH)

    async def start_range(self) -> tuple[SignedTreeHead, CompactRange]:
        """The latest checkpoint and, from the hash tiles it implies, the compact range of
        its entries."""
        sth, _ = await self.latest_checkpoint()
        refs = tiles_for_range(sth.tree_size)
        bodies = await asyncio.gather(*(self._hash_tile(ref) for ref in refs))
        return sth, compact_range_from_tiles(sth.tree_size, dict(zip(refs, bodies, strict=True)))

    async def _hash_tile(self, ref: TileRef) -> bytes:
        """A hash tile, or the prefix of its full tile if the partial one is gone."""
        level = ref.level or 0
        try:
            return await self._client.get_hash_tile(level, ref.index, ref.width)
        except InputError as exc:
            if exc.http_status != HTTP_NOT_FOUND or not ref.is_partial:
                raise
        full = await self._client.get_hash_tile(level, ref.index, TILE_WIDTH)
        return full[: ref.width * HASH_SIZE]

    async def fetch(self, start: int, end: int) -> list[bytes]:
        """Entries [start, end) from the one data tile that holds them."""
        index = start // TILE_WIDTH
        first = index * TILE_WIDTH
        if end > first + TILE_WIDTH or start >= end:
            raise UsageError(f"[{start}, {end}) is not within one data tile")
        width = end - first
        leaves = await self._data_tile(index, width)
        if len(leaves) != width:
            raise InputError(f"data tile {index} holds {len(leaves)} entries, not {width}")
        inputs = [MerkleTreeLeaf(leaf.timestamped_entry).serialize() for leaf in leaves]
        return inputs[start - first :]

    async def _data_tile(self, index: int, width: int) -> list[TileLeaf]:
        """The tile of `width` entries; a partial tile may since have been replaced by the
        full one (static-ct-api §Partial Tiles), so fall back to its prefix."""
        try:
            return parse_data_tile(await self._client.get_data_tile(index, width))
        except InputError as exc:
            if exc.http_status != HTTP_NOT_FOUND or width == TILE_WIDTH:
                raise
        return parse_data_tile(await self._client.get_data_tile(index, TILE_WIDTH))[:width]


__all__ = ["DEFAULT_PAGE_ENTRIES", "EntrySource", "Rfc6962Source", "TileSource"]
