"""Coin selection as Bitcoin Core does it (wallet/coinselection.cpp, wallet/spend.cpp).

Every coin enters as an `OutputGroup` with its effective value: its value less the fee to
spend it at the transaction's fee rate. Coins whose effective value is not positive cost more
to spend than they bring and are left out. Three algorithms run on the rest:

- branch-and-bound (`select_coins_bnb`, Murch's search, Core's SelectCoinsBnB): a changeless
  selection whose effective value lies in [target, target + cost_of_change], depth first with
  the largest coins tried first, at most `BNB_TOTAL_TRIES` steps, keeping the least waste;
- knapsack (`knapsack_solver`, Core's KnapsackSolver with ApproximateBestSubset): a
  randomised subset sum aiming at target + a random change target;
- single random draw (`select_coins_srd`, Core's SelectCoinsSRD): random coins until the
  target plus a minimal change is reached.

`choose_selection` keeps the result with the least waste (Core's ChooseSelectionResult; on a
tie, the one spending more inputs). All randomness comes from the `Rng` passed in (a seeded
`random.Random` in tests), so a selection is reproducible.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from btcnode.consensus.params import MAX_MONEY
from btcnode.mempool.feerate import FeeRate
from wallets._knapsack import approximate_best_subset
from wallets.errors import WalletInputError, WalletMisuse

__all__ = [
    "BNB_TOTAL_TRIES",
    "CHANGE_LOWER",
    "CHANGE_UPPER",
    "CoinSelectionParams",
    "InsufficientFunds",
    "OutputGroup",
    "Rng",
    "SelectionAlgorithm",
    "SelectionResult",
    "choose_selection",
    "generate_change_target",
    "knapsack_solver",
    "select_coins_bnb",
    "select_coins_srd",
]

BNB_TOTAL_TRIES = 100_000  # Core's TOTAL_TRIES: bounds the depth-first search
CHANGE_LOWER = 50_000  # Core: the smallest random change target (sat)
CHANGE_UPPER = 1_000_000  # Core: the largest random change target (sat)


class Rng(Protocol):
    """What the selection draws on; `random.Random` fits."""

    def shuffle(self, x: list[int]) -> None: ...

    def getrandbits(self, k: int, /) -> int: ...

    def randrange(self, stop: int, /) -> int: ...


class InsufficientFunds(WalletInputError):
    """The coins' effective value cannot cover the payment and its fees."""

    def __init__(self, needed: int, available: int) -> None:
        self.needed = needed
        self.available = available
        super().__init__(
            f"insufficient funds: {needed} sat needed (payments and fees), "
            f"{available} sat available after the fees to spend the coins"
        )


class SelectionAlgorithm(enum.Enum):
    BNB = "bnb"
    KNAPSACK = "knapsack"
    SRD = "srd"
    PRESET = "preset"  # only the inputs the caller chose


@dataclass(frozen=True, slots=True)
class OutputGroup:
    """One coin as the algorithms see it. `ref` is the caller's handle (a list index).

    `fee` is the fee to spend it at the effective fee rate, `long_term_fee` at the long-term
    rate (their difference is the coin's share of the waste), `weight` its input weight.
    """

    ref: int
    value: int
    fee: int
    long_term_fee: int
    weight: int

    def __post_init__(self) -> None:
        for name in ("ref", "value", "fee", "long_term_fee", "weight"):
            got = getattr(self, name)
            if isinstance(got, bool) or not isinstance(got, int) or got < 0:
                raise WalletMisuse(f"OutputGroup.{name} must be a non-negative int, got {got!r}")

    @property
    def effective_value(self) -> int:
        """Core's GetSelectionAmount with effective values: value less its spending fee."""
        return self.value - self.fee

    @classmethod
    def of(
        cls, ref: int, value: int, input_weight: int, input_vsize: int, params: CoinSelectionParams
    ) -> OutputGroup:
        return cls(
            ref,
            value,
            params.effective_feerate.fee(input_vsize),
            params.long_term_feerate.fee(input_vsize),
            input_weight,
        )


