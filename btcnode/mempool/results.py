"""What the mempool answers: acceptance results and removal records.

A rejection is data, not an exception: relaying peers send invalid transactions all the
time, so `Mempool.accept` returns an `AcceptResult` whose `error` is the
`TxValidationError` with Core's reject reason, its category and the evidence. Every
transaction leaving the pool is reported as a `Removal` with Core's MemPoolRemovalReason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from btcnode.consensus.errors import ChainMisuse, TxResult, ValidationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.mempool.entry import MempoolEntry


class AcceptStatus(enum.Enum):
    ACCEPTED = "accepted"  # in the pool now (with test_only: would be)
    ORPHAN = "orphan"  # inputs missing; kept in the orphan pool until they arrive
    REJECTED = "rejected"


class RemovalReason(enum.Enum):
    """Why a transaction left the pool (Core's MemPoolRemovalReason)."""

    EXPIRY = "expiry"  # older than the expiry time
    SIZELIMIT = "sizelimit"  # evicted to fit max_size_bytes, or over limits after a reorg
    REORG = "reorg"  # invalid on the new chain (non-final, immature, parent gone)
    BLOCK = "block"  # confirmed
    CONFLICT = "conflict"  # a block spent one of its inputs
    REPLACED = "replaced"  # BIP125 replacement


@dataclass(frozen=True, slots=True)
class Removal:
    entry: MempoolEntry
    reason: RemovalReason

    @property
    def txid(self) -> bytes:
        return self.entry.txid

    def __str__(self) -> str:
        return f"Removal({hash256_hex(self.entry.txid)}, {self.reason.value})"


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """The outcome of offering one transaction, with everything it changed.

    `entry` is the transaction's entry (with test_only: as it would be) when accepted.
    `replaced` are the BIP125 originals and their descendants, `evicted` what expiry and
    trimming removed afterwards; `orphan_results` are the outcomes of orphans that this
    transaction unblocked and that were retried.
    """

    status: AcceptStatus
    txid: bytes
    wtxid: bytes
    error: ValidationError | None = None
    entry: MempoolEntry | None = None
    replaced: tuple[Removal, ...] = ()
    evicted: tuple[Removal, ...] = ()
    orphans_evicted: tuple[bytes, ...] = ()
    orphan_results: tuple[AcceptResult, ...] = ()

    def __post_init__(self) -> None:
        if (self.status is AcceptStatus.ACCEPTED) != (self.error is None):
            raise ChainMisuse("an accepted result has no error; any other has one")

    @property
    def accepted(self) -> bool:
        return self.status is AcceptStatus.ACCEPTED

    @property
    def missing_inputs(self) -> bool:
        """Refused only because an input is unknown: an orphan, or a double-spend."""
        return self.error is not None and self.error.result is TxResult.MISSING_INPUTS

    @property
    def reject_reason(self) -> str | None:
        return None if self.error is None else self.error.reject_reason

    def __str__(self) -> str:
        why = f", {self.error}" if self.error is not None else ""
        return f"AcceptResult({hash256_hex(self.txid)}, {self.status.value}{why})"


def rejected(txid: bytes, wtxid: bytes, error: ValidationError) -> AcceptResult:
    return AcceptResult(AcceptStatus.REJECTED, txid, wtxid, error=error)
