"""The multi-core CPU miner: finds regtest blocks, rolls the extra nonce, stops on request."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import REGTEST
from btcnode.consensus.pow_target import bits_to_target
from btcnode.consensus.subsidy import block_subsidy
from btcnode.miner import scan_nonces
from btcnode.miner.assemble import BLOCK_VERSION
from btcnode.miner.cpu import CpuMiner, MiningOutcome, nonce_ranges
from btcnode.miner.template import BlockTemplate

IMPOSSIBLE_BITS = 0x03000001  # target 1: no header hash will ever meet it
OP_TRUE = b"\x51"


def _template(bits: int = REGTEST.genesis.header.bits) -> BlockTemplate:
    return BlockTemplate(
        version=BLOCK_VERSION,
        prev_hash=REGTEST.genesis_hash,
        height=1,
        time=REGTEST.genesis.header.time + 1,
        bits=bits,
        coinbase_script=OP_TRUE,
        coinbase_value=block_subsidy(1, REGTEST),
        txs=(),
        fees=(),
        sigop_costs=(),
    )


def _meets(block_hash: bytes, bits: int) -> bool:
    return int.from_bytes(block_hash, "little") <= bits_to_target(bits)


def test_nonce_ranges_cover_the_space_once() -> None:
    ranges = nonce_ranges(10, 3)
    assert ranges == [(0, 3), (3, 6), (6, 10)]
    assert nonce_ranges(2, 4) == [(0, 1), (1, 2)]
    with pytest.raises(ChainMisuse):
        nonce_ranges(10, 0)


def test_scan_matches_the_plain_header_hash() -> None:
    template = _template()
    header76 = template.header().serialize()[:76]
    nonce, hashes = scan_nonces(header76, template.target, 0, 1000)
    assert nonce is not None and hashes == nonce + 1
    assert _meets(template.header(nonce=nonce).hash, template.bits)
    for earlier in range(nonce):
        assert not _meets(template.header(nonce=earlier).hash, template.bits)


def test_mines_a_regtest_block_with_two_processes() -> None:
    template = _template()
    result = CpuMiner(processes=2).mine(template)
    assert result.outcome is MiningOutcome.FOUND
    assert result.block is not None
    assert result.block.header.prev_block == REGTEST.genesis_hash
    assert _meets(result.block.hash, template.bits)
    assert result.block.txs[0].vout[0].value == 50 * 100_000_000
    assert result.hashes >= 1 and result.hash_rate > 0


def test_spent_nonce_space_rolls_the_extra_nonce() -> None:
    # A target met by about one hash in 4096 and a nonce space of 256. The template is fixed,
    # so the search is too: no nonce of extra nonce 0 meets the target, one of extra nonce 1
    # does, and the winning extra nonce must be in the coinbase.
    template = _template(bits=0x1F0FFFFF)
    miner = CpuMiner(processes=2, nonce_space=256, check_every=64)
    result = miner.mine(template, last_extra_nonce=400)
    assert result.outcome is MiningOutcome.FOUND and result.block is not None
    assert result.extra_nonce == 1
    assert result.block.txs[0].vin[0].script_sig == b"\x51\x00\x51"  # height 1, OP_0, 1
    assert result.block.header.nonce < 256
    assert result.block == template.block(result.extra_nonce, result.block.header.nonce)
    assert _meets(result.block.hash, template.bits)
    assert result.hashes > 256 * result.extra_nonce


def test_exhausted_search_reports_every_hash() -> None:
    miner = CpuMiner(processes=2, nonce_space=1 << 16, check_every=1 << 12)
    result = miner.mine(_template(IMPOSSIBLE_BITS), last_extra_nonce=1)
    assert result.outcome is MiningOutcome.EXHAUSTED
    assert result.block is None
    assert result.hashes == 2 * (1 << 16)
    assert result.extra_nonce == 1
    # One core does ~1 MH/s; 10 kH/s leaves room for a loaded machine and still catches a
    # worker that hashes nothing or a rate computed from the wrong clock.
    assert 10_000 < result.hash_rate < 1e8


def test_stop_interrupts_an_impossible_search_quickly() -> None:
    miner = CpuMiner(processes=2, check_every=1 << 12)
    stop = miner.stop_signal()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    started = time.monotonic()
    result = miner.mine(_template(IMPOSSIBLE_BITS), stop=stop)
    elapsed = time.monotonic() - started
    timer.join()
    assert result.outcome is MiningOutcome.STOPPED
    assert result.block is None
    assert result.hashes > 0 and result.hash_rate > 0
    assert elapsed < 3.0  # a 32-bit space at ~1 MH/s per worker would take over half an hour


def test_a_stop_set_before_mining_returns_without_hashing() -> None:
    miner = CpuMiner(processes=2)
    stop = miner.stop_signal()
    stop.set()
    result = miner.mine(_template(), stop=stop)
    assert result.outcome is MiningOutcome.STOPPED
    assert result.hashes == 0


def test_unreachable_bits_are_refused() -> None:
    template = dataclasses.replace(_template(), bits=0x01800000)  # negative: target 0
    with pytest.raises(ChainMisuse, match="no reachable target"):
        CpuMiner(processes=1).mine(template)
