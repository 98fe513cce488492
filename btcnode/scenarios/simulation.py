"""A seeded random-walk model of the double-spend race, to hold against bitcoin.pdf §11.

One run: the merchant waits for `z` honest blocks while the attacker mines privately
(phase 1); from the attacker's deficit the race goes on block by block, each next block the
attacker's with probability q (phase 2), until the attacker draws level (a win, as in the
paper) or falls so far behind that catching up is negligible. `HonestTiming` says how
phase 1 is timed: EXPECTED is the paper's assumption (the z blocks take their expected
time z/p, the attacker's blocks in it are a Poisson process of rate q), RANDOM is the real
race (every block, the merchant's too, is the attacker's with probability q).

Pure: the randomness is a `UniformSource` passed in (a seeded `random.Random`), so a seed
replays a run exactly.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.scenarios.nakamoto import (
    PAPER_THRESHOLD,
    attacker_success_probability,
    confirmations_needed,
    race_success_probability,
)

__all__ = [
    "NEGLIGIBLE_CATCH_UP",
    "PAPER_SHARES",
    "HashShareRow",
    "HonestTiming",
    "RaceEstimate",
    "UniformSource",
    "catches_up",
    "estimate_success",
    "give_up_deficit",
    "hash_share_row",
    "hash_share_table",
    "progress_expected_timing",
    "progress_random_timing",
    "race_once",
]

NEGLIGIBLE_CATCH_UP = 1e-6  # a deficit with (q/p)^d below this is a loss: at P = 0.1%, a 0.1% bias
PAPER_SHARES = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45)  # bitcoin.pdf §11's last table
MAX_RUNS = 10_000_000  # a guard against a typo costing hours


class UniformSource(Protocol):
    """What the model needs of a random generator: `random.Random` fits."""

    def random(self) -> float: ...


class HonestTiming(enum.Enum):
    EXPECTED = "expected"  # bitcoin.pdf §11: the z honest blocks take their expected time
    RANDOM = "random"  # the honest blocks come at random as well


def _check(q: float, z: int) -> None:
    if not 0.0 <= q < 0.5:
        raise ScenarioMisuse(f"attacker hash share q={q} is not in [0, 0.5)")
    if z < 0:
        raise ScenarioMisuse(f"confirmations z={z} is negative")


def give_up_deficit(q: float) -> int:
    """The least deficit d with (q/p)^d below NEGLIGIBLE_CATCH_UP."""
    if q == 0.0:
        return 1
    ratio = q / (1.0 - q)
    return max(1, math.ceil(math.log(NEGLIGIBLE_CATCH_UP) / math.log(ratio)))


def progress_expected_timing(q: float, z: int, rng: UniformSource) -> int:
    """The attacker's blocks in time z/p: exponential gaps of mean 1/q (a Poisson count)."""
    if q == 0.0:
        return 0
    horizon = z / (1.0 - q)
    found, elapsed = 0, 0.0
    while True:
        elapsed -= math.log(1.0 - rng.random()) / q
        if elapsed > horizon:
            return found
        found += 1


def progress_random_timing(q: float, z: int, rng: UniformSource) -> int:
    """The attacker's blocks found before the z-th honest block, block by block."""
    found, honest = 0, 0
    while honest < z:
        if rng.random() < q:
            found += 1
        else:
            honest += 1
    return found


def catches_up(q: float, deficit: int, rng: UniformSource) -> bool:
    """Phase 2, the gambler's ruin walked out: does the attacker ever draw level?"""
    give_up = give_up_deficit(q)
    while 0 < deficit < give_up:
        deficit += -1 if rng.random() < q else 1
    return deficit <= 0


def race_once(q: float, z: int, rng: UniformSource, timing: HonestTiming) -> bool:
    """One race: True if the attacker's chain catches up after z confirmations."""
    _check(q, z)
    if timing is HonestTiming.EXPECTED:
        progress = progress_expected_timing(q, z, rng)
    else:
        progress = progress_random_timing(q, z, rng)
    return catches_up(q, z - progress, rng)


@dataclass(frozen=True, slots=True)
class RaceEstimate:
    """`successes` attacker wins in `runs` seeded races at share q and z confirmations."""

    q: float
    z: int
    timing: HonestTiming
    runs: int
    successes: int

    def __post_init__(self) -> None:
        if not 0 < self.runs <= MAX_RUNS or not 0 <= self.successes <= self.runs:
            raise ScenarioMisuse(f"{self.successes} successes in {self.runs} runs")

    @property
    def probability(self) -> float:
        return self.successes / self.runs

    @property
    def standard_error(self) -> float:
        """The estimate's standard error, taking the estimate as the true P."""
        return self.standard_error_at(self.probability)

    def standard_error_at(self, reference: float) -> float:
        """The standard error of `runs` races if the true P is `reference`."""
        return math.sqrt(reference * (1.0 - reference) / self.runs)


def estimate_success(
    q: float, z: int, runs: int, rng: UniformSource, timing: HonestTiming
) -> RaceEstimate:
    """The attacker's wins over `runs` races drawn in order from `rng`."""
    _check(q, z)
    if not 0 < runs <= MAX_RUNS:
        raise ScenarioMisuse(f"runs={runs} is not in 1..{MAX_RUNS}")
    wins = sum(1 for _ in range(runs) if race_once(q, z, rng, timing))
    return RaceEstimate(q, z, timing, runs, wins)


@dataclass(frozen=True, slots=True)
class HashShareRow:
    """One line of the hash-share table: Nakamoto's z for P < threshold and what it gives.

    `nakamoto` is the paper's P at z, `simulated` the seeded model under the paper's
    timing, `random_timing` the model with random honest timing; `exact` is that race's
    closed form and `z_random_timing` the confirmations it needs for the same threshold.
    """

    q: float
    z: int
    nakamoto: float
    simulated: RaceEstimate
    random_timing: RaceEstimate
    exact: float
    z_random_timing: int


def hash_share_row(q: float, runs: int, rng: UniformSource, threshold: float) -> HashShareRow:
    z = confirmations_needed(q, threshold)
    return HashShareRow(
        q=q,
        z=z,
        nakamoto=attacker_success_probability(q, z),
        simulated=estimate_success(q, z, runs, rng, HonestTiming.EXPECTED),
        random_timing=estimate_success(q, z, runs, rng, HonestTiming.RANDOM),
        exact=race_success_probability(q, z),
        z_random_timing=confirmations_needed(q, threshold, race_success_probability),
    )


def hash_share_table(
    runs: int,
    rng: UniformSource,
    shares: Sequence[float] = PAPER_SHARES,
    threshold: float = PAPER_THRESHOLD,
) -> tuple[HashShareRow, ...]:
    """A row per attacker share, drawn from `rng` in order (one seed replays the table)."""
    return tuple(hash_share_row(q, runs, rng, threshold) for q in shares)
