"""Typed errors for a witness's refusals (C2SP tlog-witness §add-checkpoint), client side.

Every refusal is an `InputError` whose `http_status` is the witness's answer: the checkpoint or
proof we sent was not acceptable. `OldSizeConflict` carries the size the witness holds, so a
log can build a proof from there and retry.
"""

from __future__ import annotations

from ctlog.errors import InputError


class WitnessRejected(InputError):
    """The witness answered 4xx; `http_status` says which, the message says why."""

    def __init__(self, message: str, *, http_status: int) -> None:
        super().__init__(message, http_status=http_status)


class OldSizeConflict(WitnessRejected):
    """409: the old size was not the witness's. `witness_size` is the size it holds, or None
    when the conflict is another root hash at the same size (a possible split view)."""

    def __init__(self, message: str, *, witness_size: int | None) -> None:
        super().__init__(message, http_status=409)
        self.witness_size = witness_size


class ProofRejected(WitnessRejected):
    """422: the consistency proof did not verify."""

    def __init__(self, message: str) -> None:
        super().__init__(message, http_status=422)


class SignatureRejected(WitnessRejected):
    """403: no signature by a log key the witness trusts verified."""

    def __init__(self, message: str) -> None:
        super().__init__(message, http_status=403)


class UnknownLog(WitnessRejected):
    """404: the witness does not witness this checkpoint's origin."""

    def __init__(self, message: str) -> None:
        super().__init__(message, http_status=404)


__all__ = [
    "OldSizeConflict",
    "ProofRejected",
    "SignatureRejected",
    "UnknownLog",
    "WitnessRejected",
]
