"""Peer transports: the real WebSocket transport and a deterministic simulated network.

- `Transport` is the protocol every consumer (the Raft driver) codes against: non-blocking
  `send(dst, payload) -> bool`, `await recv() -> Envelope`, `start`, `close`.
- `AiohttpTransport` carries payloads between processes over authenticated WebSockets.
- `SimNetwork` is the deterministic network of the simulator (no asyncio, all randomness from
  one seeded rng); `SimTransport` puts the `Transport` protocol on top of it.

`Backoff` is the doubling, jittered reconnect delay every dialler uses.

Payloads are opaque bytes of at most `max_msg_bytes` (`MAX_MSG_BYTES_DEFAULT`, 4 MiB).
"""

from common.net._aiohttp_transport import AiohttpTransport
from common.net._auth import ClusterAuth
from common.net._backoff import Backoff
from common.net._errors import AuthError, DecodeError, MessageTooLarge, NetError, RejectReason
from common.net._peer_link import PEER_PATH
from common.net._ports import free_tcp_ports
from common.net._sim import LinkFaults, SimNetwork, majorities_ring_links
from common.net._sim_transport import SimTransport
from common.net._types import MAX_MSG_BYTES_DEFAULT, Envelope, PeerAddress, Transport

__all__ = [
    "MAX_MSG_BYTES_DEFAULT",
    "PEER_PATH",
    "AiohttpTransport",
    "AuthError",
    "Backoff",
    "ClusterAuth",
    "DecodeError",
    "Envelope",
    "LinkFaults",
    "MessageTooLarge",
    "NetError",
    "PeerAddress",
    "RejectReason",
    "SimNetwork",
    "SimTransport",
    "Transport",
    "free_tcp_ports",
    "majorities_ring_links",
]
