"""The double-spend race in closed form: bitcoin.pdf §11 and the exact race it approximates.

An attacker with a share `q` of the hash rate (the honest network has p = 1 - q) pays a
merchant, who waits for `z` confirmations; meanwhile the attacker mines a private chain with
a conflicting transaction. The attacker wins if that chain ever catches up with the honest
one (a tie counts, as in the paper's gambler's ruin).

`attacker_success_probability` is Nakamoto's formula: the attacker's progress while the
merchant waits is Poisson with mean z·q/p (the honest blocks taking their expected time),
then a catch-up of (q/p)^deficit. `race_success_probability` drops that assumption: the
honest blocks come at random too, so the attacker's progress is negative binomial
(Rosenfeld 2014, "Analysis of Hashrate-Based Double Spending"); it is larger, and the gap
grows with q and z. Pure: math only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from btcnode.scenarios.errors import ScenarioMisuse

__all__ = [
    "MAX_CONFIRMATIONS",
    "PAPER_THRESHOLD",
    "attacker_success_probability",
    "catch_up_probability",
    "confirmations_needed",
    "race_success_probability",
]

PAPER_THRESHOLD = 0.001  # bitcoin.pdf §11 solves for "P less than 0.1%"
MAX_CONFIRMATIONS = 100_000  # search bound; q = 0.49 needs a few thousand


def _check_share(q: float) -> None:
    if not 0.0 <= q < 1.0:
        raise ScenarioMisuse(f"attacker hash share q={q} is not in [0, 1)")


def _check_confirmations(z: int) -> None:
    if z < 0:
        raise ScenarioMisuse(f"confirmations z={z} is negative")


def catch_up_probability(q: float, deficit: int) -> float:
    """bitcoin.pdf §11: q_z, the chance of ever catching up from `deficit` blocks behind."""
    _check_share(q)
    p = 1.0 - q
    if deficit <= 0 or q >= p:
        return 1.0
    return (q / p) ** deficit


def attacker_success_probability(q: float, z: int) -> float:
    """bitcoin.pdf §11, AttackerSuccessProbability(q, z): Poisson progress, then catch-up.

    The Poisson terms are summed in log space so that large z·q/p neither underflows
    exp(-lambda) (the paper's C code does for z·q/p > 745) nor overflows lambda^k.
    """
    _check_share(q)
    _check_confirmations(z)
    p = 1.0 - q
    if q >= p:
        return 1.0
    if q == 0.0:
        return 1.0 if z == 0 else 0.0
    lam = z * (q / p)
    total = 1.0
    for k in range(z + 1):
        log_poisson = -lam + k * math.log(lam) - math.lgamma(k + 1) if lam > 0 else 0.0
        total -= math.exp(log_poisson) * (1.0 - (q / p) ** (z - k))
    return max(0.0, total)


def race_success_probability(q: float, z: int) -> float:
    """The same race with random honest timing: the attacker's blocks before the merchant's
    z-th confirmation are negative binomial, C(k+z-1, k)·p^z·q^k (Rosenfeld 2014, eq. 1)."""
    _check_share(q)
    _check_confirmations(z)
    p = 1.0 - q
    if q >= p or z == 0:
        return 1.0
    if q == 0.0:
        return 0.0
    total = 1.0
    for k in range(z + 1):
        log_term = (
            math.lgamma(k + z) - math.lgamma(k + 1) - math.lgamma(z) + z * math.log(p)
        ) + k * math.log(q)
        total -= math.exp(log_term) * (1.0 - (q / p) ** (z - k))
    return max(0.0, total)


def confirmations_needed(
    q: float,
    max_probability: float = PAPER_THRESHOLD,
    probability: Callable[[float, int], float] = attacker_success_probability,
) -> int:
    """The least z with `probability(q, z)` below `max_probability` (bitcoin.pdf §11's last
    table: q=0.1 needs 5, q=0.3 needs 24, q=0.45 needs 340)."""
    _check_share(q)
    if not 0.0 < max_probability <= 1.0:
        raise ScenarioMisuse(f"max_probability {max_probability} is not in (0, 1]")
    if q >= 0.5:
        raise ScenarioMisuse(f"q={q}: an attacker with half the hash rate or more always wins")
    for z in range(MAX_CONFIRMATIONS + 1):
        if probability(q, z) < max_probability:
            return z
    raise ScenarioMisuse(
        f"q={q}: even {MAX_CONFIRMATIONS} confirmations leave P >= {max_probability}"
    )
