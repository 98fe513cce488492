"""The mempool's transaction graph: entries linked by spends, with cached aggregates.

Invariants, after every public method returns:
- an entry's `parents` are exactly the in-mempool transactions it spends, and `children`
  exactly the in-mempool transactions spending it (during a reorg a re-added transaction's
  existing children are linked by `link_children`, as Core's UpdateTransactionsFromBlock);
- every aggregate equals the sum over the entry and its ancestor (descendant) set, each
  member counted once;
- `spender_of(outpoint)` is the one mempool transaction spending it: the pool never holds
  two transactions spending the same output.

Every walk is iterative and every ordering is by (sequence, txid), so results never depend
on set iteration order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from btcnode.consensus.errors import ChainMisuse, TxResult, TxValidationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.mempool.entry import MempoolEntry
from btcnode.mempool.policy import Limits

_AncDelta = list[int]  # count, size, fees, sigop cost
_DescDelta = list[int]  # count, size, fees


def too_long(debug: str) -> TxValidationError:
    return TxValidationError("too-long-mempool-chain", debug, result=TxResult.MEMPOOL_POLICY)


class TxGraph:
    """Entries by txid, the wtxid index and the spent-outpoint index (Core's mapNextTx)."""

    def __init__(self) -> None:
        self._entries: dict[bytes, MempoolEntry] = {}
        self._by_wtxid: dict[bytes, bytes] = {}
        self._spenders: dict[OutPoint, bytes] = {}
        self.total_usage = 0
        self.total_vsize = 0
        self.total_fees = 0

    # -- queries ----------------------------------------------------------------------------

    def __contains__(self, txid: object) -> bool:
        return txid in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[MempoolEntry]:
        return iter(self._entries.values())

    def get(self, txid: bytes) -> MempoolEntry | None:
        return self._entries.get(txid)

    def entry(self, txid: bytes) -> MempoolEntry:
        found = self._entries.get(txid)
        if found is None:
            raise ChainMisuse(f"transaction {hash256_hex(txid)} is not in the mempool")
        return found

    def has_wtxid(self, wtxid: bytes) -> bool:
        return wtxid in self._by_wtxid

    def spender_of(self, outpoint: OutPoint) -> bytes | None:
        return self._spenders.get(outpoint)

    def order(self, txids: Iterable[bytes]) -> list[bytes]:
        """`txids` by entry order, the order every result lists transactions in."""
        return sorted(txids, key=lambda t: (self._entries[t].sequence, t))

    def ancestors(self, txid: bytes) -> set[bytes]:
        """Every in-mempool ancestor of `txid`, without itself."""
        return self._closure(self.entry(txid).parents, "parents")

    def descendants(self, txid: bytes) -> set[bytes]:
        """Every in-mempool descendant of `txid`, without itself."""
        return self._closure(self.entry(txid).children, "children")

    def with_descendants(self, txids: Iterable[bytes]) -> set[bytes]:
        """`txids` (those in the pool) and all their descendants (Core's CalculateDescendants)."""
        start = {t for t in txids if t in self._entries}
        return start | self._closure(start, "children")

    def _closure(self, start: Iterable[bytes], link: str) -> set[bytes]:
        seen: set[bytes] = set()
        todo = list(start)
        while todo:
            txid = todo.pop()
            if txid in seen:
                continue
            seen.add(txid)
            todo.extend(getattr(self._entries[txid], link))
        return seen

    def parents_of(self, tx: Tx) -> set[bytes]:
        return {txin.prevout.txid for txin in tx.vin if txin.prevout.txid in self._entries}

    # -- limits (Core's CalculateMemPoolAncestors) ------------------------------------------

    def calculate_ancestors(self, tx: Tx, vsize: int, limits: Limits) -> set[bytes]:
        """The in-mempool ancestors `tx` would have; raises "too-long-mempool-chain"."""
        staged = self.parents_of(tx)
        if len(staged) + 1 > limits.ancestor_count:
            raise too_long(f"too many unconfirmed parents [limit: {limits.ancestor_count}]")
        ancestors: set[bytes] = set()
        total_size = vsize
        while staged:
            txid = min(staged)
            staged.remove(txid)
            ancestors.add(txid)
            stage = self._entries[txid]
            total_size += stage.vsize
            _check_stage(stage, vsize, total_size, limits)
            for parent in stage.parents:
                if parent not in ancestors:
                    staged.add(parent)
                if len(staged) + len(ancestors) + 1 > limits.ancestor_count:
                    raise too_long(
                        f"too many unconfirmed ancestors [limit: {limits.ancestor_count}]"
                    )
        return ancestors

    # -- changes ----------------------------------------------------------------------------

    def linked(self, entry: MempoolEntry, ancestors: set[bytes]) -> MempoolEntry:
        """`entry` as the pool would hold it: linked under its in-mempool parents, with the
        ancestor aggregates of `ancestors`, its ancestor set as `calculate_ancestors` found it."""
        members = [self._entries[a] for a in ancestors]
        return replace(
            entry,
            parents=frozenset(self.parents_of(entry.tx)),
            children=frozenset(),
            ancestor_count=1 + len(members),
            ancestor_size=entry.vsize + sum(m.vsize for m in members),
            ancestor_fees=entry.fee + sum(m.fee for m in members),
            ancestor_sigop_cost=entry.sigop_cost + sum(m.sigop_cost for m in members),
            descendant_count=1,
            descendant_size=entry.vsize,
            descendant_fees=entry.fee,
        )

    def add(self, entry: MempoolEntry, ancestors: set[bytes]) -> None:
        """Add an entry made by `linked` with the same `ancestors`.

        `ancestors` must still be its ancestor set: removing transactions outside it keeps
        it one, since every ancestor of a member is a member.
        """
        txid = entry.txid
        if txid in self._entries:
            raise ChainMisuse(f"{hash256_hex(txid)} is already in the mempool")
        for txin in entry.tx.vin:
            if txin.prevout in self._spenders:
                raise ChainMisuse(f"{txin.prevout} is already spent in the mempool")
        self._apply(desc={a: [1, entry.vsize, entry.fee] for a in ancestors})
        for parent in entry.parents:
            old = self._entries[parent]
            self._entries[parent] = replace(old, children=old.children | {txid})
        self._entries[txid] = entry
        self._by_wtxid[entry.wtxid] = txid
        for txin in entry.tx.vin:
            self._spenders[txin.prevout] = txid
        self.total_usage += entry.usage
        self.total_vsize += entry.vsize
        self.total_fees += entry.fee

    def link_children(self, txid: bytes) -> None:
        """Link in-mempool spenders of `txid`'s outputs that are not yet its children.

        Only a reorg creates them: a mempool transaction spent an output of a confirmed
        transaction that has now come back to the pool (Core's UpdateTransactionsFromBlock).
        """
        entry = self.entry(txid)
        kids = {
            spender
            for n in range(len(entry.tx.vout))
            if (spender := self._spenders.get(OutPoint(txid, n))) is not None
        } - entry.children
        if not kids:
            return
        upper = self.ancestors(txid) | {txid}
        lower = self.with_descendants(kids)
        anc_delta: dict[bytes, _AncDelta] = {}
        desc_delta: dict[bytes, _DescDelta] = {}
        for a in upper:
            for d in lower - self.descendants(a):
                _add_desc(desc_delta, a, self._entries[d])
        for d in lower:
            for a in upper - self.ancestors(d):
                _add_anc(anc_delta, d, self._entries[a])
        self._apply(anc=anc_delta, desc=desc_delta)
        entry = self._entries[txid]
        self._entries[txid] = replace(entry, children=entry.children | kids)
        for kid in kids:
            old = self._entries[kid]
            self._entries[kid] = replace(old, parents=old.parents | {txid})

    def remove(self, txids: Iterable[bytes]) -> list[MempoolEntry]:
        """Remove `txids` (Core's RemoveStaged), updating the aggregates of what remains.

        Descendants not in `txids` stay (their parent was confirmed); returns the removed
        entries in entry order.
        """
        stage = {t for t in txids if t in self._entries}
        anc_delta: dict[bytes, _AncDelta] = {}
        desc_delta: dict[bytes, _DescDelta] = {}
        broken: set[bytes] = set()  # entries a removal cuts off from some ancestor
        for txid in stage:
            gone = self._entries[txid]
            above = self.ancestors(txid) - stage
            below = self.descendants(txid) - stage
            if above and below:
                broken |= above | below
            for a in above:
                _add_desc(desc_delta, a, gone, sign=-1)
            for d in below:
                _add_anc(anc_delta, d, gone, sign=-1)
        self._apply(anc=anc_delta, desc=desc_delta)
        removed = [self._entries[t] for t in self.order(stage)]
        for gone in removed:
            self._unlink(gone, stage)
        # Core assumes a removed transaction never keeps both an ancestor and a descendant
        # (blocks list parents first). Should it happen, paths through it are gone and the
        # subtraction above is not enough: recount the entries around it.
        self._recount(broken)
        return removed

    def _recount(self, txids: Iterable[bytes]) -> None:
        for txid in txids:
            old = self._entries[txid]
            ups = [self._entries[a] for a in self.ancestors(txid)]
            downs = [self._entries[d] for d in self.descendants(txid)]
            self._entries[txid] = replace(
                old,
                ancestor_count=1 + len(ups),
                ancestor_size=old.vsize + sum(m.vsize for m in ups),
                ancestor_fees=old.fee + sum(m.fee for m in ups),
                ancestor_sigop_cost=old.sigop_cost + sum(m.sigop_cost for m in ups),
                descendant_count=1 + len(downs),
                descendant_size=old.vsize + sum(m.vsize for m in downs),
                descendant_fees=old.fee + sum(m.fee for m in downs),
            )

    def _unlink(self, gone: MempoolEntry, stage: set[bytes]) -> None:
        txid = gone.txid
        for parent in gone.parents - stage:
            old = self._entries[parent]
            self._entries[parent] = replace(old, children=old.children - {txid})
        for child in gone.children - stage:
            old = self._entries[child]
            self._entries[child] = replace(old, parents=old.parents - {txid})
        for txin in gone.tx.vin:
            if self._spenders.get(txin.prevout) == txid:
                del self._spenders[txin.prevout]
        del self._by_wtxid[gone.wtxid]
        del self._entries[txid]
        self.total_usage -= gone.usage
        self.total_vsize -= gone.vsize
        self.total_fees -= gone.fee

    def _apply(
        self,
        *,
        anc: dict[bytes, _AncDelta] | None = None,
        desc: dict[bytes, _DescDelta] | None = None,
    ) -> None:
        for txid, (count, size, fees, sigops) in (anc or {}).items():
            old = self._entries[txid]
            self._entries[txid] = replace(
                old,
                ancestor_count=old.ancestor_count + count,
                ancestor_size=old.ancestor_size + size,
                ancestor_fees=old.ancestor_fees + fees,
                ancestor_sigop_cost=old.ancestor_sigop_cost + sigops,
            )
        for txid, (count, size, fees) in (desc or {}).items():
            old = self._entries[txid]
            self._entries[txid] = replace(
                old,
                descendant_count=old.descendant_count + count,
                descendant_size=old.descendant_size + size,
                descendant_fees=old.descendant_fees + fees,
            )


def _check_stage(stage: MempoolEntry, vsize: int, total_size: int, limits: Limits) -> None:
    """Core's per-ancestor checks in CalculateAncestorsAndCheckLimits, in its order."""
    if stage.descendant_size + vsize > limits.descendant_size_vbytes:
        raise too_long(
            f"exceeds descendant size limit for tx {hash256_hex(stage.txid)} "
            f"[limit: {limits.descendant_size_vbytes}]"
        )
    if stage.descendant_count + 1 > limits.descendant_count:
        raise too_long(
            f"too many descendants for tx {hash256_hex(stage.txid)} "
            f"[limit: {limits.descendant_count}]"
        )
    if total_size > limits.ancestor_size_vbytes:
        raise too_long(f"exceeds ancestor size limit [limit: {limits.ancestor_size_vbytes}]")


def _add_anc(deltas: dict[bytes, _AncDelta], txid: bytes, m: MempoolEntry, sign: int = 1) -> None:
    d = deltas.setdefault(txid, [0, 0, 0, 0])
    d[0] += sign
    d[1] += sign * m.vsize
    d[2] += sign * m.fee
    d[3] += sign * m.sigop_cost


def _add_desc(deltas: dict[bytes, _DescDelta], txid: bytes, m: MempoolEntry, sign: int = 1) -> None:
    d = deltas.setdefault(txid, [0, 0, 0])
    d[0] += sign
    d[1] += sign * m.vsize
    d[2] += sign * m.fee
