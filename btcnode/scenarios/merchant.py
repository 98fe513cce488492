"""The merchant's view of a payment: confirmed, waiting, conflicted or unknown.

`payment_status` reads the active chain's blocks (from a height at or below the one that
could hold the payment) and the mempool, as a wallet does: the payment's block depth, or
the transaction that spent one of its inputs instead (Core's wallet reports such a payment
with negative confirmations, the conflicting transaction's depth). Pure: the blocks are
passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from btcnode.consensus.block import Block
from btcnode.consensus.tx import Tx
from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.scenarios.keys import short_hex, txid_hex

__all__ = ["PaymentState", "PaymentStatus", "payment_status"]


class PaymentState(enum.Enum):
    CONFIRMED = "confirmed"  # in a block of the active chain
    IN_MEMPOOL = "in-mempool"  # accepted, waiting for a block
    CONFLICTED = "conflicted"  # an input is spent by another transaction in the chain
    UNKNOWN = "unknown"  # neither in the chain nor in the mempool, and nothing conflicts


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    """`depth` is the confirmations of the payment (CONFIRMED) or of the transaction that
    conflicts with it (CONFLICTED), else 0; `height` is that block's height, else -1."""

    txid: str
    state: PaymentState
    depth: int = 0
    height: int = -1
    conflict_txid: str = ""

    def __post_init__(self) -> None:
        in_block = self.state in (PaymentState.CONFIRMED, PaymentState.CONFLICTED)
        if in_block != (self.depth > 0 and self.height >= 0):
            raise ScenarioMisuse(f"{self.state.value} payment with depth {self.depth}")
        if (self.state is PaymentState.CONFLICTED) != bool(self.conflict_txid):
            raise ScenarioMisuse(f"{self.state.value} payment with conflict {self.conflict_txid!r}")

    @property
    def confirmations(self) -> int:
        """As Core's wallet reports them: negative for a conflicted payment."""
        if self.state is PaymentState.CONFIRMED:
            return self.depth
        return -self.depth if self.state is PaymentState.CONFLICTED else 0

    def describe(self) -> str:
        shown = f"payment {short_hex(self.txid)}"
        if self.state is PaymentState.CONFIRMED:
            plural = "" if self.depth == 1 else "s"
            return f"{shown}: {self.depth} confirmation{plural} (block {self.height})"
        if self.state is PaymentState.CONFLICTED:
            return (
                f"{shown}: not in the chain; conflicted by {short_hex(self.conflict_txid)} "
                f"(block {self.height}, {self.confirmations} confirmations)"
            )
        if self.state is PaymentState.IN_MEMPOOL:
            return f"{shown}: in the mempool, 0 confirmations"
        return f"{shown}: unknown to the node"


def payment_status(
    payment: Tx,
    blocks: Sequence[tuple[int, Block]],
    tip_height: int,
    mempool: Collection[str],
) -> PaymentStatus:
    """The payment's status given the active chain's `(height, block)` pairs up to
    `tip_height` (those that could hold it or a conflict) and the mempool's txids."""
    txid = txid_hex(payment)
    spends = {txin.prevout for txin in payment.vin}
    for height, block in blocks:
        if height > tip_height:
            raise ScenarioMisuse(f"block at height {height} is above the tip {tip_height}")
        for tx in block.txs:
            if tx.txid == payment.txid:
                return PaymentStatus(txid, PaymentState.CONFIRMED, tip_height - height + 1, height)
            if any(txin.prevout in spends for txin in tx.vin):
                depth = tip_height - height + 1
                return PaymentStatus(
                    txid, PaymentState.CONFLICTED, depth, height, conflict_txid=txid_hex(tx)
                )
    if txid in mempool:
        return PaymentStatus(txid, PaymentState.IN_MEMPOOL)
    return PaymentStatus(txid, PaymentState.UNKNOWN)
