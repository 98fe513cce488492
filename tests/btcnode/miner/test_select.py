"""Package selection (Core's addPackageTxs) on pools with chosen fees, sizes and sigop costs.

The pool here is a plain graph whose entries carry the figures each test needs, as Core's
miner_tests build entries with TestMemPoolEntryHelper; `test_template.py` runs selection
over the real mempool and chainstate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.miner._select import (
    COINBASE_RESERVED_SIGOPS_COST,
    COINBASE_RESERVED_WEIGHT,
    MAX_CONSECUTIVE_FAILURES,
    Selection,
    select_packages,
)


@dataclass(frozen=True)
class _Entry:
    tx: Tx
    fee: int
    vsize: int
    sigop_cost: int
    parents: frozenset[bytes]
    children: frozenset[bytes] = frozenset()
    ancestor_count: int = 1
    ancestor_size: int = 0
    ancestor_fees: int = 0
    ancestor_sigop_cost: int = 0

    @property
    def weight(self) -> int:
        return 4 * self.vsize


@dataclass
class _Pool:
    """Entries with Core's ancestor aggregates, recomputed from the parent links."""

    raw: dict[bytes, _Entry] = field(default_factory=dict)
    names: dict[str, bytes] = field(default_factory=dict)

    def add(
        self,
        name: str,
        fee: int,
        vsize: int,
        *,
        parents: Iterable[str] = (),
        sigop_cost: int = 0,
        lock_time: int = 0,
    ) -> None:
        parent_ids = [self.names[p] for p in parents]
        prevouts = [OutPoint(txid, 0) for txid in parent_ids] or [
            OutPoint(hashlib.sha256(name.encode()).digest(), 0)
        ]
        sequence = 0xFFFFFFFE if lock_time else 0xFFFFFFFF
        vin = tuple(TxIn(p, b"", sequence) for p in prevouts)
        tag = b"\x6a" + bytes((len(name),)) + name.encode()  # OP_RETURN <name>: unique txids
        tx = Tx(2, vin, (TxOut(0, tag),), lock_time)
        self.names[name] = tx.txid
        self.raw[tx.txid] = _Entry(tx, fee, vsize, sigop_cost, frozenset(parent_ids))

    def entries(self) -> list[_Entry]:
        out = []
        for txid, entry in self.raw.items():
            family = self.ancestors(txid) | {txid}
            members = [self.raw[t] for t in family]
            children = frozenset(t for t, e in self.raw.items() if txid in e.parents)
            out.append(
                _Entry(
                    entry.tx,
                    entry.fee,
                    entry.vsize,
                    entry.sigop_cost,
                    entry.parents,
                    children,
                    len(family),
                    sum(m.vsize for m in members),
                    sum(m.fee for m in members),
                    sum(m.sigop_cost for m in members),
                )
            )
        return out

    def ancestors(self, txid: bytes) -> set[bytes]:
        found: set[bytes] = set()
        todo = list(self.raw[txid].parents)
        while todo:
            parent = todo.pop()
            if parent not in found:
                found.add(parent)
                todo.extend(self.raw[parent].parents)
        return found

    def order_of(self, txs: Iterable[Tx]) -> list[str]:
        by_id = {txid: name for name, txid in self.names.items()}
        return [by_id[tx.txid] for tx in txs]


def _select(pool: _Pool, **kwargs: int) -> tuple[list[str], Selection]:
    kwargs.setdefault("height", 200)
    kwargs.setdefault("lock_time_cutoff", 1_700_000_000)
    selection = select_packages(pool, **kwargs)
    return pool.order_of(selection.txs), selection


def test_cpfp_low_fee_parent_with_high_fee_child_beats_a_medium_tx() -> None:
    pool = _Pool()
    pool.add("parent", fee=200, vsize=1000)  # 0.2 sat/vB alone
    pool.add("child", fee=20_000, vsize=200, parents=["parent"])  # package 16.8 sat/vB
    pool.add("medium", fee=5_000, vsize=1000)  # 5 sat/vB
    order, selection = _select(pool)
    assert order == ["parent", "child", "medium"]
    assert selection.fees == (200, 20_000, 5_000)
    assert selection.total_fees == 25_200
    assert selection.packages_selected == 2


def test_a_child_competes_on_what_it_adds_once_its_parent_is_in() -> None:
    pool = _Pool()
    pool.add("parent", fee=1_000, vsize=1000)
    pool.add("rich", fee=30_000, vsize=1000, parents=["parent"])  # package 15.5 sat/vB
    # Alone 10 sat/vB, but 5.5 sat/vB with the parent: behind "medium" until the parent is in.
    pool.add("sibling", fee=10_000, vsize=1000, parents=["parent"])
    pool.add("medium", fee=8_000, vsize=1000)  # 8 sat/vB
    order, selection = _select(pool)
    assert order == ["parent", "rich", "sibling", "medium"]
    assert selection.descendants_updated == 1  # "sibling", once the parent went in


