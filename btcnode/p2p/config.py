"""`P2PConfig`: how a node's peer manager listens and whom it connects to.

Built by the node process from its command line (`--p2p-port`, `--connect`, `--addnode`)
and handed to `btcnode.p2p.manager.PeerManager`. Every limit has Core's value and reason;
tests shrink the timeouts to run fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.p2p.errors import P2PMisuse

__all__ = ["DEFAULT_MAX_INBOUND", "P2PConfig", "parse_host_port"]

DEFAULT_MAX_INBOUND = 114  # Core's 125 connection slots minus its 11 outbound ones
# Core's net.h / net_processing.cpp defaults, in seconds
PEER_CONNECT_TIMEOUT = 60.0  # DEFAULT_PEER_CONNECT_TIMEOUT: version handshake must finish
PING_INTERVAL = 120.0  # PING_INTERVAL: a ping every 2 minutes
TIMEOUT_INTERVAL = 1200.0  # TIMEOUT_INTERVAL: no pong (or no traffic) for 20 minutes
BLOCK_STALLING_TIMEOUT = 2.0  # BLOCK_STALLING_TIMEOUT_DEFAULT: window blocked by one peer
BLOCK_STALLING_TIMEOUT_MAX = 64.0  # BLOCK_STALLING_TIMEOUT_MAX: doubled after each stall
BLOCK_DOWNLOAD_TIMEOUT = 600.0  # BLOCK_DOWNLOAD_TIMEOUT_BASE (1) x regtest's 10-minute spacing
BLOCK_DOWNLOAD_TIMEOUT_PER_PEER = 300.0  # BLOCK_DOWNLOAD_TIMEOUT_PER_PEER (0.5) x spacing
HEADERS_RESPONSE_TIME = 120.0  # HEADERS_RESPONSE_TIME: one getheaders in flight per peer
TX_REQUEST_TIMEOUT = 60.0  # GETDATA_TX_INTERVAL: ask another announcer after this
BLOCK_DOWNLOAD_WINDOW = 1024  # BLOCK_DOWNLOAD_WINDOW: blocks past the last common one we fetch
MAX_SEND_QUEUE_BYTES = 64 << 20  # 16 full blocks in flight; more unsent means a dead reader
MAX_PORT = 65535


def parse_host_port(text: str, default_port: int) -> tuple[str, int]:
    """'host', 'host:port' or '[v6]:port' into (host, port); `P2PMisuse` for anything else."""
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (end + 1 < len(text) and text[end + 1] != ":"):
            raise P2PMisuse(f"bad address {text!r}: expected [IPv6]:port")
        host = text[1:end]
        if end + 1 < len(text):
            port = _parse_port(text, text[end + 2 :])
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _parse_port(text, port_text)
    if not host:
        raise P2PMisuse(f"bad address {text!r}: no host")
    return host, port


def _parse_port(text: str, port_text: str) -> int:
    if not port_text.isdigit() or not 0 < int(port_text) <= MAX_PORT:
        raise P2PMisuse(f"bad address {text!r}: port must be 1-{MAX_PORT}")
    return int(port_text)


@dataclass(frozen=True, slots=True)
class P2PConfig:
    """`listen_port` 0 picks a free port (tests); `listen` False makes no listening socket.
    `connect` peers are the only outbound ones (Core's -connect); `addnode` peers are kept
    connected in addition (Core's -addnode). Both reconnect after a drop."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 18444
    listen: bool = True
    connect: tuple[tuple[str, int], ...] = ()
    addnode: tuple[tuple[str, int], ...] = ()
    max_inbound: int = DEFAULT_MAX_INBOUND
    user_agent: str = "/opentrust-btcnode:0.1.0/"
    peer_connect_timeout: float = PEER_CONNECT_TIMEOUT
    ping_interval: float = PING_INTERVAL
    timeout_interval: float = TIMEOUT_INTERVAL
    block_stalling_timeout: float = BLOCK_STALLING_TIMEOUT
    block_stalling_timeout_max: float = BLOCK_STALLING_TIMEOUT_MAX
    block_download_timeout: float = BLOCK_DOWNLOAD_TIMEOUT
    block_download_timeout_per_peer: float = BLOCK_DOWNLOAD_TIMEOUT_PER_PEER
    headers_response_time: float = HEADERS_RESPONSE_TIME
    tx_request_timeout: float = TX_REQUEST_TIMEOUT
    block_download_window: int = BLOCK_DOWNLOAD_WINDOW
    tick_interval: float = 0.25  # how often the peer manager runs timers and trickles invs
    reconnect_delay: float = 1.0  # first wait before reconnecting a --connect/--addnode peer
    reconnect_delay_max: float = 60.0  # the wait doubles after each failure up to this
    # (each wait is scaled by a random factor in [0.5, 1) so restarted nodes do not redial
    # in lockstep)
    max_send_queue_bytes: int = MAX_SEND_QUEUE_BYTES

    def __post_init__(self) -> None:
        if not 0 <= self.listen_port <= MAX_PORT:
            raise P2PMisuse(f"listen_port {self.listen_port} is not a TCP port")
        if self.max_inbound < 0:
            raise P2PMisuse(f"max_inbound {self.max_inbound} is negative")
        for name in _POSITIVE_FIELDS:
            if not getattr(self, name) > 0:
                raise P2PMisuse(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.reconnect_delay > self.reconnect_delay_max:
            raise P2PMisuse(
                f"reconnect_delay {self.reconnect_delay} exceeds "
                f"reconnect_delay_max {self.reconnect_delay_max}"
            )


_POSITIVE_FIELDS = (
    "peer_connect_timeout",
    "ping_interval",
    "timeout_interval",
    "block_stalling_timeout",
    "block_stalling_timeout_max",
    "block_download_timeout",
    "block_download_timeout_per_peer",
    "headers_response_time",
    "tx_request_timeout",
    "block_download_window",
    "tick_interval",
    "reconnect_delay",
    "reconnect_delay_max",
    "max_send_queue_bytes",
)
