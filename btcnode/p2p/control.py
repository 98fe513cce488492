"""What the RPC layer may ask of the peer manager: `PeerControl`, and the values it returns.

The RPC methods getpeerinfo, getconnectioncount, getnetworkinfo, addnode, disconnectnode,
setnetworkactive, listbanned, setban and clearbanned are served from this interface alone, so
the RPC package never imports the connection code. The values carry Core's field meanings;
the RPC layer only renders them as Core's JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "DEFAULT_MISBEHAVING_BANTIME",
    "AddNodeCommand",
    "BanEntry",
    "ConnectionCounts",
    "ConnectionType",
    "PeerControl",
    "PeerInfo",
]


# Core's banman.h: how long a misbehaving address is banned, and the bantime of setban when
# none (0) is given. The peer manager, its ban list and the setban RPC all use this one value.
DEFAULT_MISBEHAVING_BANTIME = 24 * 60 * 60


class ConnectionType(enum.Enum):
    """Core's getpeerinfo `connection_type` values that this node makes."""

    INBOUND = "inbound"
    OUTBOUND_FULL_RELAY = "outbound-full-relay"
    MANUAL = "manual"  # --connect, --addnode and the addnode RPC


class AddNodeCommand(enum.Enum):
    """The addnode RPC's commands."""

    ADD = "add"  # keep a connection to it, reconnecting when it drops
    REMOVE = "remove"  # forget an `add`; does not disconnect
    ONETRY = "onetry"  # connect once


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """One connected peer as Core's getpeerinfo reports it (times are UNIX seconds)."""

    id: int
    addr: str  # "host:port" of the remote end
    addrbind: str  # "host:port" of our end
    services: int  # the NODE_* bits from its version message
    relaytxes: bool
    lastsend: int
    lastrecv: int
    bytessent: int
    bytesrecv: int
    conntime: int
    timeoffset: int
    pingtime: float | None  # seconds of the last pong; None before the first
    minping: float | None
    version: int
    subver: str
    inbound: bool
    startingheight: int
    synced_headers: int  # -1 when unknown, as in Core
    synced_blocks: int
    inflight: tuple[int, ...]  # heights of blocks requested from it and not yet received
    connection_type: ConnectionType
    misbehavior_score: int


@dataclass(frozen=True, slots=True)
class ConnectionCounts:
    inbound: int
    outbound: int

    @property
    def total(self) -> int:
        return self.inbound + self.outbound


@dataclass(frozen=True, slots=True)
class BanEntry:
    address: str  # the banned host (Core bans a subnet; here one address is a /32 or /128)
    ban_created: int
    banned_until: int
    reason: str


class PeerControl(Protocol):
    """The peer manager as the RPC layer sees it. Errors are `P2PMisuse` with a message the
    RPC layer returns as Core's -24/-29/-30 style error text."""

    def peer_info(self) -> list[PeerInfo]: ...

    def connection_counts(self) -> ConnectionCounts: ...

    @property
    def network_active(self) -> bool: ...

    def set_network_active(self, active: bool) -> None:
        """False: disconnect every peer and refuse new connections until set True again."""

    def add_node(self, address: str, command: AddNodeCommand) -> None:
        """`address` is "host:port". Raises `P2PMisuse` when adding a node already added or
        removing one never added (Core's -23 and -24)."""

    def disconnect_node(self, address: str | None = None, node_id: int | None = None) -> None:
        """Disconnect by address or by peer id; `P2PMisuse` when no such peer (Core's -29)."""

    def list_banned(self) -> list[BanEntry]: ...

    def set_ban(self, address: str, add: bool, ban_seconds: int) -> None:
        """Ban (and disconnect) or unban a host; `P2PMisuse` for an unknown unban."""

    def clear_banned(self) -> None: ...