def test_ancestor_score_is_the_lower_of_own_and_package_rate() -> None:
    pool = _Pool()
    pool.add("poor_parent", fee=100, vsize=1000)  # 0.1 sat/vB
    pool.add("child", fee=30_000, vsize=1000, parents=["poor_parent"])  # own 30, package 15
    pool.add("other", fee=20_000, vsize=1000)  # 20 sat/vB
    order, _ = _select(pool)
    # Scored by its own rate (30) the child's package would go first; by the lower one (15)
    # it follows "other".
    assert order == ["other", "poor_parent", "child"]


def test_equal_scores_break_on_the_smaller_txid() -> None:
    pool = _Pool()
    for name in ("a", "b", "c", "d"):
        pool.add(name, fee=1_000, vsize=500)
    order, _ = _select(pool)
    assert [pool.names[n] for n in order] == sorted(pool.names.values())


def test_weight_limit_counts_four_times_vsize_from_the_coinbase_reserve() -> None:
    pool = _Pool()
    for i in range(12):
        pool.add(f"big{i:02}", fee=100_000 - i, vsize=100_000)
    order, selection = _select(pool)
    # 4,000 + 9 * 400,000 = 3,604,000 < 3,996,000; a tenth would reach 4,004,000.
    assert order == [f"big{i:02}" for i in range(9)]
    assert selection.block_weight == COINBASE_RESERVED_WEIGHT + 9 * 400_000


def test_weight_limit_is_strict() -> None:
    pool = _Pool()
    pool.add("exact", fee=10_000, vsize=1000)  # 4,000 + 4,000 reaches the 8,000 limit
    pool.add("under", fee=9_000, vsize=999)
    order, _ = _select(pool, max_weight=8000)
    assert order == ["under"]


def test_sigop_limit_from_the_coinbase_reserve() -> None:
    pool = _Pool()
    for i in range(5):
        pool.add(f"sig{i}", fee=50_000 - i, vsize=1000, sigop_cost=20_000)
    pool.add("exact", fee=1_000, vsize=1000, sigop_cost=79_600)  # 400 + 79,600 = 80,000
    order, selection = _select(pool)
    assert order == ["sig0", "sig1", "sig2"]  # a fourth would reach 80,400
    assert selection.block_sigop_cost == COINBASE_RESERVED_SIGOPS_COST + 60_000
    lone = _Pool()
    lone.add("exact", fee=1_000, vsize=1000, sigop_cost=79_600)
    lone.add("under", fee=900, vsize=1000, sigop_cost=79_599)
    assert _select(lone)[0] == ["under"]


def test_a_package_that_fails_does_not_block_smaller_ones() -> None:
    pool = _Pool()
    pool.add("parent", fee=100, vsize=500)
    pool.add("child", fee=50_000, vsize=500, parents=["parent"])
    pool.add("small", fee=1_000, vsize=100)
    order, _ = _select(pool, max_weight=4000 + 4 * 600)
    # The 1,000-vbyte package does not fit, the small one does; then the parent alone
    # (4,400 + 2,000) reaches the limit.
    assert order == ["small"]


def test_selection_stops_below_the_minimum_fee_rate() -> None:
    pool = _Pool()
    pool.add("paying", fee=2_000, vsize=1000)  # 2,000 sat/kvB
    pool.add("cheap", fee=999, vsize=1000)  # just under 1,000 sat/kvB
    order, _ = _select(pool, min_fee_rate=1000)
    assert order == ["paying"]


def test_non_final_packages_are_skipped() -> None:
    pool = _Pool()
    pool.add("later", fee=50_000, vsize=1000, lock_time=201)  # final from height 202
    pool.add("now", fee=1_000, vsize=1000, lock_time=199)
    pool.add("child_of_later", fee=90_000, vsize=100, parents=["later"])
    order, _ = _select(pool, height=200)
    assert order == ["now"]
    order, _ = _select(pool, height=202)
    assert order == ["later", "child_of_later", "now"]


def test_gives_up_after_many_failures_when_nearly_full() -> None:
    pool = _Pool()
    pool.add("filler", fee=1_000_000, vsize=1501)  # 4,000 + 6,004 > 14,000 - 4,000
    for i in range(MAX_CONSECUTIVE_FAILURES + 1):
        pool.add(f"too_big{i}", fee=100_000 - i, vsize=2000)
    pool.add("tiny", fee=10, vsize=10)  # would fit, but comes after 1,001 failures
    order, selection = _select(pool, max_weight=14_000)
    assert order == ["filler"]
    assert selection.block_weight == 10_004
    pool.raw.pop(pool.names["too_big0"])  # one failure fewer: the search reaches "tiny"
    order, _ = _select(pool, max_weight=14_000)
    assert order == ["filler", "tiny"]


def test_an_empty_pool_selects_nothing() -> None:
    order, selection = _select(_Pool())
    assert order == [] and selection.total_fees == 0
    assert selection.block_weight == COINBASE_RESERVED_WEIGHT
