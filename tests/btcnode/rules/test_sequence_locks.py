"""BIP68 relative lock-times: CalculateSequenceLocks, EvaluateSequenceLocks, SequenceLocks."""

from __future__ import annotations

import pytest

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.sequence_locks import (
    NO_LOCK,
    SEQUENCE_LOCKTIME_DISABLE_FLAG,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
    calculate_sequence_locks,
    evaluate_sequence_locks,
    sequence_locks,
)
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from tests.btcnode.rules.chain import OP_TRUE, TestChain, spend

TYPE = SEQUENCE_LOCKTIME_TYPE_FLAG
DISABLE = SEQUENCE_LOCKTIME_DISABLE_FLAG


def _tx(*sequences: int, version: int = 2) -> Tx:
    vin = tuple(TxIn(OutPoint(bytes([n + 1]) * 32, 0), b"", s) for n, s in enumerate(sequences))
    return Tx(version, vin, (TxOut(1, OP_TRUE),))


class MtpAt:
    """A median-time-past lookup that records which heights it was asked for."""

    def __init__(self, base: int = 1_500_000_000) -> None:
        self.base = base
        self.asked: list[int] = []

    def __call__(self, height: int) -> int:
        self.asked.append(height)
        return self.base + 600 * height


def test_height_lock() -> None:
    locks = calculate_sequence_locks(_tx(5), True, [10], MtpAt(), 100)
    assert locks == (14, NO_LOCK)  # the last invalid height: coin height + 5 - 1
    assert not evaluate_sequence_locks(14, 0, locks)
    assert evaluate_sequence_locks(15, 0, locks)


def test_time_lock_runs_from_the_mtp_before_the_coins_block() -> None:
    mtp_at = MtpAt()
    locks = calculate_sequence_locks(_tx(TYPE | 3), True, [10], mtp_at, 100)
    assert mtp_at.asked == [9]
    assert locks == (NO_LOCK, mtp_at.base + 600 * 9 + 3 * 512 - 1)
    assert not evaluate_sequence_locks(100, locks[1], locks)
    assert evaluate_sequence_locks(100, locks[1] + 1, locks)


def test_time_lock_of_a_genesis_child_reads_height_zero() -> None:
    mtp_at = MtpAt()
    calculate_sequence_locks(_tx(TYPE | 1, TYPE | 1), True, [0, 1], mtp_at, 5)
    assert mtp_at.asked == [0, 0]  # max(h - 1, 0)


def test_granularity_is_512_seconds_and_only_16_bits_count() -> None:
    one = calculate_sequence_locks(_tx(TYPE | 1), True, [10], MtpAt(base=0), 100)
    assert one == (NO_LOCK, 600 * 9 + 511)
    noisy = calculate_sequence_locks(_tx(0x003F0005), True, [10], MtpAt(), 100)
    assert noisy == (14, NO_LOCK)  # bits 16..21 are not part of the value


def test_disable_flag_and_zero_lock() -> None:
    mtp_at = MtpAt()
    assert calculate_sequence_locks(_tx(DISABLE | TYPE | 9), True, [10], mtp_at, 100) == (-1, -1)
    assert mtp_at.asked == []
    assert calculate_sequence_locks(_tx(0), True, [10], mtp_at, 100) == (9, NO_LOCK)


def test_strictest_input_wins() -> None:
    locks = calculate_sequence_locks(
        _tx(5, 2, TYPE | 1, TYPE | 4), True, [10, 20, 3, 3], MtpAt(0), 90
    )
    assert locks == (21, 600 * 2 + 4 * 512 - 1)


@pytest.mark.parametrize(
    ("version", "enforced"), [(1, False), (0, False), (2, True), (-1, True), (-(2**31), True)]
)
def test_version_is_compared_unsigned(version: int, enforced: bool) -> None:
    locks = calculate_sequence_locks(_tx(5, version=version), True, [10], MtpAt(), 100)
    assert locks == ((14, NO_LOCK) if enforced else (NO_LOCK, NO_LOCK))


def test_not_enforced_before_csv() -> None:
    assert calculate_sequence_locks(_tx(5), False, [10], MtpAt(), 100) == (NO_LOCK, NO_LOCK)


def test_misuse() -> None:
    with pytest.raises(ChainMisuse, match="prev heights"):
        calculate_sequence_locks(_tx(5, 5), True, [10], MtpAt(), 100)
    with pytest.raises(ChainMisuse, match="coin height"):
        calculate_sequence_locks(_tx(5), True, [101], MtpAt(), 100)


@pytest.fixture(scope="module")
def chain() -> TestChain:
    """Block 101 creates an ordinary coin; the chain stops there."""
    chain = TestChain()
    blocks = chain.mine(100)
    funding = spend(OutPoint(blocks[0].txs[0].txid, 0), value=49 * 100_000_000)
    chain.mine(1, [funding], fees=100_000_000)
    chain.mine(5)
    return chain


def test_relative_height_lock_on_a_real_chain(chain: TestChain) -> None:
    tx = _tx(3)
    assert not sequence_locks(tx, True, [101], chain.mtp, 103)
    assert sequence_locks(tx, True, [101], chain.mtp, 104)


def test_relative_time_lock_on_a_real_chain(chain: TestChain) -> None:
    # Blocks are 600 s apart, so the MTP moves by 600 s a block: one 512 s unit takes a block.
    tx = _tx(TYPE | 1)
    assert chain.mtp(101) - chain.mtp(100) == 600
    assert not sequence_locks(tx, True, [101], chain.mtp, 101)
    assert sequence_locks(tx, True, [101], chain.mtp, 102)
    assert sequence_locks(_tx(DISABLE | 50), True, [101], chain.mtp, 101)
