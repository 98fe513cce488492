"""The mempool: unconfirmed transactions, ready for relay and for the next block.

A synchronous, deterministic core. Time is the `now: int` each call passes in; nothing here
reads a clock, draws randomness or does I/O. The caller owns the chain: `accept` is given
a `ChainView` of the active chain, and after each chain change the caller reports it with
`remove_for_block` or `update_for_reorg`.

Invariants between calls: every entry is valid on the chain last reported, spends no
output another entry spends, and carries ancestor/descendant aggregates equal to a
recount (see `_graph`); the pool fits `policy.max_size_bytes` except transiently after a
reorg; orphans are never in the pool.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

from btcnode.consensus.block import Block
from btcnode.consensus.coins import ChainView, UtxoView
from btcnode.consensus.errors import TxResult, TxValidationError, ValidationError
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.mempool import _feefloor
from btcnode.mempool._graph import TxGraph
from btcnode.mempool._reorg import (
    ChainChange,
    invalid_on_chain,
    over_ancestor_limits,
    resurrected_txs,
)
from btcnode.mempool.accept import AcceptArgs, Workspace, run_checks
from btcnode.mempool.entry import MempoolEntry
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.orphans import OrphanPool
from btcnode.mempool.policy import MempoolPolicy
from btcnode.mempool.rbf import is_replaceable
from btcnode.mempool.results import (
    AcceptResult,
    AcceptStatus,
    Removal,
    RemovalReason,
    rejected,
)
from btcnode.mempool.view import MempoolCoinsView


@dataclass(frozen=True, slots=True)
class MempoolInfo:
    """Core's getmempoolinfo, at one instant."""

    size: int  # transactions
    bytes: int  # sum of virtual sizes
    usage: int  # what counts against max_size_bytes (serialized bytes)
    total_fee: int
    max_size_bytes: int
    min_fee: FeeRate  # the rolling floor, at least min_relay_fee
    min_relay_fee: FeeRate
    incremental_relay_fee: FeeRate
    full_rbf: bool
    orphans: int


@dataclass(frozen=True, slots=True)
class ReorgResult:
    """`resurrected`: the outcome for each transaction of a disconnected block offered
    again, in the order offered; `removed`: every entry the chain change removed."""

    resurrected: tuple[AcceptResult, ...]
    removed: tuple[Removal, ...]


