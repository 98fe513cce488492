"""The errors of `ctlog`, split by whose fault they are (STYLE §4).

`UsageError`: the caller misused an API or a command. `InputError`: a client, peer or file
handed us malformed or unacceptable data; it carries the HTTP status to answer with.
`VerificationError`: something that claims to be signed or proven is not; it carries the
evidence (expected vs calculated values) so a report or an evidence bundle can show it.
"""

from __future__ import annotations

from collections.abc import Mapping


class CtlogError(Exception):
    """Base of every error raised by `ctlog`."""


class UsageError(CtlogError):
    """The caller used an API or command wrongly; fixing the call fixes it."""


class InputError(CtlogError):
    """Malformed, oversize or unacceptable input from outside (HTTP body, file, peer)."""

    http_status: int = 400

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        if http_status is not None:
            self.http_status = http_status


class LogUnavailable(CtlogError):
    """A log, witness or peer could not be reached or kept failing (timeouts, 429, 5xx)."""


class VerificationError(CtlogError):
    """A proof or signature does not verify. `evidence` holds what was compared, as hex/ints."""

    def __init__(self, message: str, *, evidence: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.evidence: dict[str, object] = dict(evidence or {})


class ProofError(VerificationError):
    """An inclusion or consistency proof is malformed or leads to the wrong root."""


class SignatureError(VerificationError):
    """A signature (SCT, STH, note, cosignature) does not verify under the given key."""


__all__ = [
    "CtlogError",
    "InputError",
    "LogUnavailable",
    "ProofError",
    "SignatureError",
    "UsageError",
    "VerificationError",
]