@dataclass(frozen=True, slots=True)
class CoinSelectionParams:
    """Core's CoinSelectionParams: the rates and the sizes of a change output.

    `change_output_size` is the serialized size of the change output, `change_spend_size`
    the vsize of an input spending it later; `change_dust_threshold` its dust threshold at the
    discard rate. Defaults are Core's: long-term (consolidate) rate 10 sat/vB, discard
    rate 10 sat/vB.
    """

    effective_feerate: FeeRate
    change_output_size: int
    change_spend_size: int
    change_dust_threshold: int
    long_term_feerate: FeeRate = field(default=FeeRate(10_000))
    discard_feerate: FeeRate = field(default=FeeRate(10_000))
    max_selection_weight: int = 400_000

    def __post_init__(self) -> None:
        for name in ("change_output_size", "change_spend_size", "change_dust_threshold"):
            got = getattr(self, name)
            if isinstance(got, bool) or not isinstance(got, int) or got < 0:
                raise WalletMisuse(f"{name} must be a non-negative int, got {got!r}")
        if self.effective_feerate.sat_per_kvb < 0 or self.discard_feerate.sat_per_kvb < 0:
            raise WalletMisuse("fee rates must not be negative")

    @property
    def change_fee(self) -> int:
        """The fee of the change output itself, at the effective rate."""
        return self.effective_feerate.fee(self.change_output_size)

    @property
    def cost_of_change(self) -> int:
        """Creating the change now plus spending it later at the discard rate."""
        return self.discard_feerate.fee(self.change_spend_size) + self.change_fee

    @property
    def min_viable_change(self) -> int:
        """Core: change must beat dust and be worth more than it costs to spend."""
        spend_fee = self.discard_feerate.fee(self.change_spend_size)
        return max(spend_fee + 1, self.change_dust_threshold)


@dataclass(frozen=True, slots=True)
class SelectionResult:
    """The coins one algorithm chose for `target` (payments plus non-input fees)."""

    algorithm: SelectionAlgorithm
    target: int
    groups: tuple[OutputGroup, ...]

    @property
    def selected_value(self) -> int:
        return sum(g.value for g in self.groups)

    @property
    def selected_effective_value(self) -> int:
        return sum(g.effective_value for g in self.groups)

    @property
    def weight(self) -> int:
        return sum(g.weight for g in self.groups)

    def change(self, min_viable_change: int, change_fee: int) -> int:
        """Core's GetChange: what is left after fees, or 0 when it is not worth an output."""
        change = self.selected_effective_value - self.target - change_fee
        return change if change >= min_viable_change else 0

    def waste(self, min_viable_change: int, change_cost: int, change_fee: int) -> int:
        """Core's RecalculateWaste: what spending now costs over spending at the long-term
        rate, plus the cost of change when there is change, or else the excess given away."""
        waste = sum(g.fee - g.long_term_fee for g in self.groups)
        if self.change(min_viable_change, change_fee):
            return waste + change_cost
        return waste + self.selected_effective_value - self.target


def _descending(groups: Sequence[OutputGroup]) -> list[OutputGroup]:
    """Core's `descending`: larger effective value first, then the cheaper to spend."""
    return sorted(groups, key=lambda g: (-g.effective_value, g.fee))


def select_coins_bnb(
    groups: Sequence[OutputGroup], target: int, cost_of_change: int, max_weight: int = 400_000
) -> SelectionResult | None:
    """Core's SelectCoinsBnB: a changeless selection in [target, target + cost_of_change] of
    least waste, or None when the search finds none within `BNB_TOTAL_TRIES` steps."""
    pool = _descending(groups)
    if any(g.effective_value <= 0 for g in pool):
        raise WalletMisuse("branch and bound takes only coins of positive effective value")
    found = _bnb_search(pool, target, cost_of_change, max_weight)
    if found is None:
        return None
    return SelectionResult(SelectionAlgorithm.BNB, target, tuple(pool[i] for i in found))


def _bnb_search(
    pool: list[OutputGroup], target: int, cost_of_change: int, max_weight: int
) -> list[int] | None:
    available = sum(g.effective_value for g in pool)
    if available < target or not pool:
        return None
    value = waste = weight = 0
    selection: list[int] = []
    best: list[int] | None = None
    best_waste = MAX_MONEY  # any real waste is smaller
    feerate_high = pool[0].fee > pool[0].long_term_fee
    index = 0
    for _ in range(BNB_TOTAL_TRIES):
        backtrack = False
        if (
            value + available < target
            or value > target + cost_of_change
            or (waste > best_waste and feerate_high)
            or weight > max_weight
        ):
            backtrack = True
        elif value >= target:
            if waste + value - target <= best_waste:
                best, best_waste = list(selection), waste + value - target
            backtrack = True
        if backtrack:
            if not selection:
                break
            index -= 1
            while index > selection[-1]:  # put the skipped coins back in the lookahead
                available += pool[index].effective_value
                index -= 1
            last = pool[selection.pop()]  # the last included coin: now try without it
            value -= last.effective_value
            waste -= last.fee - last.long_term_fee
            weight -= last.weight
        else:
            group = pool[index]
            available -= group.effective_value
            if (
                not selection
                or index - 1 == selection[-1]
                or group.effective_value != pool[index - 1].effective_value
                or group.fee != pool[index - 1].fee
            ):  # skip a coin equal to one just excluded: the same branch again
                selection.append(index)
                value += group.effective_value
                waste += group.fee - group.long_term_fee
                weight += group.weight
        index += 1
    return best


