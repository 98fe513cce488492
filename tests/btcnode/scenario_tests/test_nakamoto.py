"""bitcoin.pdf §11 held to the paper's own tables, and the exact race to what it must be."""

from __future__ import annotations

import pytest

from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.scenarios.nakamoto import (
    attacker_success_probability,
    catch_up_probability,
    confirmations_needed,
    race_success_probability,
)

# bitcoin.pdf §11, "Running some results": P for q=0.1 and q=0.3 (7 decimals as printed)
PAPER_Q_010 = [
    (0, 1.0000000),
    (1, 0.2045873),
    (2, 0.0509779),
    (3, 0.0131722),
    (4, 0.0034552),
    (5, 0.0009137),
    (6, 0.0002428),
    (7, 0.0000647),
    (8, 0.0000173),
    (9, 0.0000046),
    (10, 0.0000012),
]
PAPER_Q_030 = [
    (0, 1.0000000),
    (5, 0.1773523),
    (10, 0.0416605),
    (15, 0.0101008),
    (20, 0.0024804),
    (25, 0.0006132),
    (30, 0.0001522),
    (35, 0.0000379),
    (40, 0.0000095),
    (45, 0.0000024),
    (50, 0.0000006),
]
# bitcoin.pdf §11, "Solving for P less than 0.1%"
PAPER_Z_FOR_P_BELOW_0_1_PERCENT = [
    (0.10, 5),
    (0.15, 8),
    (0.20, 11),
    (0.25, 15),
    (0.30, 24),
    (0.35, 41),
    (0.40, 89),
    (0.45, 340),
]


@pytest.mark.parametrize(
    ("q", "z", "expected"),
    [(0.1, z, p) for z, p in PAPER_Q_010] + [(0.3, z, p) for z, p in PAPER_Q_030],
    ids=lambda v: str(v),
)
def test_the_formula_reproduces_the_papers_table(q: float, z: int, expected: float) -> None:
    assert round(attacker_success_probability(q, z), 7) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("q", "z"), PAPER_Z_FOR_P_BELOW_0_1_PERCENT, ids=str)
def test_confirmations_needed_match_the_paper(q: float, z: int) -> None:
    assert confirmations_needed(q) == z
    assert attacker_success_probability(q, z) < 0.001 <= attacker_success_probability(q, z - 1)


def test_catch_up_is_certain_from_level_or_for_a_majority() -> None:
    assert catch_up_probability(0.1, 0) == 1.0
    assert catch_up_probability(0.5, 10) == 1.0
    assert catch_up_probability(0.25, 3) == pytest.approx((0.25 / 0.75) ** 3)


def test_a_majority_attacker_always_wins_and_needs_no_table_row() -> None:
    assert attacker_success_probability(0.5, 100) == 1.0
    assert race_success_probability(0.6, 100) == 1.0
    with pytest.raises(ScenarioMisuse, match="half the hash rate"):
        confirmations_needed(0.5)


def test_no_hash_rate_no_success() -> None:
    assert attacker_success_probability(0.0, 1) == 0.0
    assert race_success_probability(0.0, 1) == 0.0
    assert attacker_success_probability(0.0, 0) == race_success_probability(0.0, 0) == 1.0


@pytest.mark.parametrize("q", [0.05, 0.1, 0.3, 0.45])
def test_the_exact_race_with_one_confirmation_is_2q(q: float) -> None:
    # The attacker finds the first block (q), or the merchant's comes first (p) and the
    # attacker then catches up from one behind ((q/p) * p = q).
    assert race_success_probability(q, 1) == pytest.approx(2 * q)


def test_nakamoto_underestimates_the_exact_race() -> None:
    # Rosenfeld 2014, table: q=0.1, z=5 is about 0.00178 against the paper's 0.00091
    assert race_success_probability(0.1, 5) == pytest.approx(0.0017818, abs=1e-7)
    for q, z in PAPER_Z_FOR_P_BELOW_0_1_PERCENT:
        assert race_success_probability(q, z) > attacker_success_probability(q, z)


def test_large_z_neither_underflows_nor_overflows() -> None:
    # The paper's C code computes exp(-lambda) first: lambda = 0.49/0.51 * 2000 underflows.
    p = attacker_success_probability(0.49, 2000)
    assert 0.0 < p < 1.0
    assert 0.0 < race_success_probability(0.49, 2000) < 1.0


@pytest.mark.parametrize(("q", "z"), [(-0.1, 1), (1.0, 1), (0.1, -1)])
def test_arguments_out_of_range_are_refused(q: float, z: int) -> None:
    with pytest.raises(ScenarioMisuse) as err:
        attacker_success_probability(q, z)
    assert str(q) in str(err.value) or str(z) in str(err.value)
