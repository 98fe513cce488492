"""Errors of the P2P layer: whose fault it was, and what Core would do about it.

`P2PError` is the base (a `ChainError`). `P2PMisuse` is a caller's mistake: an unencodable
command, an oversize payload handed to `encode_frame`, a decoder fed after it failed.
Everything a peer can cause with bad bytes is a `PeerMisbehaving`, which carries the
evidence (command, sizes, expected and received values) and two hints for the connection
driver, taken from what Bitcoin Core does with the same bytes:

- `score`: 100 when Core calls `Misbehaving()` (current Core discourages the peer on any
  misbehaviour, as the old 100-point threshold did), 0 when Core merely ignores the message.
- `disconnect`: True when Core closes the connection (bad magic, oversize length, a too-long
  locator, and every discouraged peer), False when it drops the message and keeps the peer
  (bad checksum, invalid message type, payloads that fail to deserialize).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from btcnode.consensus.errors import ChainError, ChainMisuse

if TYPE_CHECKING:
    from btcnode.p2p.framing import Frame

DISCOURAGE_SCORE = 100  # Core's Misbehaving(): the peer is discouraged and disconnected
IGNORE_SCORE = 0  # Core logs the problem and drops the message; the peer is not punished


class P2PError(ChainError):
    """Base of every error raised by `btcnode.p2p`."""


class P2PMisuse(P2PError, ChainMisuse):
    """The caller used the P2P codec wrongly; fixing the call fixes it."""


class PeerMisbehaving(P2PError):
    """A peer sent bytes that break the protocol.

    `reason` is a short stable name (`bad-magic`, `bad-checksum`, `oversize-count`, ...),
    `debug` the human-readable evidence; `score` and `disconnect` say what Core would do.
    """

    def __init__(
        self,
        reason: str,
        debug: str,
        *,
        command: bytes | None,
        score: int,
        disconnect: bool,
    ) -> None:
        shown = command.decode("ascii", "backslashreplace") if command is not None else "?"
        super().__init__(f"{reason} ({shown}): {debug}")
        self.reason = reason
        self.debug = debug
        self.command = command
        self.score = score
        self.disconnect = disconnect or score >= DISCOURAGE_SCORE

    @property
    def discourage(self) -> bool:
        """Core would discourage this peer (Misbehaving), not just drop the message."""
        return self.score >= DISCOURAGE_SCORE


class FramingError(PeerMisbehaving):
    """The 24-byte message header or the checksum was wrong.

    `expected` / `received` hold the magic or the checksum that did not match,
    `payload_size` the length the header announced, and `decoded` the good frames that
    preceded the bad one in the same `FrameDecoder.feed` call (Core processes those).
    """

    def __init__(
        self,
        reason: str,
        debug: str,
        *,
        command: bytes | None,
        score: int,
        disconnect: bool,
        payload_size: int | None = None,
        expected: bytes | None = None,
        received: bytes | None = None,
    ) -> None:
        super().__init__(reason, debug, command=command, score=score, disconnect=disconnect)
        self.payload_size = payload_size
        self.expected = expected
        self.received = received
        self.decoded: tuple[Frame, ...] = ()


class MessageDecodeError(PeerMisbehaving):
    """A payload that does not decode as its command says: truncated, trailing, malformed.

    Core catches the deserialization exception, logs it and ignores the message, so the
    default hints are score 0 and no disconnect.
    """

    def __init__(
        self,
        reason: str,
        debug: str,
        *,
        command: bytes,
        payload_size: int,
        score: int = IGNORE_SCORE,
        disconnect: bool = False,
    ) -> None:
        super().__init__(reason, debug, command=command, score=score, disconnect=disconnect)
        self.payload_size = payload_size


class CountLimitExceeded(MessageDecodeError):
    """A vector longer than Core accepts: `count` entries of `field` where `limit` is the most."""

    def __init__(
        self,
        *,
        command: bytes,
        payload_size: int,
        field: str,
        count: int,
        limit: int,
        score: int,
        disconnect: bool,
    ) -> None:
        super().__init__(
            "oversize-count",
            f"{field} has {count} entries, at most {limit} allowed",
            command=command,
            payload_size=payload_size,
            score=score,
            disconnect=disconnect,
        )
        self.field = field
        self.count = count
        self.limit = limit
