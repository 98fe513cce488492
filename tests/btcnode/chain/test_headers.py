"""Headers-first: AcceptBlockHeader's checks in Core's order, runs of headers, then blocks."""

from __future__ import annotations

import pytest

from btcnode.chain import MAX_HEADERS_PER_CALL, TipStatus, Validity
from btcnode.consensus.block import BlockHeader
from btcnode.consensus.errors import BlockResult, BlockValidationError, ChainMisuse
from btcnode.consensus.params import REGTEST
from btcnode.consensus.pow_target import bits_to_target
from tests.btcnode.chain.builder import NOW, ChainBuilder, feed, new_chainstate

GENESIS = REGTEST.genesis.hash


def _regrind(header: BlockHeader, *, meets_target: bool, bits: int | None = None) -> BlockHeader:
    """`header` (with `bits` if given) with the first nonce whose hash does or does not meet
    its target."""
    bits = header.bits if bits is None else bits
    target = bits_to_target(bits)
    base = BlockHeader(header.version, header.prev_block, header.merkle_root, header.time, bits, 0)
    for nonce in range(1 << 20):
        candidate = base.with_nonce(nonce)
        if (int.from_bytes(candidate.hash, "little") <= target) == meets_target:
            return candidate
    raise AssertionError("no nonce found")


def _error(call: object) -> BlockValidationError:
    assert callable(call)
    with pytest.raises(BlockValidationError) as info:
        call()
    return info.value


def test_a_new_header_is_indexed_without_data() -> None:
    builder = ChainBuilder()
    block = builder.block(GENESIS)
    chainstate = new_chainstate()
    entry = chainstate.accept_header(block.header, NOW)
    assert (entry.height, entry.status.validity) == (1, Validity.TREE)
    assert not entry.status.have_data
    assert chainstate.accept_header(block.header, NOW) == entry  # known: returned as is
    assert chainstate.best_header.hash == block.hash and chainstate.tip_height == 0
    statuses = {tip.hash: tip.status for tip in chainstate.chain_tips()}
    assert statuses[block.hash] is TipStatus.HEADERS_ONLY
    assert chainstate.get_block(block.hash) is None
    assert feed(chainstate, [block])[0].connected == (block,)


def test_header_checks_in_cores_order() -> None:
    builder = ChainBuilder()
    good = builder.block(GENESIS).header
    chainstate = new_chainstate()
    high = _regrind(good, meets_target=False)
    err = _error(lambda: chainstate.accept_header(high, NOW))
    assert (err.reject_reason, err.result) == ("high-hash", BlockResult.INVALID_HEADER)
    orphan = _regrind(
        BlockHeader(good.version, b"\x11" * 32, good.merkle_root, good.time, good.bits, 0),
        meets_target=True,
    )
    err = _error(lambda: chainstate.accept_header(orphan, NOW))
    assert (err.reject_reason, err.result) == ("prev-blk-not-found", BlockResult.MISSING_PREV)
    harder = _regrind(good, meets_target=True, bits=0x207FFFFE)
    err = _error(lambda: chainstate.accept_header(harder, NOW))
    assert (err.reject_reason, err.result) == ("bad-diffbits", BlockResult.INVALID_HEADER)
    future = _regrind(
        BlockHeader(good.version, GENESIS, good.merkle_root, NOW + 2 * 3600 + 1, good.bits, 0),
        meets_target=True,
    )
    err = _error(lambda: chainstate.accept_header(future, NOW))
    assert (err.reject_reason, err.result) == ("time-too-new", BlockResult.TIME_FUTURE)
    old = _regrind(
        BlockHeader(good.version, GENESIS, good.merkle_root, REGTEST.genesis.header.time, 0, 0),
        meets_target=True,
        bits=good.bits,
    )
    assert _error(lambda: chainstate.accept_header(old, NOW)).reject_reason == "time-too-old"
    assert len(chainstate.chain_tips()) == 1  # none of them was added


def test_headers_on_an_invalid_block_are_refused() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, 3)
    chainstate = new_chainstate()
    feed(chainstate, blocks[:2])
    chainstate.invalidate_block(blocks[1].hash)
    err = _error(lambda: chainstate.accept_header(blocks[2].header, NOW))
    assert (err.reject_reason, err.result) == ("bad-prevblk", BlockResult.INVALID_PREV)
    err = _error(lambda: chainstate.accept_header(blocks[1].header, NOW))
    assert (err.reject_reason, err.result) == ("duplicate-invalid", BlockResult.CACHED_INVALID)


def test_a_full_headers_message_then_its_blocks() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, MAX_HEADERS_PER_CALL)
    chainstate = new_chainstate()
    entries = chainstate.accept_headers([b.header for b in blocks], NOW)
    assert [e.height for e in entries] == list(range(1, MAX_HEADERS_PER_CALL + 1))
    assert chainstate.best_header.hash == blocks[-1].hash
    [tip] = [t for t in chainstate.chain_tips() if t.status is TipStatus.HEADERS_ONLY]
    assert (tip.hash, tip.branch_len) == (blocks[-1].hash, MAX_HEADERS_PER_CALL)
    feed(chainstate, blocks[:50])
    assert chainstate.tip_hash == blocks[49].hash


def test_header_runs_are_bounded_and_continuous() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, 4)
    chainstate = new_chainstate()
    headers = [b.header for b in blocks]
    err = _error(lambda: chainstate.accept_headers([headers[0], headers[2]], NOW))
    assert (err.reject_reason, err.result) == ("non-continuous-headers", BlockResult.INVALID_HEADER)
    assert chainstate.get_index(headers[0].hash) is None  # checked before any was accepted
    with pytest.raises(ChainMisuse):
        chainstate.accept_headers(headers * (MAX_HEADERS_PER_CALL // 4 + 1), NOW)
    bad_last = _regrind(headers[3], meets_target=False)
    err = _error(lambda: chainstate.accept_headers([*headers[:3], bad_last], NOW))
    assert err.reject_reason == "high-hash"
    entry = chainstate.get_index(headers[2].hash)
    assert entry is not None and entry.height == 3  # the good ones before it stay
