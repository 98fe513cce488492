"""Proof of work: compact targets, CheckProofOfWork, the retarget and its transition bound.

Known values are Bitcoin Core's (src/test/pow_tests.cpp, src/test/arith_uint256_tests.cpp).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import MAINNET, REGTEST
from btcnode.consensus.pow import (
    AncestorLookup,
    HeaderInfo,
    calculate_next_work_required,
    check_proof_of_work,
    next_work_required,
    permitted_difficulty_transition,
    pow_limit_bits,
)
from btcnode.consensus.pow_target import (
    bits_to_target,
    block_proof,
    compact_to_target,
    target_to_compact,
)


@dataclasses.dataclass(frozen=True)
class Entry:
    """A block index entry as the difficulty rules see it."""

    height: int
    time: int
    bits: int


def _lookup(entries: list[Entry]) -> AncestorLookup:
    by_height = {entry.height: entry for entry in entries}

    def ancestor(height: int) -> HeaderInfo:
        return by_height[height]

    return ancestor


# -- compact encoding (arith_uint256_tests.cpp, bignum_SetCompact) -------------------------

SET_COMPACT_CASES = [
    # bits, target, negative, overflow, GetCompact(negative) of the decoded value
    (0x00000000, 0, False, False, 0),
    (0x00123456, 0, False, False, 0),
    (0x01003456, 0, False, False, 0),
    (0x02000056, 0, False, False, 0),
    (0x03000000, 0, False, False, 0),
    (0x04000000, 0, False, False, 0),
    (0x00923456, 0, False, False, 0),
    (0x01803456, 0, False, False, 0),
    (0x02800056, 0, False, False, 0),
    (0x03800000, 0, False, False, 0),
    (0x04800000, 0, False, False, 0),
    (0x01123456, 0x12, False, False, 0x01120000),
    (0x01FEDCBA, 0x7E, True, False, 0x01FE0000),
    (0x02123456, 0x1234, False, False, 0x02123400),
    (0x03123456, 0x123456, False, False, 0x03123456),
    (0x04123456, 0x12345600, False, False, 0x04123456),
    (0x04923456, 0x12345600, True, False, 0x04923456),
    (0x05009234, 0x92340000, False, False, 0x05009234),
    (0x20123456, 0x123456 << 232, False, False, 0x20123456),
]


@pytest.mark.parametrize(
    ("bits", "target", "negative", "overflow", "compact"),
    SET_COMPACT_CASES,
    ids=[f"{case[0]:#010x}" for case in SET_COMPACT_CASES],
)
def test_set_compact_matches_core(
    bits: int, target: int, negative: bool, overflow: bool, compact: int
) -> None:
    assert compact_to_target(bits) == (target, negative, overflow)
    assert target_to_compact(target, negative=negative) == compact


def test_set_compact_overflow() -> None:
    _, negative, overflow = compact_to_target(0xFF123456)
    assert (negative, overflow) == (False, True)
    assert bits_to_target(0xFF123456) == 0


def test_get_compact_never_sets_the_sign_bit() -> None:
    assert target_to_compact(0x80) == 0x02008000
    assert target_to_compact(0) == 0
    with pytest.raises(ValueError, match="uint256"):
        target_to_compact(1 << 256)


def test_pow_limits_in_compact_form() -> None:
    assert pow_limit_bits(MAINNET) == 0x1D00FFFF
    assert pow_limit_bits(REGTEST) == 0x207FFFFF


def test_block_proof() -> None:
    assert block_proof(0x1D00FFFF) == 0x100010001  # the work of mainnet's genesis
    assert block_proof(0x207FFFFF) == 2  # regtest: chainwork grows by 2 per block
    assert block_proof(0x04923456) == 0  # negative
    assert block_proof(0xFF123456) == 0  # overflow
    assert block_proof(0x01003456) == 0  # zero target


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=(1 << 256) - 1))
def test_compact_round_trip_truncates_to_three_bytes(target: int) -> None:
    compact = target_to_compact(target)
    decoded, negative, overflow = compact_to_target(compact)
    assert not negative and not overflow
    assert target_to_compact(decoded) == compact  # canonical: a second trip is stable
    dropped_bits = max(0, 8 * ((compact >> 24) - 3))
    assert decoded == (target >> dropped_bits) << dropped_bits


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_every_uint32_decodes_within_uint256(bits: int) -> None:
    target, _, _ = compact_to_target(bits)
    assert 0 <= target < 1 << 256


# -- CheckProofOfWork ------------------------------------------------------------------------


def test_check_proof_of_work_genesis() -> None:
    header = MAINNET.genesis.header
    assert header.hash_hex == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    assert check_proof_of_work(header.hash, header.bits, MAINNET)
    assert check_proof_of_work(REGTEST.genesis.hash, REGTEST.genesis.header.bits, REGTEST)


@pytest.mark.parametrize(
    ("bits", "why"),
    [
        (0x04923456, "negative"),
        (0xFF123456, "overflow"),
        (0x01003456, "zero target"),
        (0x1D01FFFF, "above the mainnet pow limit"),
        (0x1B00FFFF, "hash above target"),
    ],
)
def test_check_proof_of_work_refuses(bits: int, why: str) -> None:
    assert not check_proof_of_work(MAINNET.genesis.hash, bits, MAINNET), why


def test_check_proof_of_work_hash_equal_to_target_passes() -> None:
    target = bits_to_target(0x1D00FFFF)
    assert check_proof_of_work(target.to_bytes(32, "little"), 0x1D00FFFF, MAINNET)
    assert not check_proof_of_work((target + 1).to_bytes(32, "little"), 0x1D00FFFF, MAINNET)


# -- retargeting (pow_tests.cpp) ---------------------------------------------------------------

RETARGET_CASES = [
    # first block time, last height, last time, last bits, expected
    pytest.param(1261130161, 32255, 1262152739, 0x1D00FFFF, 0x1D00D86A, id="get_next_work"),
    pytest.param(1231006505, 2015, 1233061996, 0x1D00FFFF, 0x1D00FFFF, id="pow_limit"),
    pytest.param(1279008237, 68543, 1279297671, 0x1C05A3F4, 0x1C0168FD, id="lower_limit"),
    pytest.param(1263163443, 46367, 1269211443, 0x1C387F6F, 0x1D00E1FD, id="upper_limit"),
]


@pytest.mark.parametrize(("first_time", "height", "time", "bits", "expected"), RETARGET_CASES)
def test_calculate_next_work_required_mainnet(
    first_time: int, height: int, time: int, bits: int, expected: int
) -> None:
    last = Entry(height, time, bits)
    assert calculate_next_work_required(last, first_time, MAINNET) == expected
    # Through GetNextWorkRequired: the window starts 2015 blocks before the last block.
    first = Entry(height - 2015, first_time, bits)
    lookup = _lookup([first, last])
    assert next_work_required(last, time + 600, MAINNET, lookup) == expected


def test_window_is_off_by_one() -> None:
    asked: list[int] = []

    def ancestor(height: int) -> HeaderInfo:
        asked.append(height)
        return Entry(height, 1261130161, 0x1D00FFFF)

    next_work_required(Entry(32255, 1262152739, 0x1D00FFFF), 0, MAINNET, ancestor)
    assert asked == [30240]  # 32255 - (2016 - 1), Core's comment: "Block #30240"


def test_no_retarget_between_boundaries_on_mainnet() -> None:
    prev = Entry(32254, 1262152000, 0x1C05A3F4)
    assert next_work_required(prev, prev.time + 10_000, MAINNET, _no_lookup) == 0x1C05A3F4


def _no_lookup(height: int) -> HeaderInfo:
    raise AssertionError(f"unexpected ancestor lookup at {height}")


def test_regtest_keeps_bits_at_a_boundary() -> None:
    # fPowNoRetargeting: what would be a 4x retarget on mainnet leaves the bits alone.
    prev = Entry(2015, 1_300_000_000, 0x1D00FFFF)
    lookup = _lookup([Entry(0, 1_200_000_000, 0x1D00FFFF), prev])
    assert next_work_required(prev, prev.time + 1, REGTEST, lookup) == 0x1D00FFFF
    assert calculate_next_work_required(prev, 1_200_000_000, REGTEST) == 0x1D00FFFF


def test_regtest_ordinary_block_keeps_the_pow_limit() -> None:
    prev = Entry(5, REGTEST.genesis.header.time + 3000, 0x207FFFFF)
    lookup = _lookup([Entry(h, prev.time, 0x207FFFFF) for h in range(6)])
    assert next_work_required(prev, prev.time + 1, REGTEST, lookup) == 0x207FFFFF


def test_retarget_without_window_is_misuse() -> None:
    params = dataclasses.replace(MAINNET, pow_target_timespan=600, pow_target_spacing=600)
    with pytest.raises(ChainMisuse, match="no window"):
        next_work_required(Entry(-1, 0, 0x1D00FFFF), 0, params, _no_lookup)


# -- the testnet min-difficulty rule -----------------------------------------------------------

TESTNET = dataclasses.replace(MAINNET, name="testnet-like", pow_allow_min_difficulty_blocks=True)
HARD = 0x1C0FFFF0


def _testnet_chain() -> list[Entry]:
    """Boundary block 2016 at HARD, 2017 at HARD, then 2018..2020 min-difficulty blocks."""
    base = 1_300_000_000
    chain = [Entry(2015, base - 600, 0x1D00FFFF), Entry(2016, base, HARD)]
    chain.append(Entry(2017, base + 600, HARD))
    chain += [Entry(h, base + 600 + 1300 * (h - 2017), 0x1D00FFFF) for h in (2018, 2019, 2020)]
    return chain


def test_min_difficulty_after_twice_the_spacing() -> None:
    chain = _testnet_chain()
    prev = chain[-1]
    lookup = _lookup(chain)
    assert next_work_required(prev, prev.time + 1201, TESTNET, lookup) == 0x1D00FFFF


def test_min_difficulty_walks_back_to_the_last_real_bits() -> None:
    chain = _testnet_chain()
    prev = chain[-1]
    lookup = _lookup(chain)
    # Exactly 20 minutes is not "more than": the last non-min-difficulty bits apply.
    assert next_work_required(prev, prev.time + 1200, TESTNET, lookup) == HARD


def test_min_difficulty_walk_stops_at_a_boundary() -> None:
    boundary = Entry(2016, 1_300_000_000, 0x1D00FFFF)  # a boundary block at the limit
    after = Entry(2017, boundary.time + 1300, 0x1D00FFFF)
    lookup = _lookup([Entry(2015, boundary.time - 600, HARD), boundary, after])
    assert next_work_required(after, after.time + 60, TESTNET, lookup) == 0x1D00FFFF


# -- PermittedDifficultyTransition -------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "old", "new", "allowed"),
    [
        pytest.param(32256, 0x1D00FFFF, 0x1D00D86A, True, id="observed-retarget"),
        pytest.param(68544, 0x1C05A3F4, 0x1C0168FD, True, id="4x-harder"),
        pytest.param(68544, 0x1C05A3F4, 0x1C0168FC, False, id="beyond-4x-harder"),
        pytest.param(46368, 0x1C387F6F, 0x1D00E1FD, True, id="4x-easier"),
        pytest.param(46368, 0x1C387F6F, 0x1D00E1FE, False, id="beyond-4x-easier"),
        pytest.param(2016, 0x1D00FFFF, 0x1D010000, False, id="above-pow-limit"),
        pytest.param(32255, 0x1D00FFFF, 0x1D00FFFF, True, id="unchanged-mid-window"),
        pytest.param(32255, 0x1D00FFFF, 0x1D00D86A, False, id="changed-mid-window"),
    ],
)
def test_permitted_difficulty_transition(height: int, old: int, new: int, allowed: bool) -> None:
    assert permitted_difficulty_transition(MAINNET, height, old, new) is allowed


def test_permitted_difficulty_transition_anything_goes_on_regtest() -> None:
    assert permitted_difficulty_transition(REGTEST, 5, 0x207FFFFF, 0x1D00FFFF)
    assert permitted_difficulty_transition(TESTNET, 5, HARD, 0x1D00FFFF)
