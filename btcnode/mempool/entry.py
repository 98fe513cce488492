"""One mempool transaction with what the pool knows about it (Core's CTxMemPoolEntry).

Entries are frozen: the pool replaces an entry when its links or aggregates change. The
aggregates follow Core's definitions: the ancestor figures count the entry and every
in-mempool ancestor, the descendant figures the entry and every in-mempool descendant, each
transaction once however many paths lead to it. `vsize` is Core's GetTxSize: the virtual
size with signature operations priced at `bytes_per_sigop` vbytes each.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.mempool.feerate import FeeRate

MAX_BIP125_RBF_SEQUENCE = 0xFFFFFFFD  # BIP125: an input at or below this signals


def signals_opt_in(tx: Tx) -> bool:
    """BIP125: the transaction itself signals replaceability (Core's SignalsOptInRBF)."""
    return any(txin.sequence <= MAX_BIP125_RBF_SEQUENCE for txin in tx.vin)


@dataclass(frozen=True, slots=True)
class MempoolEntry:
    tx: Tx
    fee: int  # satoshis: inputs minus outputs
    vsize: int  # sigop-adjusted virtual size (Core's GetTxSize)
    weight: int
    sigop_cost: int
    time: int  # when it entered, in the caller's clock
    height: int  # the chain tip's height when it entered
    sequence: int  # entry order; ties in every ordering break on it
    spends_coinbase: bool  # reorgs re-check coinbase maturity for these
    signals_rbf: bool  # BIP125: some input has nSequence < 0xfffffffe
    parents: frozenset[bytes]  # in-mempool txids it spends
    children: frozenset[bytes]  # in-mempool txids spending it
    ancestor_count: int
    ancestor_size: int  # vbytes
    ancestor_fees: int
    ancestor_sigop_cost: int
    descendant_count: int
    descendant_size: int  # vbytes
    descendant_fees: int

    def __post_init__(self) -> None:
        if self.vsize <= 0 or self.weight <= 0:
            raise ChainMisuse(f"entry sizes must be positive: vsize {self.vsize}")
        if self.ancestor_count < 1 or self.descendant_count < 1:
            raise ChainMisuse("ancestor and descendant counts include the entry itself")
        if self.ancestor_size < self.vsize or self.descendant_size < self.vsize:
            raise ChainMisuse("ancestor and descendant sizes include the entry itself")

    @classmethod
    def alone(
        cls,
        tx: Tx,
        *,
        fee: int,
        vsize: int,
        sigop_cost: int,
        time: int,
        height: int,
        sequence: int,
        spends_coinbase: bool,
    ) -> MempoolEntry:
        """A new entry, not yet linked: its aggregates are its own figures."""
        return cls(
            tx=tx,
            fee=fee,
            vsize=vsize,
            weight=tx.weight,
            sigop_cost=sigop_cost,
            time=time,
            height=height,
            sequence=sequence,
            spends_coinbase=spends_coinbase,
            signals_rbf=signals_opt_in(tx),
            parents=frozenset(),
            children=frozenset(),
            ancestor_count=1,
            ancestor_size=vsize,
            ancestor_fees=fee,
            ancestor_sigop_cost=sigop_cost,
            descendant_count=1,
            descendant_size=vsize,
            descendant_fees=fee,
        )

    @property
    def txid(self) -> bytes:
        return self.tx.txid

    @property
    def wtxid(self) -> bytes:
        return self.tx.wtxid

    @property
    def usage(self) -> int:
        """What the entry counts against `max_size_bytes`: its serialized size."""
        return self.tx.total_size

    @property
    def fee_rate(self) -> FeeRate:
        return FeeRate.of(self.fee, self.vsize)

    @property
    def descendant_fee_rate(self) -> FeeRate:
        return FeeRate.of(self.descendant_fees, self.descendant_size)

    def __str__(self) -> str:
        return f"MempoolEntry({hash256_hex(self.txid)}, fee={self.fee}, vsize={self.vsize})"
