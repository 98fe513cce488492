"""Accepting headers into the block index (Core's AcceptBlockHeader and
ProcessNewBlockHeaders), pure over a `BlockIndex`: the caller persists the dirty nodes.

Order of checks, as Core: a known header is returned (or refused with "duplicate-invalid"
if marked failed); then the proof of work ("high-hash"); the parent must be known
("prev-blk-not-found") and not failed ("bad-prevblk"); then the contextual header rules
(difficulty, median-time-past, future time, version). A header that fails a check is not
added, so it cannot be used to build on.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from btcnode.chain.active import node_median_time_past
from btcnode.chain.index import (
    NO_SEQUENCE_ID,
    AncestorCursor,
    BlockIndex,
    BlockNode,
    Validity,
)
from btcnode.consensus.block import BlockHeader
from btcnode.consensus.checks import check_block_header
from btcnode.consensus.contextual import contextual_check_block_header
from btcnode.consensus.errors import BlockResult, BlockValidationError, ChainMisuse
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams

# One P2P `headers` message carries at most this many (Core's MAX_HEADERS_RESULTS); the
# chainstate takes no more per call, so one call's work and memory stay bounded.
MAX_HEADERS_PER_CALL = 2000


def accept_header(
    index: BlockIndex, header: BlockHeader, now: int, params: ChainParams
) -> BlockNode:
    """The index node of `header`, adding it if new; raises `BlockValidationError`."""
    known = index.get(header.hash)
    if known is not None:
        if known.failed:
            raise BlockValidationError(
                "duplicate-invalid",
                f"block {header.hash_hex} is marked invalid",
                result=BlockResult.CACHED_INVALID,
            )
        return known
    check_block_header(header, params)
    prev = index.get(header.prev_block)
    if prev is None:
        raise BlockValidationError(
            "prev-blk-not-found",
            f"previous block {hash256_hex(header.prev_block)} of {header.hash_hex} not found",
            result=BlockResult.MISSING_PREV,
        )
    if prev.failed:
        raise BlockValidationError(
            "bad-prevblk",
            f"previous block {hash256_hex(prev.hash)} of {header.hash_hex} is invalid",
            result=BlockResult.INVALID_PREV,
        )
    contextual_check_block_header(
        header, prev, node_median_time_past(prev), now, params, AncestorCursor(prev)
    )
    node = index.add(header, int(Validity.TREE), NO_SEQUENCE_ID)
    index.mark_dirty(node)
    return node


def accept_headers(
    index: BlockIndex, headers: Sequence[BlockHeader], now: int, params: ChainParams
) -> list[BlockNode]:
    """Accept a run of headers, each the parent of the next (a P2P `headers` message).

    Stops at the first bad header and raises its error; the headers before it stay
    accepted. Raises `ChainMisuse` for more than `MAX_HEADERS_PER_CALL` headers.
    """
    if len(headers) > MAX_HEADERS_PER_CALL:
        raise ChainMisuse(f"{len(headers)} headers in one call, at most {MAX_HEADERS_PER_CALL}")
    for prev, header in itertools.pairwise(headers):
        if header.prev_block != prev.hash:
            raise BlockValidationError(
                "non-continuous-headers",
                f"header {header.hash_hex} does not follow {prev.hash_hex}",
                result=BlockResult.INVALID_HEADER,
            )
    return [accept_header(index, header, now, params) for header in headers]
