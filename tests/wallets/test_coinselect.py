"""Coin selection: Core's coinselector_tests cases, a brute-force reference for
branch-and-bound, and properties of the chosen selection."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.mempool.feerate import FeeRate
from wallets.coinselect import (
    CoinSelectionParams,
    InsufficientFunds,
    OutputGroup,
    SelectionAlgorithm,
    SelectionResult,
    choose_selection,
    generate_change_target,
    knapsack_solver,
    select_coins_bnb,
    select_coins_srd,
)

CENT = 1_000_000


def _pool(*values: int) -> list[OutputGroup]:
    """Coins with no fees, as Core's coinselector tests add them."""
    return [OutputGroup(i, v, 0, 0, 272) for i, v in enumerate(values)]


def _values(result: SelectionResult | None) -> list[int]:
    assert result is not None
    return sorted(g.value for g in result.groups)


# -- branch and bound (Core's bnb_search_test) ------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [(1 * CENT, [1]), (2 * CENT, [2]), (5 * CENT, [2, 3])],
    ids=["1 cent", "2 cent", "5 cent"],
)
def test_bnb_finds_exact_matches(target: int, expected: list[int]) -> None:
    # Equal waste: the last solution met wins (Core's `curr_waste <= best_waste`), 3+2 not 4+1.
    pool = _pool(1 * CENT, 2 * CENT, 3 * CENT, 4 * CENT)
    assert _values(select_coins_bnb(pool, target, CENT // 2)) == [v * CENT for v in expected]


def test_bnb_refuses_what_is_not_in_the_window() -> None:
    pool = _pool(1 * CENT, 2 * CENT, 3 * CENT, 4 * CENT)
    assert select_coins_bnb(pool, 11 * CENT, CENT // 2) is None  # more than all of it
    assert select_coins_bnb(pool, CENT // 4, CENT // 2) is None  # every coin overshoots
    pool5 = _pool(1 * CENT, 2 * CENT, 3 * CENT, 4 * CENT, 5 * CENT)
    ten = select_coins_bnb(pool5, 10 * CENT, CENT // 2)
    assert _values(ten) == [c * CENT for c in (1, 2, 3, 4)]
    larger = _pool(*(i * CENT for i in range(5, 21)))
    assert select_coins_bnb(larger, 1 * CENT, 2 * CENT) is None


def _hard_case(utxos: int) -> tuple[list[OutputGroup], int]:
    """Core's make_hard_case: a pool whose only solution BnB reaches last."""
    pool: list[OutputGroup] = []
    target = 0
    for i in range(utxos):
        target += 1 << (utxos + i)
        pool.append(OutputGroup(2 * i, 1 << (utxos + i), 0, 0, 0))
        pool.append(OutputGroup(2 * i + 1, (1 << (utxos + i)) + (1 << (utxos - 1 - i)), 0, 0, 0))
    return pool, target


def test_bnb_gives_up_after_its_tries() -> None:
    pool, target = _hard_case(17)
    assert select_coins_bnb(pool, target, 1) is None  # exhausts 100,000 tries
    pool, target = _hard_case(14)
    result = select_coins_bnb(pool, target, 1)
    assert result is not None and result.selected_effective_value == target


def test_bnb_skips_coins_equal_to_one_just_excluded() -> None:
    # Without the skip, walking past 50,000 equal coins takes 100,000 tries.
    pool = _pool(*([7 * CENT] * 4 + [2 * CENT] + [5 * CENT] * 50_000))
    result = select_coins_bnb(pool, 30 * CENT, 5000)
    assert result is not None and result.selected_value == 30 * CENT


def _reference_min_waste(pool: list[OutputGroup], target: int, cost: int) -> int | None:
    best = None
    for n in range(1, len(pool) + 1):
        for subset in itertools.combinations(pool, n):
            value = sum(g.effective_value for g in subset)
            if target <= value <= target + cost:
                waste = sum(g.fee - g.long_term_fee for g in subset) + value - target
                best = waste if best is None else min(best, waste)
    return best


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1_000, 200_000), min_size=1, max_size=9),
    st.integers(1_000, 600_000),
    st.integers(0, 5_000),
    st.integers(0, 20),
)
def test_bnb_matches_a_brute_force_reference(
    values: list[int], target: int, cost: int, extra_rate: int
) -> None:
    # At or above the long-term rate BnB's pruning is exact: compare with every subset.
    fee = 68 * (10 + extra_rate)
    pool = [OutputGroup(i, v + 2_100, fee, 680, 272) for i, v in enumerate(values)]
    result = select_coins_bnb(pool, target, cost)
    reference = _reference_min_waste(pool, target, cost)
    if reference is None:
        assert result is None
    else:
        assert result is not None
        excess = result.selected_effective_value - target
        assert 0 <= excess <= cost
        assert sum(g.fee - g.long_term_fee for g in result.groups) + excess == reference


# -- knapsack (Core's knapsack_solver_test) ---------------------------------------------------


def test_knapsack_prefers_the_next_larger_coin_or_a_smaller_sum() -> None:
    rng = random.Random(1)
    five = _pool(6 * CENT, 7 * CENT, 8 * CENT, 20 * CENT, 30 * CENT)
    assert knapsack_solver(five, 72 * CENT, CENT, rng) is None  # 71 cents in all
    # 6+7+8 = 21 is worse than the next larger coin, 20.
    assert _values(knapsack_solver(five, 16 * CENT, CENT, rng)) == [20 * CENT]
    six = _pool(5 * CENT, 6 * CENT, 7 * CENT, 8 * CENT, 20 * CENT, 30 * CENT)
    # 5+6+7 = 18 beats 20.
    assert _values(knapsack_solver(six, 16 * CENT, CENT, rng)) == [5 * CENT, 6 * CENT, 7 * CENT]
    seven = _pool(5 * CENT, 6 * CENT, 7 * CENT, 8 * CENT, 18 * CENT, 20 * CENT, 30 * CENT)
    # 18 equals the best small sum: the single coin wins.
    assert _values(knapsack_solver(seven, 16 * CENT, CENT, rng)) == [18 * CENT]
    assert _values(knapsack_solver(seven, 11 * CENT, CENT, rng)) == [5 * CENT, 6 * CENT]


def test_knapsack_exact_coin_and_all_smaller_coins() -> None:
    rng = random.Random(2)
    assert _values(knapsack_solver(_pool(1 * CENT), 1 * CENT, CENT, rng)) == [CENT]
    pool = _pool(1 * CENT, 2 * CENT, 50 * CENT)
    assert _values(knapsack_solver(pool, 3 * CENT, CENT, rng)) == [1 * CENT, 2 * CENT]
    assert knapsack_solver([], 1, CENT, rng) is None


def test_knapsack_is_deterministic_given_the_rng() -> None:
    pool = _pool(*(random.Random(3).randrange(1, 50) * CENT // 10 for _ in range(40)))
    first = knapsack_solver(pool, 37 * CENT // 10, CENT, random.Random(9))
    again = knapsack_solver(pool, 37 * CENT // 10, CENT, random.Random(9))
    assert first == again


def test_srd_reaches_target_plus_minimal_change() -> None:
    pool = _pool(*([10_000] * 30))
    result = select_coins_srd(pool, 100_000, 500, random.Random(4))
    assert result is not None
    assert result.selected_effective_value >= 100_000 + 50_000 + 500
    assert select_coins_srd(pool, 300_000, 500, random.Random(4)) is None


def test_change_target_follows_core() -> None:
    assert generate_change_target(10_000, 300, random.Random(0)) == 50_300
    for seed in range(20):
        target = generate_change_target(2_000_000, 0, random.Random(seed))
        assert 50_000 <= target < 1_000_000


# -- choosing ---------------------------------------------------------------------------------


def _params(rate: int = 5_000) -> CoinSelectionParams:
    return CoinSelectionParams(FeeRate(rate), 31, 68, 294)


def _groups(values: list[int], params: CoinSelectionParams) -> list[OutputGroup]:
    return [OutputGroup.of(i, v, 272, 68, params) for i, v in enumerate(values)]


def test_an_exact_match_is_taken_without_change() -> None:
    params = _params()
    groups = _groups([100_000, 250_340, 400_000, 1_000_000], params)
    target = 250_000  # 250,340 less its 340 sat input fee at 5 sat/vB
    result = choose_selection(groups, target, params, random.Random(5), target)
    assert result.algorithm is SelectionAlgorithm.BNB
    assert [g.ref for g in result.groups] == [1]
    assert result.change(params.min_viable_change, params.change_fee) == 0


def test_insufficient_funds_carries_the_amounts() -> None:
    params = _params()
    groups = _groups([10_000, 20_000, 200], params)  # the 200 sat coin costs more than it holds
    with pytest.raises(InsufficientFunds) as info:
        choose_selection(groups, 40_000, params, random.Random(6), 40_000)
    assert (info.value.needed, info.value.available) == (40_000, 30_000 - 2 * 340)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.integers(1, 5_000_000), min_size=1, max_size=25),
    st.integers(1_000, 3_000_000),
    st.integers(1_000, 50_000),
    st.integers(0, 2**32),
)
def test_chosen_selection_covers_target_without_duplicates(
    values: list[int], target: int, rate: int, seed: int
) -> None:
    params = _params(rate)
    groups = _groups(values, params)
    try:
        result = choose_selection(groups, target, params, random.Random(seed), target)
    except InsufficientFunds as err:
        assert err.available == sum(g.effective_value for g in groups if g.effective_value > 0)
        assert err.available < target or err.needed == target
        return
    refs = [g.ref for g in result.groups]
    assert len(refs) == len(set(refs))
    assert all(g.effective_value > 0 for g in result.groups)
    assert result.selected_effective_value >= target
    assert result.selected_value >= target + sum(g.fee for g in result.groups)
    if result.algorithm is SelectionAlgorithm.BNB:
        mvc, cost = params.min_viable_change, params.cost_of_change
        assert result.selected_effective_value - target <= cost
        waste = result.waste(mvc, cost, params.change_fee)
        base = sum(g.fee - g.long_term_fee for g in result.groups)
        assert base <= waste <= base + cost
