"""Errors of the replicated key-value store.

`KvError` is the base. `KvDecodeError` is bad bytes from outside (a client, a peer, a snapshot
file): it is a `PeerError` and carries an HTTP status hint. `KvCommandError` is a caller building
an invalid command or result in code: it is a `UsageError` (and a `ValueError`, like the
validation errors of the other value types).
"""

from __future__ import annotations

from common.errors import CommonError, PeerError, UsageError


class KvError(CommonError):
    """Base of the errors of `common.kv`."""


class KvDecodeError(KvError, PeerError):
    """Bytes that claim to be a command, a result or a snapshot are malformed or oversize."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"invalid {what}: {reason}", http_status=400)
        self.what = what
        self.reason = reason


class KvCommandError(KvError, UsageError, ValueError):
    """A `KvCommand` or `KvResult` was built with fields that break its invariants."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
