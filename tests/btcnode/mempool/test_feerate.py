"""FeeRate rounds as Core's CFeeRate: construction truncates, GetFee rounds up."""

from __future__ import annotations

import pytest

from btcnode.consensus.errors import ChainMisuse
from btcnode.mempool import FeeRate, MempoolPolicy
from btcnode.mempool.rbf import format_money


@pytest.mark.parametrize(
    ("rate", "vsize", "fee"),
    [(1000, 250, 250), (100, 110, 11), (100, 111, 12), (1, 1, 1), (0, 500, 0), (3000, 182, 546)],
)
def test_fee_rounds_up(rate: int, vsize: int, fee: int) -> None:
    assert FeeRate(rate).fee(vsize) == fee


def test_rate_of_truncates_toward_zero() -> None:
    assert FeeRate.of(1000, 110) == FeeRate(9090)
    assert FeeRate.of(-1000, 110) == FeeRate(-9090)
    assert FeeRate.of(5, 0) == FeeRate(0)
    assert FeeRate(-5).fee(1) == -1


def test_order_sum_and_text() -> None:
    assert FeeRate(100) < FeeRate(101) and max(FeeRate(3), FeeRate(2)) == FeeRate(3)
    assert FeeRate(9090) + FeeRate(100) == FeeRate(9190)
    assert str(FeeRate(9190)) == "9.190 sat/vB" and repr(FeeRate(5)) == "FeeRate(5)"


def test_format_money_as_core() -> None:
    assert format_money(3000) == "0.00003"
    assert format_money(100_000_000) == "1.00"
    assert format_money(150_000_000) == "1.50"
    assert format_money(-11) == "-0.00000011"


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ChainMisuse):
        MempoolPolicy(max_orphans=-1)
    with pytest.raises(ChainMisuse):
        MempoolPolicy(min_relay_fee=FeeRate(-1))
    with pytest.raises(ChainMisuse):
        MempoolPolicy(max_datacarrier_bytes=-5)
    assert MempoolPolicy().limits.ancestor_count == 25
