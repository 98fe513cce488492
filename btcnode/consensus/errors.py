"""Errors of the Bitcoin consensus library and the node built on it.

`ChainError` is the base. `ChainMisuse` is a caller's mistake (a bad argument, an unknown
block hash passed to an API). Everything a peer or a user can cause with bad data is a
`ValidationError`: it carries Core's reject reason (`bad-txns-vin-empty`, `high-hash`,
`txn-mempool-conflict`, ...), a category saying how bad it was (`TxResult` / `BlockResult`,
Core's TxValidationResult / BlockValidationResult), and a debug string with the evidence.
"""

from __future__ import annotations

import enum


class ChainError(Exception):
    """Base of every error raised by `btcnode`."""


class ChainMisuse(ChainError):
    """The caller used an API wrongly; fixing the call fixes it."""


class TxResult(enum.Enum):
    """Why a transaction was refused (Core's TxValidationResult)."""

    CONSENSUS = "consensus"  # invalid under consensus rules
    RECENT_CONSENSUS_CHANGE = "recent-consensus-change"
    INPUTS_NOT_STANDARD = "inputs-not-standard"
    NOT_STANDARD = "not-standard"  # policy
    MISSING_INPUTS = "missing-inputs"  # may become valid once parents arrive
    PREMATURE_SPEND = "premature-spend"  # immature coinbase, non-final, sequence locks
    WITNESS_MUTATED = "witness-mutated"
    WITNESS_STRIPPED = "witness-stripped"
    CONFLICT = "conflict"  # spends an output a mempool or chain transaction spends
    MEMPOOL_POLICY = "mempool-policy"  # fee, limits, full mempool
    NO_MEMPOOL = "no-mempool"


class BlockResult(enum.Enum):
    """Why a block or header was refused (Core's BlockValidationResult)."""

    CONSENSUS = "consensus"
    CACHED_INVALID = "cached-invalid"
    INVALID_HEADER = "invalid-header"  # bad proof of work or header fields
    MUTATED = "mutated"  # the header is fine but the body does not match it
    MISSING_PREV = "missing-prev"
    INVALID_PREV = "invalid-prev"  # descends from a block known invalid
    TIME_FUTURE = "time-future"  # too far in the future; may become valid later
    HEADER_LOW_WORK = "header-low-work"


class ValidationError(ChainError):
    """Bad data from outside: a transaction, block or serialization that Core would refuse.

    `reject_reason` is Core's string, `debug` the evidence (which input, which values).
    """

    def __init__(
        self,
        reject_reason: str,
        debug: str = "",
        *,
        result: TxResult | BlockResult = TxResult.CONSENSUS,
    ) -> None:
        message = reject_reason if not debug else f"{reject_reason} ({debug})"
        super().__init__(message)
        self.reject_reason = reject_reason
        self.debug = debug
        self.result = result


class SerializationError(ValidationError):
    """Bytes that do not decode: truncated, oversize, trailing, non-canonical."""

    def __init__(self, debug: str) -> None:
        super().__init__("decode-failed", debug, result=TxResult.CONSENSUS)


class TxValidationError(ValidationError):
    """A transaction broke a consensus or policy rule."""

    def __init__(
        self, reject_reason: str, debug: str = "", *, result: TxResult = TxResult.CONSENSUS
    ) -> None:
        super().__init__(reject_reason, debug, result=result)


class BlockValidationError(ValidationError):
    """A block or header broke a consensus rule."""

    def __init__(
        self, reject_reason: str, debug: str = "", *, result: BlockResult = BlockResult.CONSENSUS
    ) -> None:
        super().__init__(reject_reason, debug, result=result)
