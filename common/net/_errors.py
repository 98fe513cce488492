"""Errors of the peer transports.

Whose fault: `DecodeError` and `AuthError` are a peer's (they derive from `PeerError` and carry
an HTTP status hint); `MessageTooLarge` is the caller's (a payload over the transport's bound,
a `UsageError`). Transports never let either escape into the event loop: a misbehaving
connection is logged, counted and closed.
"""

from __future__ import annotations

from enum import Enum

from common.errors import CommonError, PeerError, UsageError


class NetError(CommonError):
    """Base of every error raised by `common.net`."""


class DecodeError(NetError, PeerError):
    """Bytes from a peer do not parse; `what` names the field or rule that failed."""

    http_status = 400

    def __init__(self, message: str, *, what: str) -> None:
        super().__init__(f"{what}: {message}")
        self.what = what


class RejectReason(Enum):
    """Why a peer connection was refused; the value is the short tag used in logs and stats."""

    UNKNOWN_NODE = "unknown_node"  # the claimed node id is not a configured peer
    WRONG_DESTINATION = "wrong_destination"  # the hello names another node as its target
    BAD_PROOF = "bad_proof"  # the HMAC does not verify: wrong cluster secret or a replay
    MALFORMED = "malformed_handshake"  # a handshake message does not parse or comes out of order
    TIMEOUT = "handshake_timeout"  # the handshake did not finish in time
    ABORTED = "handshake_aborted"  # the other side closed during the handshake
    BUSY = "too_many_handshakes"  # too many unauthenticated connections at once
    REJECTED_BY_PEER = "rejected_by_peer"  # the remote refused us without a reason we know


class AuthError(NetError, PeerError):
    """A peer failed the cluster handshake; `reason` says how, `remote_id` who it claimed to be."""

    http_status = 401

    def __init__(self, reason: RejectReason, detail: str, *, remote_id: str | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.remote_id = remote_id


class MessageTooLarge(NetError, UsageError):
    """The caller handed a transport a payload larger than its `max_msg_bytes`."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"payload of {size} bytes exceeds the transport limit of {limit} bytes")
        self.size = size
        self.limit = limit
