"""Transactions waiting for their parents (Core's TxOrphanage), bounded and deterministic.

Orphans are keyed by txid and indexed by every outpoint they spend, so when a transaction
enters the mempool the orphans spending its outputs are found at once. The pool is bounded
by count and by total weight; when over either bound the oldest orphan (lowest entry
number) goes first, where Core picks at random. An orphan expires `expiry_seconds` after it
arrived; `expire(now)` drops those whose time has come (Core sweeps every five minutes).
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.mempool.policy import MAX_STANDARD_TX_WEIGHT


@dataclass(frozen=True, slots=True)
class Orphan:
    tx: Tx
    time: int  # when it arrived
    expires_at: int
    sequence: int  # arrival order; eviction takes the lowest first

    @property
    def weight(self) -> int:
        return self.tx.weight


class OrphanPool:
    """Orphans by txid and by spent outpoint."""

    def __init__(self, *, max_count: int, max_weight: int, expiry_seconds: int) -> None:
        if max_count < 0 or max_weight < 0 or expiry_seconds < 0:
            raise ChainMisuse("orphan pool bounds must not be negative")
        self.max_count = max_count
        self.max_weight = max_weight
        self.expiry_seconds = expiry_seconds
        self._orphans: dict[bytes, Orphan] = {}
        self._by_outpoint: dict[OutPoint, set[bytes]] = {}
        self._next_sequence = 0
        self.total_weight = 0

    def __contains__(self, txid: object) -> bool:
        return txid in self._orphans

    def __len__(self) -> int:
        return len(self._orphans)

    def get(self, txid: bytes) -> Orphan | None:
        return self._orphans.get(txid)

    def orphans(self) -> tuple[Orphan, ...]:
        """Every orphan, oldest first."""
        return tuple(sorted(self._orphans.values(), key=lambda o: o.sequence))

    def add(self, tx: Tx, now: int) -> tuple[bool, tuple[bytes, ...]]:
        """Keep `tx` until its parents arrive: (kept, txids evicted to make room).

        A transaction heavier than a standard transaction is not kept (Core's "ignoring
        large orphan tx"); neither is one already here.
        """
        txid = tx.txid
        if txid in self._orphans or tx.weight > MAX_STANDARD_TX_WEIGHT:
            return False, ()
        if tx.weight > self.max_weight or self.max_count == 0:
            return False, ()
        orphan = Orphan(tx, now, now + self.expiry_seconds, self._next_sequence)
        self._next_sequence += 1
        self._orphans[txid] = orphan
        for txin in tx.vin:
            self._by_outpoint.setdefault(txin.prevout, set()).add(txid)
        self.total_weight += orphan.weight
        evicted = self._limit()
        return txid not in evicted, tuple(evicted)

    def _limit(self) -> list[bytes]:
        evicted = []
        while len(self._orphans) > self.max_count or self.total_weight > self.max_weight:
            oldest = min(self._orphans.values(), key=lambda o: o.sequence)
            self.remove(oldest.tx.txid)
            evicted.append(oldest.tx.txid)
        return evicted

    def remove(self, txid: bytes) -> Orphan | None:
        orphan = self._orphans.pop(txid, None)
        if orphan is None:
            return None
        for txin in orphan.tx.vin:
            spenders = self._by_outpoint.get(txin.prevout)
            if spenders is not None:
                spenders.discard(txid)
                if not spenders:
                    del self._by_outpoint[txin.prevout]
        self.total_weight -= orphan.weight
        return orphan

    def expire(self, now: int) -> tuple[bytes, ...]:
        """Drop orphans whose expiry time is at or before `now` (Core's LimitOrphans)."""
        due = [o.tx.txid for o in self.orphans() if o.expires_at <= now]
        for txid in due:
            self.remove(txid)
        return tuple(due)

    def spending(self, txid: bytes, n_outputs: int) -> tuple[Orphan, ...]:
        """Orphans spending any of the first `n_outputs` outputs of `txid`, oldest first."""
        found: set[bytes] = set()
        for n in range(n_outputs):
            found |= self._by_outpoint.get(OutPoint(txid, n), set())
        return tuple(sorted((self._orphans[t] for t in found), key=lambda o: o.sequence))

    def erase_for_block(self, block: Block) -> tuple[bytes, ...]:
        """Drop orphans the block confirms or double-spends (Core's EraseForBlock)."""
        doomed: set[bytes] = set()
        for tx in block.txs:
            if tx.txid in self._orphans:
                doomed.add(tx.txid)
            for txin in tx.vin:
                doomed |= self._by_outpoint.get(txin.prevout, set())
        ordered = [o.tx.txid for o in self.orphans() if o.tx.txid in doomed]
        for txid in ordered:
            self.remove(txid)
        return tuple(ordered)
