"""The seeded race model against the closed forms it must agree with.

Each check allows 4 standard errors of the estimate (computed at the formula's P): a model
that drifted from the race it claims to simulate fails by far more. The seeds are fixed,
so a failure replays.
"""

from __future__ import annotations

import random

import pytest

from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.scenarios.nakamoto import attacker_success_probability, race_success_probability
from btcnode.scenarios.simulation import (
    NEGLIGIBLE_CATCH_UP,
    PAPER_SHARES,
    HonestTiming,
    RaceEstimate,
    catches_up,
    estimate_success,
    give_up_deficit,
    hash_share_table,
    progress_expected_timing,
    progress_random_timing,
)

RUNS = 20_000
SIGMAS = 4.0
CASES = [(0.1, 1), (0.1, 2), (0.1, 5), (0.3, 5), (0.3, 10), (0.4, 10)]


def _within(estimate: RaceEstimate, expected: float) -> bool:
    return abs(estimate.probability - expected) <= SIGMAS * estimate.standard_error_at(expected)


@pytest.mark.parametrize(("q", "z"), CASES, ids=str)
def test_the_papers_timing_reproduces_nakamotos_formula(q: float, z: int) -> None:
    estimate = estimate_success(q, z, RUNS, random.Random(int(q * 1000) + z), HonestTiming.EXPECTED)
    expected = attacker_success_probability(q, z)
    assert _within(estimate, expected), (estimate, expected)


@pytest.mark.parametrize(("q", "z"), CASES, ids=str)
def test_random_timing_reproduces_the_exact_race(q: float, z: int) -> None:
    estimate = estimate_success(q, z, RUNS, random.Random(int(q * 1000) + z), HonestTiming.RANDOM)
    expected = race_success_probability(q, z)
    assert _within(estimate, expected), (estimate, expected)


def test_random_timing_is_measurably_worse_than_the_paper_says() -> None:
    # q=0.3, z=10: the paper's 0.0417 against the exact race's 0.0651
    estimate = estimate_success(0.3, 10, RUNS, random.Random(7), HonestTiming.RANDOM)
    assert not _within(estimate, attacker_success_probability(0.3, 10))
    assert estimate.probability > attacker_success_probability(0.3, 10)


def test_a_seed_replays_the_same_estimate() -> None:
    def run(seed: int) -> RaceEstimate:
        return estimate_success(0.3, 5, 2_000, random.Random(seed), HonestTiming.RANDOM)

    assert run(11) == run(11)
    assert run(11) != run(12)  # 2,000 races: two seeds agreeing exactly is vanishingly rare


def test_the_attacker_progress_averages_z_q_over_p() -> None:
    rng = random.Random(3)
    q, z, n = 0.25, 12, 20_000
    for draw in (progress_expected_timing, progress_random_timing):
        mean = sum(draw(q, z, rng) for _ in range(n)) / n
        assert mean == pytest.approx(z * q / (1 - q), rel=0.03), draw.__name__


def test_the_walk_gives_up_only_where_catching_up_is_negligible() -> None:
    for q in PAPER_SHARES:
        d = give_up_deficit(q)
        ratio = q / (1 - q)
        assert ratio**d < NEGLIGIBLE_CATCH_UP <= ratio ** (d - 1)
    assert catches_up(0.3, 0, random.Random(1))  # level is a win, as in the paper
    assert not catches_up(0.3, give_up_deficit(0.3), random.Random(1))


def test_the_table_has_a_row_per_share_from_one_seed() -> None:
    rows = hash_share_table(200, random.Random(5), shares=(0.1, 0.3))
    assert [(r.q, r.z, r.z_random_timing) for r in rows] == [(0.1, 5, 6), (0.3, 24, 32)]
    assert rows[1].nakamoto == attacker_success_probability(0.3, 24)
    assert rows[1].exact == race_success_probability(0.3, 24)
    assert rows[1].simulated.timing is HonestTiming.EXPECTED
    assert rows[1].random_timing.timing is HonestTiming.RANDOM
    assert rows == hash_share_table(200, random.Random(5), shares=(0.1, 0.3))


@pytest.mark.parametrize(("runs", "successes"), [(0, 0), (10, 11), (10, -1)])
def test_an_estimate_needs_runs_and_at_most_that_many_wins(runs: int, successes: int) -> None:
    with pytest.raises(ScenarioMisuse, match=f"{successes} successes in {runs} runs"):
        RaceEstimate(0.1, 1, HonestTiming.RANDOM, runs, successes)


def test_a_majority_share_cannot_be_simulated() -> None:
    with pytest.raises(ScenarioMisuse, match=r"q=0.5 is not in \[0, 0.5\)"):
        estimate_success(0.5, 3, 10, random.Random(1), HonestTiming.RANDOM)
