"""Per-peer protocol state of the net-processing core (Core's Peer and CNodeState).

`PeerState` is the core's mutable bookkeeping for one connection: what the handshake
negotiated, what the peer is known to have (its best known block, the inventory it
announced or we sent it), what we asked it for and when. Only the `NetProcessor` and its
handler modules change it; every time is the `now` the driver passed in (seconds).
"""

from __future__ import annotations

import enum
import ipaddress
from collections import OrderedDict
from dataclasses import dataclass

from btcnode.p2p.control import ConnectionType
from btcnode.p2p.messages import VersionMessage
from btcnode.p2p.netaddr import ServiceFlags

__all__ = [
    "DESIRABLE_SERVICES",
    "MAX_INVENTORY_KNOWN",
    "BoundedSet",
    "Handshake",
    "PeerAddress",
    "PeerState",
    "is_local_host",
]

DESIRABLE_SERVICES = ServiceFlags.NODE_NETWORK | ServiceFlags.NODE_WITNESS  # Core's outbound ask
MAX_INVENTORY_KNOWN = 50_000  # Core's m_tx_inventory_known_filter holds 50,000 entries


class Handshake(enum.Enum):
    """Where the version/verack exchange stands."""

    AWAITING_VERSION = "awaiting-version"  # nothing received yet
    AWAITING_VERACK = "awaiting-verack"  # their version is in, their verack is not
    COMPLETE = "complete"  # Core's fSuccessfullyConnected


@dataclass(frozen=True, slots=True)
class PeerAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def is_local_host(host: str) -> bool:
    """Core's CNetAddr::IsLocal: 127.0.0.0/8, 0.0.0.0/8 and ::1 (never discouraged)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.packed[0] in (0, 127)
    return ip.is_loopback


class BoundedSet:
    """A set that forgets its oldest members beyond `limit` (Core's rolling bloom filters)."""

    __slots__ = ("_items", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[bytes, None] = OrderedDict()

    def __contains__(self, item: bytes) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: bytes) -> None:
        self._items[item] = None
        if len(self._items) > self.limit:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class PeerState:
    """One connected peer, as the core sees it."""

    __slots__ = (
        "addr",
        "addr_processed",
        "addr_rate_limited",
        "addr_token_bucket",
        "addr_token_time",
        "best_header_sent",
        "best_known_hash",
        "blocks_in_flight",
        "connected_at",
        "connection_type",
        "disconnecting",
        "downloading_since",
        "fee_filter",
        "fee_filter_sent",
        "getaddr_received",
        "getheaders_sent_at",
        "handshake",
        "headers_to_announce",
        "id",
        "known_inventory",
        "last_common_height",
        "last_message_at",
        "last_unknown_block",
        "local_nonce",
        "min_ping",
        "misbehavior_score",
        "next_feefilter_at",
        "ping_nonce",
        "ping_start",
        "ping_time",
        "prefer_headers",
        "relay_txs",
        "sendheaders_sent",
        "stalling_since",
        "sync_slot",
        "sync_started",
        "tx_announce_queue",
        "tx_in_flight",
        "unconnecting_headers",
        "version",
        "wants_addrv2",
        "wtxid_relay",
    )

    def __init__(
        self,
        peer_id: int,
        addr: PeerAddress,
        connection_type: ConnectionType,
        now: float,
        local_nonce: int,
    ) -> None:
        self.id = peer_id
        self.addr = addr
        self.connection_type = connection_type
        self.connected_at = now
        self.last_message_at = now
        self.local_nonce = local_nonce  # the nonce of the version we send it
        self.handshake = Handshake.AWAITING_VERSION
        self.disconnecting = False  # a DisconnectPeer was issued; ignore whatever follows
        self.version: VersionMessage | None = None
        self.relay_txs = False  # BIP37 relay flag from its version
        self.wtxid_relay = False  # BIP339
        self.wants_addrv2 = False  # BIP155
        self.prefer_headers = False  # BIP130: it sent sendheaders
        self.sendheaders_sent = False
        self.fee_filter = 0  # BIP133: its feefilter, sat per 1000 vB
        self.fee_filter_sent: int | None = None
        self.misbehavior_score = 0
        # ping (BIP31)
        self.ping_nonce = 0  # 0: no ping outstanding
        self.ping_start = 0.0
        self.ping_time: float | None = None
        self.min_ping: float | None = None
        # headers-first sync and block download
        self.sync_started = False
        self.sync_slot = False  # it holds the initial-sync slot (counted in nSyncStarted)
        self.next_feefilter_at = 0.0
        self.getheaders_sent_at: float | None = None
        self.unconnecting_headers = 0
        self.best_known_hash: bytes | None = None  # Core's pindexBestKnownBlock
        self.last_unknown_block: bytes | None = None  # Core's hashLastUnknownBlock
        self.last_common_height: int | None = None  # Core's pindexLastCommonBlock (height)
        self.best_header_sent: bytes | None = None  # Core's pindexBestHeaderSent
        self.blocks_in_flight: dict[bytes, float] = {}  # requested block -> when (in order)
        self.downloading_since = 0.0
        self.stalling_since: float | None = None
        self.headers_to_announce: list[bytes] = []  # new tips to announce (by headers or inv)
        # transactions
        self.known_inventory = BoundedSet(MAX_INVENTORY_KNOWN)
        self.tx_announce_queue: dict[bytes, tuple[int, bytes]] = {}  # hash -> (inv type, txid)
        self.tx_in_flight: dict[bytes, float] = {}  # tx hash we asked it for -> when
        # addresses (BIP155 and Core's addr rate limiting)
        self.getaddr_received = False
        self.addr_token_bucket = 1.0  # Core starts every peer with one token
        self.addr_token_time = now
        self.addr_processed = 0
        self.addr_rate_limited = 0

    @property
    def services(self) -> int:
        return 0 if self.version is None else self.version.services

    @property
    def inbound(self) -> bool:
        return self.connection_type is ConnectionType.INBOUND

    @property
    def is_manual(self) -> bool:
        return self.connection_type is ConnectionType.MANUAL

    @property
    def connected(self) -> bool:
        """The handshake completed (Core's fSuccessfullyConnected)."""
        return self.handshake is Handshake.COMPLETE

    @property
    def can_serve_witness_blocks(self) -> bool:
        """NODE_NETWORK and NODE_WITNESS: we download (segwit) blocks only from such peers."""
        return self.services & DESIRABLE_SERVICES == DESIRABLE_SERVICES

    def __repr__(self) -> str:
        return (
            f"<PeerState {self.id} {self.addr} {self.connection_type.value} {self.handshake.value}>"
        )
