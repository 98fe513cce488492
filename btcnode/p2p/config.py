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

    def __post_init__(self) -> None:
        if not 0 <= self.listen_port <= MAX_PORT:
            raise P2PMisuse(f"listen_port {self.listen_port} is not a TCP port")
        if self.max_inbound < 0:
            raise P2PMisuse(f"max_inbound {self.max_inbound} is negative")
