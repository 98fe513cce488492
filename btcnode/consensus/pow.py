"""Proof of work: checking a header hash against its target and the difficulty retarget.

Pure functions over `HeaderInfo` values; the chain's block index provides them and an
`ancestor(height)` lookup on the same branch. The rules are Bitcoin Core's pow.cpp:

* Difficulty changes only at heights that are multiples of the adjustment interval (2016
  blocks). The window measured starts `interval - 1` blocks before the last block, so it
  spans 2015 block intervals, not 2016 (Satoshi's off-by-one, kept for consensus).
* The measured timespan is clamped to [timespan / 4, timespan * 4] and the new target is
  capped at `pow_limit`. The arithmetic is Core's arith_uint256: modulo 2**256.
* `pow_allow_min_difficulty_blocks` (testnet3 and regtest): a block more than twice the
  target spacing after its parent may use the minimum difficulty; otherwise it inherits the
  bits of the last block that was not such a min-difficulty block, or of the last
  retarget boundary.
* `pow_no_retargeting` (regtest): the retarget keeps the previous bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import ChainParams
from btcnode.consensus.pow_target import UINT256_MASK, compact_to_target, target_to_compact

RETARGET_CLAMP_FACTOR = 4  # pow.cpp: a retarget moves the target by at most 4x either way
MIN_DIFFICULTY_SPACING_FACTOR = 2  # testnet rule: a min-difficulty block after 2x spacing


class HeaderInfo(Protocol):
    """What a block index entry provides to the difficulty rules."""

    @property
    def height(self) -> int: ...

    @property
    def time(self) -> int: ...

    @property
    def bits(self) -> int: ...


AncestorLookup = Callable[[int], HeaderInfo]


def pow_limit_bits(params: ChainParams) -> int:
    """The compact form of `pow_limit`: the easiest bits a block may carry."""
    return target_to_compact(params.pow_limit)


def check_proof_of_work(block_hash: bytes, bits: int, params: ChainParams) -> bool:
    """Core's CheckProofOfWork: `bits` decodes to a target in (0, pow_limit] and the hash,
    read as a little-endian 256-bit integer, is at most that target."""
    target, negative, overflow = compact_to_target(bits)
    if negative or overflow or target == 0 or target > params.pow_limit:
        return False
    return int.from_bytes(block_hash, "little") <= target


def next_work_required(
    prev: HeaderInfo,
    new_block_time: int,
    params: ChainParams,
    ancestor: AncestorLookup,
) -> int:
    """The bits a block on top of `prev` with time `new_block_time` must carry.

    Core's GetNextWorkRequired. `ancestor(h)` returns the block at height `h` on `prev`'s
    branch (0 <= h <= prev.height).
    """
    interval = params.difficulty_adjustment_interval
    if (prev.height + 1) % interval != 0:
        if params.pow_allow_min_difficulty_blocks:
            return _min_difficulty_bits(prev, new_block_time, params, ancestor)
        return prev.bits
    first_height = prev.height - (interval - 1)  # the off-by-one window, see module docstring
    if first_height < 0:
        raise ChainMisuse(f"retarget at height {prev.height + 1} has no window")
    first = ancestor(first_height)
    return calculate_next_work_required(prev, first.time, params)


def _min_difficulty_bits(
    prev: HeaderInfo, new_block_time: int, params: ChainParams, ancestor: AncestorLookup
) -> int:
    limit_bits = pow_limit_bits(params)
    if new_block_time > prev.time + params.pow_target_spacing * MIN_DIFFICULTY_SPACING_FACTOR:
        return limit_bits
    # Walk back to the last block that was not a min-difficulty exception.
    interval = params.difficulty_adjustment_interval
    index = prev
    while index.height > 0 and index.height % interval != 0 and index.bits == limit_bits:
        index = ancestor(index.height - 1)
    return index.bits


def calculate_next_work_required(
    prev: HeaderInfo, first_block_time: int, params: ChainParams
) -> int:
    """Core's CalculateNextWorkRequired: scale the target by the clamped actual timespan."""
    if params.pow_no_retargeting:
        return prev.bits
    timespan = params.pow_target_timespan
    actual = prev.time - first_block_time
    actual = max(actual, timespan // RETARGET_CLAMP_FACTOR)
    actual = min(actual, timespan * RETARGET_CLAMP_FACTOR)
    return target_to_compact(_retarget(prev.bits, actual, params))


def permitted_difficulty_transition(
    params: ChainParams, height: int, old_bits: int, new_bits: int
) -> bool:
    """Core's PermittedDifficultyTransition: could a header at `height` carry `new_bits`
    after a parent with `old_bits`? A cheap anti-DoS bound for headers presync.

    At a retarget height the new target must lie within the rounded 1/4x..4x envelope;
    elsewhere the bits must not change. Always true where min-difficulty blocks exist.
    """
    if params.pow_allow_min_difficulty_blocks:
        return True
    if height % params.difficulty_adjustment_interval != 0:
        return old_bits == new_bits
    timespan = params.pow_target_timespan
    observed, _, _ = compact_to_target(new_bits)
    largest = _rounded_bound(old_bits, timespan * RETARGET_CLAMP_FACTOR, params)
    smallest = _rounded_bound(old_bits, timespan // RETARGET_CLAMP_FACTOR, params)
    return smallest <= observed <= largest


def _retarget(old_bits: int, actual_timespan: int, params: ChainParams) -> int:
    """The target of `old_bits` scaled by `actual_timespan` / `pow_target_timespan` in
    arith_uint256 arithmetic, capped at `pow_limit` (the core of both functions above)."""
    target, _, _ = compact_to_target(old_bits)  # SetCompact without the range flags
    scaled = ((target * actual_timespan) & UINT256_MASK) // params.pow_target_timespan
    return min(scaled, params.pow_limit)


def _rounded_bound(old_bits: int, actual_timespan: int, params: ChainParams) -> int:
    """The target a retarget with `actual_timespan` produces, rounded through compact form."""
    return compact_to_target(target_to_compact(_retarget(old_bits, actual_timespan, params)))[0]
