"""Choosing a block's transactions by ancestor fee rate (Core's BlockAssembler::addPackageTxs).

A *package* is a mempool transaction together with its in-mempool ancestors that are not in
the block yet. Packages are taken best first by *ancestor score*: the lower of the
transaction's own fee rate and its package's fee rate (Core's CompareTxMemPoolEntryByAncestorFee,
ties broken by the smaller txid). When a package goes in, every in-mempool descendant of its
transactions gets a *modified* entry with the included ancestors' size, fees and sigop cost
taken off, so a child whose parents are already in the block competes on what it adds.

Limits are checked with the package's virtual size times four, as Core does (`TestPackage`),
against a budget that starts with the coinbase's reservation (`COINBASE_RESERVED_WEIGHT`,
`COINBASE_RESERVED_SIGOPS_COST`). The first package below the minimum fee rate ends the
search: everything after it scores lower. Pure: no clock, no I/O; the caller passes the
height and the lock-time cutoff (the tip's median time past, BIP113).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Protocol

from btcnode.consensus.block import MAX_BLOCK_WEIGHT
from btcnode.consensus.checks import MAX_BLOCK_SIGOPS_COST
from btcnode.consensus.contextual import is_final_tx
from btcnode.consensus.tx import WITNESS_SCALE_FACTOR, Tx
from btcnode.mempool.feerate import FeeRate

COINBASE_RESERVED_WEIGHT = 4000  # Core's resetBlock: room kept for the coinbase transaction
COINBASE_RESERVED_SIGOPS_COST = 400  # Core's resetBlock: sigop cost kept for the coinbase
DEFAULT_BLOCK_MAX_WEIGHT = MAX_BLOCK_WEIGHT - 4000  # Core's policy.h default -blockmaxweight
DEFAULT_BLOCK_MIN_TX_FEE = 1  # sat per 1000 vbytes: Core 29.1+ -blockmintxfee (PR #33106)
MAX_CONSECUTIVE_FAILURES = 1000  # Core: stop trying once the block is nearly full


class PoolEntry(Protocol):
    """What selection reads of one mempool entry (sizes are Core's sigop-adjusted vsize)."""

    @property
    def tx(self) -> Tx: ...
    @property
    def fee(self) -> int: ...
    @property
    def vsize(self) -> int: ...
    @property
    def weight(self) -> int: ...
    @property
    def sigop_cost(self) -> int: ...
    @property
    def children(self) -> Set[bytes]: ...
    @property
    def ancestor_count(self) -> int: ...
    @property
    def ancestor_size(self) -> int: ...
    @property
    def ancestor_fees(self) -> int: ...
    @property
    def ancestor_sigop_cost(self) -> int: ...


class PoolView(Protocol):
    """The mempool as selection sees it: its entries and each one's in-mempool ancestors."""

    def entries(self) -> Iterable[PoolEntry]: ...

    def ancestors(self, txid: bytes) -> Set[bytes]:
        """Txids of every in-mempool ancestor of `txid`, not including itself."""
        ...


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen transactions in block order, with what the template reports of each.

    `block_weight` and `block_sigop_cost` include the coinbase reservation, as Core's
    counters do.
    """

    txs: tuple[Tx, ...]
    fees: tuple[int, ...]
    sigop_costs: tuple[int, ...]
    block_weight: int
    block_sigop_cost: int
    packages_selected: int
    descendants_updated: int

    @property
    def total_fees(self) -> int:
        return sum(self.fees)


class _Score:
    """An ancestor score; `a < b` means a is taken first (a higher rate, then a lower txid)."""

    __slots__ = ("fee", "size", "txid")

    def __init__(self, fee: int, size: int, txid: bytes) -> None:
        self.fee, self.size, self.txid = fee, size, txid

    def __lt__(self, other: _Score) -> bool:
        mine, theirs = self.fee * other.size, other.fee * self.size
        if mine == theirs:
            return self.txid < other.txid
        return mine > theirs


def ancestor_score(
    txid: bytes, fee: int, vsize: int, package_fees: int, package_vsize: int
) -> _Score:
    """min(own fee rate, package fee rate) as Core's GetModFeeAndSize picks it."""
    if package_fees * vsize > fee * package_vsize:
        return _Score(fee, vsize, txid)
    return _Score(package_fees, package_vsize, txid)


@dataclass(slots=True)
class _Modified:
    """A package whose ancestors are partly in the block (Core's CTxMemPoolModifiedEntry)."""

    vsize: int
    fees: int
    sigop_cost: int
    version: int


class _Assembler:
    """One run of addPackageTxs over a snapshot of the mempool's entries."""

    def __init__(
        self, pool: PoolView, max_weight: int, min_fee_rate: int, height: int, cutoff: int
    ) -> None:
        self.pool = pool
        self.entries = {entry.tx.txid: entry for entry in pool.entries()}
        self.max_weight = max_weight
        self.min_fee_rate = FeeRate(min_fee_rate)
        self.height, self.cutoff = height, cutoff
        self.block_weight = COINBASE_RESERVED_WEIGHT
        self.block_sigop_cost = COINBASE_RESERVED_SIGOPS_COST
        self.in_block: set[bytes] = set()
        self.chosen: list[bytes] = []
        self.modified: dict[bytes, _Modified] = {}
        self.heap: list[tuple[_Score, int]] = []
        self.failed: set[bytes] = set()
        self.packages_selected = 0
        self.descendants_updated = 0
        self.version = 0

    # -- the modified set: a heap with lazy deletion ------------------------------------------

    def _push_modified(self, txid: bytes, mod: _Modified) -> None:
        self.version += 1
        mod.version = self.version
        entry = self.entries[txid]
        score = ancestor_score(txid, entry.fee, entry.vsize, mod.fees, mod.vsize)
        heapq.heappush(self.heap, (score, self.version))

    def _best_modified(self) -> tuple[_Score, _Modified] | None:
        while self.heap:
            score, version = self.heap[0]
            mod = self.modified.get(score.txid)
            if mod is not None and mod.version == version:
                return score, mod
            heapq.heappop(self.heap)
        return None

    def _drop_modified(self, txid: bytes) -> None:
        self.modified.pop(txid, None)

    # -- Core's helpers --------------------------------------------------------------------

    def fits(self, package_vsize: int, package_sigop_cost: int) -> bool:
        """Core's TestPackage (vsize-based, strict inequalities)."""
        if self.block_weight + WITNESS_SCALE_FACTOR * package_vsize >= self.max_weight:
            return False
        return self.block_sigop_cost + package_sigop_cost < MAX_BLOCK_SIGOPS_COST

    def descendants(self, txid: bytes) -> set[bytes]:
        found: set[bytes] = set()
        todo = list(self.entries[txid].children)
        while todo:
            child = todo.pop()
            if child not in found and child in self.entries:
                found.add(child)
                todo.extend(self.entries[child].children)
        return found

    def update_for_added(self, added: Set[bytes]) -> None:
        """Core's UpdatePackagesForAdded: take the added txs off their descendants' packages."""
        for txid in added:
            entry = self.entries[txid]
            for desc in self.descendants(txid):
                if desc in added:
                    continue
                self.descendants_updated += 1
                mod = self.modified.get(desc)
                if mod is None:
                    d = self.entries[desc]
                    mod = _Modified(d.ancestor_size, d.ancestor_fees, d.ancestor_sigop_cost, 0)
                    self.modified[desc] = mod
                mod.vsize -= entry.vsize
                mod.fees -= entry.fee
                mod.sigop_cost -= entry.sigop_cost
                self._push_modified(desc, mod)

    def package(self, txid: bytes) -> set[bytes]:
        """`txid` and its in-mempool ancestors not in the block yet."""
        package = {a for a in self.pool.ancestors(txid) if a not in self.in_block}
        package.add(txid)
        return package

    def add_package(self, package: set[bytes]) -> None:
        # A parent has fewer ancestors than its child, so this order is topological.
        for member in sorted(package, key=lambda t: (self.entries[t].ancestor_count, t)):
            entry = self.entries[member]
            self.chosen.append(member)
            self.in_block.add(member)
            self.block_weight += entry.weight
            self.block_sigop_cost += entry.sigop_cost
            self._drop_modified(member)
        self.packages_selected += 1
        self.update_for_added(package)

    def package_is_final(self, package: set[bytes]) -> bool:
        """Core's TestPackageTransactions: every member is final."""
        return all(is_final_tx(self.entries[t].tx, self.height, self.cutoff) for t in package)

    # -- the main loop -----------------------------------------------------------------------

    def _next(
        self, order: list[PoolEntry], scores: list[_Score], i: int
    ) -> tuple[int, bytes, bool]:
        """(next index into `order`, txid to try, whether it comes from the modified set)."""
        best = self._best_modified()
        if i >= len(order):
            assert best is not None
            return i, best[0].txid, True
        if best is not None and best[0] < scores[i]:
            return i, best[0].txid, True
        return i + 1, order[i].tx.txid, False

    def _reject(self, txid: bytes, using_modified: bool) -> None:
        """The package cannot go in: forget its modified entry so the next best is seen."""
        if using_modified:
            self._drop_modified(txid)
            self.failed.add(txid)

    def run(self) -> None:
        order = list(self.entries.values())
        keyed = [
            (ancestor_score(e.tx.txid, e.fee, e.vsize, e.ancestor_fees, e.ancestor_size), e)
            for e in order
        ]
        keyed.sort(key=lambda pair: pair[0])
        scores = [score for score, _ in keyed]
        order = [entry for _, entry in keyed]
        i, failures = 0, 0
        while i < len(order) or self._best_modified() is not None:
            if i < len(order):
                txid = order[i].tx.txid
                if txid in self.modified or txid in self.in_block or txid in self.failed:
                    i += 1
                    continue
            i, txid, using_modified = self._next(order, scores, i)
            vsize, fees, sigop_cost = self._package_totals(txid, using_modified)
            if fees < self.min_fee_rate.fee(vsize):
                return  # everything left scores lower
            if not self.fits(vsize, sigop_cost):
                self._reject(txid, using_modified)
                failures += 1
                if (
                    failures > MAX_CONSECUTIVE_FAILURES
                    and self.block_weight > self.max_weight - COINBASE_RESERVED_WEIGHT
                ):
                    return
                continue
            package = self.package(txid)
            if not self.package_is_final(package):
                self._reject(txid, using_modified)
                continue
            failures = 0
            self.add_package(package)

    def _package_totals(self, txid: bytes, using_modified: bool) -> tuple[int, int, int]:
        if using_modified:
            mod = self.modified[txid]
            return mod.vsize, mod.fees, mod.sigop_cost
        entry = self.entries[txid]
        return entry.ancestor_size, entry.ancestor_fees, entry.ancestor_sigop_cost


def clamp_max_weight(max_weight: int) -> int:
    """Core's sanity clamp of -blockmaxweight to [4000, MAX_BLOCK_WEIGHT - 4000]."""
    return max(COINBASE_RESERVED_WEIGHT, min(MAX_BLOCK_WEIGHT - 4000, max_weight))


def select_packages(
    pool: PoolView,
    *,
    height: int,
    lock_time_cutoff: int,
    max_weight: int = DEFAULT_BLOCK_MAX_WEIGHT,
    min_fee_rate: int = DEFAULT_BLOCK_MIN_TX_FEE,
) -> Selection:
    """The transactions of the next block at `height`, best ancestor score first.

    `lock_time_cutoff` is the median time past of the block's parent (BIP113);
    `min_fee_rate` is in satoshis per 1000 vbytes.
    """
    assembler = _Assembler(
        pool, clamp_max_weight(max_weight), min_fee_rate, height, lock_time_cutoff
    )
    assembler.run()
    chosen = [assembler.entries[txid] for txid in assembler.chosen]
    return Selection(
        txs=tuple(entry.tx for entry in chosen),
        fees=tuple(entry.fee for entry in chosen),
        sigop_costs=tuple(entry.sigop_cost for entry in chosen),
        block_weight=assembler.block_weight,
        block_sigop_cost=assembler.block_sigop_cost,
        packages_selected=assembler.packages_selected,
        descendants_updated=assembler.descendants_updated,
    )
