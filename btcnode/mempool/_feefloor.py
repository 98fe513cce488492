"""The mempool minimum fee: Core's rolling fee floor, size trimming and expiry.

When the pool is trimmed, the floor jumps to the fee rate of the package evicted plus the
incremental relay fee (Core's trackPackageRemoved), so nothing just as cheap comes straight
back. After the next block it decays, halving every 12 hours (faster while the pool is
less than half full) and dropping to zero under half the incremental relay fee (Core's
GetMinFee). `RollingFee` is a frozen value; each function returns the next one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from btcnode.mempool._graph import TxGraph
from btcnode.mempool.entry import MempoolEntry
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.policy import ROLLING_FEE_HALFLIFE_SECONDS

MIN_DECAY_INTERVAL_SECONDS = 10  # Core: the floor is recomputed at most every 10 seconds


@dataclass(frozen=True, slots=True)
class RollingFee:
    rate: float = 0.0  # sat/kvB; a double in Core too, rounded when used
    last_update: int = 0
    block_since_bump: bool = False


def _llround(value: float) -> int:
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def min_fee(
    state: RollingFee, now: int, usage: int, max_usage: int, incremental: FeeRate
) -> tuple[RollingFee, FeeRate]:
    """The floor at `now` and the state to keep (Core's GetMinFee)."""
    if not state.block_since_bump or state.rate == 0:
        return state, FeeRate(_llround(state.rate))
    if now > state.last_update + MIN_DECAY_INTERVAL_SECONDS:
        halflife = float(ROLLING_FEE_HALFLIFE_SECONDS)
        if usage < max_usage // 4:
            halflife /= 4
        elif usage < max_usage // 2:
            halflife /= 2
        rate = state.rate / math.pow(2.0, (now - state.last_update) / halflife)
        state = replace(state, rate=rate, last_update=now)
        if rate < incremental.sat_per_kvb / 2:
            return replace(state, rate=0.0), FeeRate(0)
    return state, max(FeeRate(_llround(state.rate)), incremental)


def bumped(state: RollingFee, removed: FeeRate) -> RollingFee:
    """The floor after evicting a package at `removed` (Core's trackPackageRemoved)."""
    if removed.sat_per_kvb > state.rate:
        return replace(state, rate=float(removed.sat_per_kvb), block_since_bump=False)
    return state


def after_block(state: RollingFee, now: int) -> RollingFee:
    """A block arrived: the floor may start decaying from `now`."""
    return replace(state, last_update=now, block_since_bump=True)


def _eviction_key(entry: MempoolEntry) -> tuple[Fraction, int, int, bytes]:
    """Core's descendant score: the better of the entry's own and its package's fee rate;
    among equals the newest goes first, then the highest entry number, then the txid."""
    score = max(
        Fraction(entry.fee, entry.vsize),
        Fraction(entry.descendant_fees, entry.descendant_size),
    )
    return score, -entry.time, -entry.sequence, entry.txid


def trim_to_size(
    graph: TxGraph, state: RollingFee, max_usage: int, incremental: FeeRate
) -> tuple[RollingFee, list[MempoolEntry]]:
    """Evict the worst packages until the pool fits (Core's TrimToSize)."""
    removed: list[MempoolEntry] = []
    while len(graph) and graph.total_usage > max_usage:
        worst = min(graph, key=_eviction_key)
        state = bumped(state, worst.descendant_fee_rate + incremental)
        removed.extend(graph.remove(graph.with_descendants([worst.txid])))
    return state, removed


def expire(graph: TxGraph, cutoff: int) -> list[MempoolEntry]:
    """Remove entries that arrived before `cutoff`, with their descendants (Core's Expire)."""
    old = [entry.txid for entry in graph if entry.time < cutoff]
    return graph.remove(graph.with_descendants(old)) if old else []
