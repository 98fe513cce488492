"""Values shared by every transport: the `Transport` protocol, `Envelope` and `PeerAddress`.

A transport carries opaque payloads between named nodes. `Envelope.src` is always the
authenticated sender: a transport never hands up a payload whose sender it has not verified.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from common.errors import ConfigError

MAX_MSG_BYTES_DEFAULT = 4 * 1024 * 1024  # one Raft append or snapshot chunk; bounds peer memory
MAX_MSG_BYTES_LIMIT = 64 * 1024 * 1024  # above this a single frame would stall a link for seconds
MAX_NODE_ID_CHARS = 64  # same bound as Raft node ids; ids travel in every handshake and log line
MAX_HOST_CHARS = 253  # longest DNS name (RFC 1035 §2.3.4)
MAX_PORT = 65535  # TCP port numbers are 16 bits


def node_id_problem(node_id: object) -> str | None:
    """Say what is wrong with a node id, or None if it is acceptable.

    A node id is 1..MAX_NODE_ID_CHARS printable characters without whitespace, so that it can
    be logged and compared without escaping.
    """
    if not isinstance(node_id, str):
        return f"node id must be a string, got {type(node_id).__name__}"
    if not 1 <= len(node_id) <= MAX_NODE_ID_CHARS:
        return f"node id must be 1..{MAX_NODE_ID_CHARS} characters, got {len(node_id)}"
    if not node_id.isprintable() or any(ch.isspace() for ch in node_id):
        return f"node id must be printable without whitespace, got {node_id!r}"
    return None


class RandomSource(Protocol):
    """The part of `random.Random` the network code uses; pass a seeded `random.Random`."""

    def random(self) -> float: ...

    def shuffle(self, x: MutableSequence[Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """One payload received from the authenticated node `src`."""

    src: str
    payload: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.payload, bytes):
            raise TypeError(f"payload must be bytes, got {type(self.payload).__name__}")


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """Where node `node_id` listens for peer connections."""

    node_id: str
    host: str
    port: int

    def __post_init__(self) -> None:
        problem = node_id_problem(self.node_id)
        if problem is not None:
            raise ConfigError(f"peer address: {problem}")
        if not isinstance(self.host, str) or not 1 <= len(self.host) <= MAX_HOST_CHARS:
            raise ConfigError(f"peer {self.node_id}: host must be 1..{MAX_HOST_CHARS} chars")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ConfigError(f"peer {self.node_id}: port must be an int, got {self.port!r}")
        if not 1 <= self.port <= MAX_PORT:
            raise ConfigError(f"peer {self.node_id}: port must be 1..{MAX_PORT}, got {self.port}")


@runtime_checkable
class Transport(Protocol):
    """Carries opaque payloads to and from named peers.

    `send` never blocks and never raises on peer trouble: it returns False (and counts a drop)
    when `dst` is unknown or its bounded send queue is full. Delivery is best effort; the
    protocols above (Raft) tolerate loss, duplication across reconnects and reordering across
    connections. `recv` waits for the next message from any peer.
    """

    node_id: str

    async def start(self) -> None: ...

    def send(self, dst: str, payload: bytes) -> bool: ...

    async def recv(self) -> Envelope: ...

    async def close(self) -> None: ...