def generate_change_target(payment_value: int, change_fee: int, rng: Rng) -> int:
    """Core's GenerateChangeTarget: a random change amount so change does not give away which
    output is the payment."""
    if payment_value <= CHANGE_LOWER:
        return CHANGE_LOWER + change_fee
    upper = min(2 * payment_value, CHANGE_UPPER)
    return rng.randrange(upper - CHANGE_LOWER) + CHANGE_LOWER + change_fee


def knapsack_solver(
    groups: Sequence[OutputGroup],
    target: int,
    change_target: int,
    rng: Rng,
    max_weight: int = 400_000,
) -> SelectionResult | None:
    """Core's KnapsackSolver over effective values."""
    order = list(range(len(groups)))
    rng.shuffle(order)
    applicable: list[OutputGroup] = []
    lowest_larger: OutputGroup | None = None
    for group in (groups[i] for i in order):
        amount = group.effective_value
        if amount == target:
            return SelectionResult(SelectionAlgorithm.KNAPSACK, target, (group,))
        if amount < target + change_target:
            applicable.append(group)
        elif lowest_larger is None or amount < lowest_larger.effective_value:
            lowest_larger = group
    total_lower = sum(g.effective_value for g in applicable)
    if total_lower == target:
        return SelectionResult(SelectionAlgorithm.KNAPSACK, target, tuple(applicable))
    if total_lower < target:
        if lowest_larger is None:
            return None
        return SelectionResult(SelectionAlgorithm.KNAPSACK, target, (lowest_larger,))
    applicable = _descending(applicable)
    amounts = [(g.effective_value, g.weight) for g in applicable]
    chosen, best = approximate_best_subset(rng, amounts, total_lower, target, max_weight)
    if best != target and total_lower >= target + change_target:
        aim = target + change_target
        chosen, best = approximate_best_subset(rng, amounts, total_lower, aim, max_weight)
    if lowest_larger is not None and (
        (best != target and best < target + change_target) or lowest_larger.effective_value <= best
    ):
        return SelectionResult(SelectionAlgorithm.KNAPSACK, target, (lowest_larger,))
    picked = tuple(g for g, take in zip(applicable, chosen, strict=True) if take)
    return SelectionResult(SelectionAlgorithm.KNAPSACK, target, picked)


def select_coins_srd(
    groups: Sequence[OutputGroup], target: int, change_fee: int, rng: Rng, max_weight: int = 400_000
) -> SelectionResult | None:
    """Core's SelectCoinsSRD: coins in random order until target + CHANGE_LOWER + change fee
    is reached; past `max_weight` the smallest coins are dropped again."""
    aim = target + CHANGE_LOWER + change_fee
    order = list(range(len(groups)))
    rng.shuffle(order)
    chosen: list[OutputGroup] = []
    value = weight = 0
    for group in (groups[i] for i in order):
        chosen.append(group)
        value += group.effective_value
        weight += group.weight
        while chosen and weight > max_weight:
            smallest = min(chosen, key=lambda g: (g.effective_value, g.fee))
            chosen.remove(smallest)
            value -= smallest.effective_value
            weight -= smallest.weight
        if value >= aim:
            return SelectionResult(SelectionAlgorithm.SRD, target, tuple(chosen))
    return None


def choose_selection(
    groups: Sequence[OutputGroup],
    target: int,
    params: CoinSelectionParams,
    rng: Rng,
    payment_value: int,
) -> SelectionResult:
    """Core's ChooseSelectionResult: run every algorithm, keep the least waste (a tie goes to
    the selection spending more inputs). Raises InsufficientFunds when none succeeds."""
    positive = [g for g in groups if g.effective_value > 0]
    available = sum(g.effective_value for g in positive)
    if available < target:
        raise InsufficientFunds(target, available)
    change_target = generate_change_target(payment_value, params.change_fee, rng)
    weight = params.max_selection_weight
    results = [
        select_coins_bnb(positive, target, params.cost_of_change, weight),
        knapsack_solver(positive, target, change_target, rng, weight),
        select_coins_srd(positive, target, params.change_fee, rng, weight),
    ]
    found = [r for r in results if r is not None]
    if not found:
        raise InsufficientFunds(target, available)
    mvc, cost, fee = params.min_viable_change, params.cost_of_change, params.change_fee
    return min(found, key=lambda r: (r.waste(mvc, cost, fee), -len(r.groups)))
