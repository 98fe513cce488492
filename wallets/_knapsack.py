"""Core's ApproximateBestSubset: the stochastic subset sum behind the knapsack solver.

Kept apart from `wallets.coinselect` so that each file stays one concept; it works on plain
(amount, weight) pairs sorted largest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["KNAPSACK_ITERATIONS", "approximate_best_subset"]

KNAPSACK_ITERATIONS = 1000  # Core's default: random passes before taking the best seen


class _Bits(Protocol):
    def getrandbits(self, k: int, /) -> int: ...


def approximate_best_subset(
    rng: _Bits,
    amounts: Sequence[tuple[int, int]],
    total_lower: int,
    target: int,
    max_weight: int,
    iterations: int = KNAPSACK_ITERATIONS,
) -> tuple[list[bool], int]:
    """The smallest total >= `target` found in `iterations` random passes, and which
    amounts make it; the worst case is all of them (`total_lower`)."""
    best = [True] * len(amounts)
    best_total = total_lower
    for _ in range(iterations):
        if best_total == target:
            break
        included = [False] * len(amounts)
        total = weight = 0
        reached = False
        for first_pass in (True, False):
            if reached:
                break
            for i, (amount, coin_weight) in enumerate(amounts):
                take = rng.getrandbits(1) == 1 if first_pass else not included[i]
                if not take:
                    continue
                total += amount
                weight += coin_weight
                included[i] = True
                if total >= target and weight <= max_weight:
                    reached = True
                    if total < best_total:
                        best_total = total
                        best = list(included)
                    total -= amount
                    weight -= coin_weight
                    included[i] = False
    return best, best_total