class Mempool:
    """Transactions waiting for a block, with BIP125 replacement and an orphan pool."""

    def __init__(self, policy: MempoolPolicy | None = None) -> None:
        self.policy = policy if policy is not None else MempoolPolicy()
        self._graph = TxGraph()
        self._orphans = OrphanPool(
            max_count=self.policy.max_orphans,
            max_weight=self.policy.max_orphan_weight,
            expiry_seconds=self.policy.orphan_expiry_seconds,
        )
        self._rolling = _feefloor.RollingFee()
        self._next_sequence = 0

    # -- queries ----------------------------------------------------------------------------

    def __contains__(self, txid: object) -> bool:
        return txid in self._graph

    def __len__(self) -> int:
        return len(self._graph)

    def get(self, txid: bytes) -> MempoolEntry | None:
        return self._graph.get(txid)

    def entries(self) -> tuple[MempoolEntry, ...]:
        """Every entry, parents before children (by ancestor count, then entry order)."""
        return tuple(sorted(self._graph, key=lambda e: (e.ancestor_count, e.sequence, e.txid)))

    @property
    def total_vsize(self) -> int:
        return self._graph.total_vsize

    @property
    def total_fees(self) -> int:
        return self._graph.total_fees

    @property
    def usage(self) -> int:
        return self._graph.total_usage

    @property
    def orphans(self) -> OrphanPool:
        return self._orphans

    def ancestors(self, txid: bytes) -> frozenset[bytes]:
        return frozenset(self._graph.ancestors(txid))

    def descendants(self, txid: bytes) -> frozenset[bytes]:
        return frozenset(self._graph.descendants(txid))

    def spender_of(self, outpoint: OutPoint) -> bytes | None:
        """The txid of the mempool transaction spending `outpoint`, if any."""
        return self._graph.spender_of(outpoint)

    def is_replaceable(self, txid: bytes) -> bool:
        """BIP125 with inherited signalling (or anything, under full RBF)."""
        return self.policy.full_rbf or is_replaceable(self._graph, txid)

    def coins_view(self, base: UtxoView) -> MempoolCoinsView:
        """Mempool outputs layered over `base` (Core's CCoinsViewMemPool)."""
        return MempoolCoinsView(base, self._graph)

    def min_fee(self, now: int) -> FeeRate:
        """The fee rate a transaction must pay now: the rolling floor or the relay floor."""
        _, rolling = self._rolling_min_fee(now)
        return max(rolling, self.policy.min_relay_fee)

    def info(self, now: int) -> MempoolInfo:
        return MempoolInfo(
            size=len(self._graph),
            bytes=self._graph.total_vsize,
            usage=self._graph.total_usage,
            total_fee=self._graph.total_fees,
            max_size_bytes=self.policy.max_size_bytes,
            min_fee=self.min_fee(now),
            min_relay_fee=self.policy.min_relay_fee,
            incremental_relay_fee=self.policy.incremental_relay_fee,
            full_rbf=self.policy.full_rbf,
            orphans=len(self._orphans),
        )

    def _rolling_min_fee(self, now: int) -> tuple[_feefloor.RollingFee, FeeRate]:
        return _feefloor.min_fee(
            self._rolling,
            now,
            self._graph.total_usage,
            self.policy.max_size_bytes,
            self.policy.incremental_relay_fee,
        )

    # -- acceptance -------------------------------------------------------------------------

    def accept(
        self, tx: Tx, chain: ChainView, now: int, *, test_only: bool = False
    ) -> AcceptResult:
        """Offer `tx`; a transaction with missing inputs waits in the orphan pool.

        With `test_only` nothing changes (Core's testmempoolaccept): the result says
        whether it would be accepted and what it would replace.
        """
        if not test_only:
            self._orphans.expire(now)
        result = self.accept_single(tx, chain, now, bypass_limits=False, test_only=test_only)
        if test_only:
            return result
        if result.accepted:
            self._orphans.remove(tx.txid)
            return replace(result, orphan_results=self._retry_orphans(tx, chain, now))
        if result.missing_inputs:
            kept, evicted = self._orphans.add(tx, now)
            if kept or tx.txid in self._orphans:
                return replace(result, status=AcceptStatus.ORPHAN, orphans_evicted=evicted)
            return replace(result, orphans_evicted=evicted)
        return result

    def accept_single(
        self, tx: Tx, chain: ChainView, now: int, *, bypass_limits: bool, test_only: bool
    ) -> AcceptResult:
        """One transaction through every check, then into the pool (Core's
        AcceptSingleTransaction); no orphan handling."""
        min_fee = FeeRate(0)
        if not bypass_limits:
            self._rolling, min_fee = self._rolling_min_fee(now)
        args = AcceptArgs(chain, now, bypass_limits, min_fee)
        try:
            ws = run_checks(self._graph, self.policy, tx, args)
        except ValidationError as err:
            return rejected(tx.txid, tx.wtxid, err)
        entry = self._new_entry(ws, chain, now)
        if test_only:
            replaced = tuple(
                Removal(e, RemovalReason.REPLACED)
                for e in (self._graph.entry(t) for t in self._graph.order(ws.all_conflicts))
            )
            return AcceptResult(
                AcceptStatus.ACCEPTED, tx.txid, tx.wtxid, entry=entry, replaced=replaced
            )
        return self._finalize(ws, entry, now, bypass_limits)

    def _new_entry(self, ws: Workspace, chain: ChainView, now: int) -> MempoolEntry:
        entry = MempoolEntry.alone(
            ws.tx,
            fee=ws.fee,
            vsize=ws.vsize,
            sigop_cost=ws.sigop_cost,
            time=now,
            height=chain.tip_height,
            sequence=self._next_sequence,
            spends_coinbase=ws.spends_coinbase,
        )
        return self._graph.linked(entry, ws.ancestors)

    def _finalize(
        self, ws: Workspace, entry: MempoolEntry, now: int, bypass_limits: bool
    ) -> AcceptResult:
        """Evict the replaced, add the entry, keep the pool in bounds (Core's Finalize)."""
        tx = ws.tx
        replaced = self._remove(ws.all_conflicts, RemovalReason.REPLACED)
        self._next_sequence += 1
        # No ancestor was replaced: one would be a conflict or descend from one, and then a
        # conflict is an ancestor, which pre_checks refuses ("bad-txns-spends-conflicting-tx").
        # So ws.ancestors is still the entry's ancestor set and its aggregates still hold.
        self._graph.add(entry, ws.ancestors)
        evicted: tuple[Removal, ...] = ()
        if not bypass_limits:
            evicted = self.limit_size(now)
            if tx.txid not in self._graph:
                error = TxValidationError(
                    "mempool full", "evicted by its own fee rate", result=TxResult.MEMPOOL_POLICY
                )
                return replace(
                    rejected(tx.txid, tx.wtxid, error), replaced=replaced, evicted=evicted
                )
        return AcceptResult(
            AcceptStatus.ACCEPTED,
            tx.txid,
            tx.wtxid,
            entry=self._graph.entry(tx.txid),
            replaced=replaced,
            evicted=evicted,
        )

    def _retry_orphans(self, parent: Tx, chain: ChainView, now: int) -> tuple[AcceptResult, ...]:
        """Orphans unblocked by `parent`, and by those they unblock (Core's ProcessOrphanTx)."""
        results: list[AcceptResult] = []
        work = deque([parent.txid])
        while work:
            entry = self._graph.get(work.popleft())
            if entry is None:
                continue
            for orphan in self._orphans.spending(entry.txid, len(entry.tx.vout)):
                if orphan.tx.txid not in self._orphans:
                    continue
                result = self.accept_single(
                    orphan.tx, chain, now, bypass_limits=False, test_only=False
                )
                if result.missing_inputs:
                    continue  # still waiting for another parent
                self._orphans.remove(orphan.tx.txid)
                results.append(result)
                if result.accepted:
                    work.append(orphan.tx.txid)
        return tuple(results)

    # -- removal ----------------------------------------------------------------------------

    def _remove(self, txids: set[bytes], reason: RemovalReason) -> tuple[Removal, ...]:
        return tuple(Removal(entry, reason) for entry in self._graph.remove(txids))

    def _remove_with_descendants(
        self, txids: set[bytes], reason: RemovalReason
    ) -> tuple[Removal, ...]:
        return self._remove(self._graph.with_descendants(txids), reason)

    def remove_recursive(self, tx: Tx, reason: RemovalReason) -> tuple[Removal, ...]:
        """`tx` if pooled, else the pooled spenders of its outputs; with all descendants."""
        if tx.txid in self._graph:
            start = {tx.txid}
        else:
            start = {
                spender
                for n in range(len(tx.vout))
                if (spender := self._graph.spender_of(OutPoint(tx.txid, n))) is not None
            }
        return self._remove_with_descendants(start, reason)

    def limit_size(self, now: int) -> tuple[Removal, ...]:
        """Expire old entries, then trim to `max_size_bytes` (Core's LimitMempoolSize)."""
        expired = _feefloor.expire(self._graph, now - self.policy.expiry_seconds)
        self._rolling, trimmed = _feefloor.trim_to_size(
            self._graph,
            self._rolling,
            self.policy.max_size_bytes,
            self.policy.incremental_relay_fee,
        )
        return tuple(Removal(e, RemovalReason.EXPIRY) for e in expired) + tuple(
            Removal(e, RemovalReason.SIZELIMIT) for e in trimmed
        )

    def remove_for_block(self, block: Block, now: int) -> tuple[Removal, ...]:
        """A block was connected: drop what it confirms, and what conflicts with it
        (with descendants); the rolling floor may decay from `now` (Core's removeForBlock)."""
        removed: list[Removal] = []
        for tx in block.txs:
            if tx.txid in self._graph:
                removed.extend(self._remove({tx.txid}, RemovalReason.BLOCK))
            for txin in tx.vin:
                spender = self._graph.spender_of(txin.prevout)
                if spender is not None and spender != tx.txid:
                    removed.extend(self._remove_with_descendants({spender}, RemovalReason.CONFLICT))
        self._orphans.erase_for_block(block)
        self._rolling = _feefloor.after_block(self._rolling, now)
        return tuple(removed)

    # -- chain changes ----------------------------------------------------------------------

    def update_for_reorg(self, change: ChainChange, chain: ChainView, now: int) -> ReorgResult:
        """The active chain changed to `chain`: follow it (Core's ActivateBestChainStep and
        MaybeUpdateMempoolForReorg).

        Drops what the connected blocks confirm or conflict with; offers the transactions of
        the disconnected blocks again, parents first, without fee floors (`bypass_limits`),
        removing the pooled spenders of any that fail; links returning parents to their
        pooled children; then drops entries the new tip makes invalid, and trims.
        """
        removed: list[Removal] = []
        for block in change.connected:
            removed.extend(self.remove_for_block(block, now))
        if not change.disconnected:
            return ReorgResult((), tuple(removed))  # Core re-checks only after a disconnect
        results = []
        for tx in resurrected_txs(change):
            result = self.accept_single(tx, chain, now, bypass_limits=True, test_only=False)
            results.append(result)
            if not result.accepted:
                removed.extend(self.remove_recursive(tx, RemovalReason.REORG))
        readded = [r.txid for r in results if r.accepted and r.txid in self._graph]
        for txid in reversed(readded):
            if txid in self._graph:
                self._graph.link_children(txid)
        too_deep = over_ancestor_limits(self._graph, readded, self.policy.limits)
        removed.extend(self._remove_with_descendants(too_deep, RemovalReason.SIZELIMIT))
        invalid = invalid_on_chain(self._graph, chain)
        removed.extend(self._remove_with_descendants(invalid, RemovalReason.REORG))
        removed.extend(self.limit_size(now))
        return ReorgResult(tuple(results), tuple(removed))
