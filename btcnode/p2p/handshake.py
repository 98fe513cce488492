"""The version handshake, feature negotiation, keep-alive and connection timeouts.

Follows Core's net_processing.cpp VERSION / VERACK / WTXIDRELAY / SENDADDRV2 / PING / PONG /
SENDHEADERS / FEEFILTER handlers and its InactivityCheck / MaybeSendPing:

- We send `version` first on outbound connections and answer an inbound peer's version with
  ours; after their version we send `wtxidrelay` (BIP339) and `sendaddrv2` (BIP155) when the
  common version is >= 70016, then `verack`; outbound peers are also sent `getaddr`.
- A version below MIN_PEER_PROTO_VERSION disconnects, so does an automatic outbound peer
  without NODE_NETWORK|NODE_WITNESS (manual and inbound ones are exempt, as in Core's
  ExpectServicesFromConn), so does an inbound version carrying one of our own outbound
  nonces (we connected to ourselves).
- wtxidrelay / sendaddrv2 after verack disconnect (Core 22+).
- Handshake complete: sendheaders, feefilter, the first ping, and headers sync may start.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from btcnode.consensus.params import MAX_MONEY
from btcnode.p2p import sync
from btcnode.p2p._msg_control import UNKNOWN_ADDR_FROM
from btcnode.p2p.control import ConnectionType
from btcnode.p2p.messages import (
    BIP0031_VERSION,
    FEEFILTER_VERSION,
    MAX_ADDR_TO_SEND,
    MIN_PEER_PROTO_VERSION,
    PROTOCOL_VERSION,
    SENDHEADERS_VERSION,
    WTXID_RELAY_VERSION,
    FeeFilterMessage,
    GetAddrMessage,
    PingMessage,
    PongMessage,
    SendAddrV2Message,
    SendHeadersMessage,
    VerackMessage,
    VersionMessage,
    WtxidRelayMessage,
)
from btcnode.p2p.netaddr import NetAddress
from btcnode.p2p.peer import DESIRABLE_SERVICES, Handshake, PeerState

if TYPE_CHECKING:
    from btcnode.p2p.processor import Handler, NetProcessor

__all__ = ["HANDLERS", "LOCAL_SERVICES", "check_timeouts", "send_version"]

LOCAL_SERVICES = int(DESIRABLE_SERVICES)  # NODE_NETWORK | NODE_WITNESS: we serve every block
ADDRV2_VERSION = 70016  # Core sends sendaddrv2 only to peers announcing at least this
AVG_FEEFILTER_BROADCAST_INTERVAL = 600.0  # Core: a feefilter update at most every 10 minutes


def common_version(peer: PeerState) -> int:
    return 0 if peer.version is None else min(peer.version.version, PROTOCOL_VERSION)


def send_version(p: NetProcessor, peer: PeerState, now: float) -> None:
    """Core's PushNodeVersion: our version with the peer's address only if routable."""
    p.send(
        peer,
        VersionMessage(
            version=PROTOCOL_VERSION,
            services=LOCAL_SERVICES,
            timestamp=int(now),
            addr_recv=_address_of(peer),
            addr_from=NetAddress(LOCAL_SERVICES, UNKNOWN_ADDR_FROM.ip, 0),
            nonce=peer.local_nonce,
            user_agent=p.config.user_agent.encode(),
            start_height=p.node.chainstate.tip_height,
            relay=True,
        ),
    )


def _address_of(peer: PeerState) -> NetAddress:
    try:
        ip = ipaddress.ip_address(peer.addr.host)
    except ValueError:
        return UNKNOWN_ADDR_FROM
    if not ip.is_global or (isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped):
        return UNKNOWN_ADDR_FROM
    return NetAddress(0, ip, peer.addr.port)


def handle_version(p: NetProcessor, peer: PeerState, msg: VersionMessage, now: float) -> None:
    if peer.version is not None:
        return  # Core: "redundant version message from peer", ignored
    if peer.connection_type is ConnectionType.OUTBOUND_FULL_RELAY and (
        msg.services & DESIRABLE_SERVICES != DESIRABLE_SERVICES
    ):
        p.disconnect(peer, "missing-services")
        return
    if msg.version < MIN_PEER_PROTO_VERSION:
        p.disconnect(peer, "obsolete-version")
        return
    if peer.inbound and _is_own_nonce(p, msg.nonce):
        p.disconnect(peer, "self-connection")
        return
    peer.version = msg
    peer.relay_txs = msg.relay
    peer.handshake = Handshake.AWAITING_VERACK
    if peer.inbound:
        send_version(p, peer, now)
    version = common_version(peer)
    if version >= WTXID_RELAY_VERSION:
        p.send(peer, WtxidRelayMessage())
    if version >= ADDRV2_VERSION:
        p.send(peer, SendAddrV2Message())
    p.send(peer, VerackMessage())
    if not peer.inbound:
        p.send(peer, GetAddrMessage())
        peer.addr_token_bucket += MAX_ADDR_TO_SEND  # Core: the answer must not be rate limited


def _is_own_nonce(p: NetProcessor, nonce: int) -> bool:
    """Core's CheckIncomingNonce: a nonce of our own unfinished outbound handshakes."""
    return any(
        not other.inbound and not other.connected and other.local_nonce == nonce
        for other in p.peers.values()
    )


def handle_verack(p: NetProcessor, peer: PeerState, msg: VerackMessage, now: float) -> None:
    if peer.handshake is not Handshake.AWAITING_VERACK:
        return  # Core: "ignoring redundant verack message"
    peer.handshake = Handshake.COMPLETE
    version = common_version(peer)
    if version >= SENDHEADERS_VERSION:
        p.send(peer, SendHeadersMessage())  # BIP130 (Core's MaybeSendSendHeaders)
        peer.sendheaders_sent = True
    if version >= FEEFILTER_VERSION:
        send_fee_filter(p, peer, now)
    send_ping(p, peer, now)
    sync.maybe_start_sync(p, peer, now)
    sync.request_blocks(p, peer, now)


def send_fee_filter(p: NetProcessor, peer: PeerState, now: float) -> None:
    """BIP133: our mempool's minimum fee rate, sent when it changed, at most every
    AVG_FEEFILTER_BROADCAST_INTERVAL (Core's MaybeSendFeefilter, without its jitter)."""
    if now < peer.next_feefilter_at:
        return
    peer.next_feefilter_at = now + AVG_FEEFILTER_BROADCAST_INTERVAL
    rate = p.node.mempool.min_fee(int(now)).sat_per_kvb
    if rate != peer.fee_filter_sent:
        peer.fee_filter_sent = rate
        p.send(peer, FeeFilterMessage(rate))


def send_ping(p: NetProcessor, peer: PeerState, now: float) -> None:
    nonce = 0
    while nonce == 0:  # 0 means "no ping outstanding"
        nonce = p.nonces.getrandbits(64)
    peer.ping_nonce = nonce
    peer.ping_start = now
    p.send(peer, PingMessage(nonce))


def handle_wtxidrelay(p: NetProcessor, peer: PeerState, msg: WtxidRelayMessage, now: float) -> None:
    if peer.connected:
        p.disconnect(peer, "wtxidrelay-after-verack")
    elif common_version(peer) >= WTXID_RELAY_VERSION:
        peer.wtxid_relay = True


def handle_sendaddrv2(p: NetProcessor, peer: PeerState, msg: SendAddrV2Message, now: float) -> None:
    if peer.connected:
        p.disconnect(peer, "sendaddrv2-after-verack")
    else:
        peer.wants_addrv2 = True


def handle_ping(p: NetProcessor, peer: PeerState, msg: PingMessage, now: float) -> None:
    if common_version(peer) > BIP0031_VERSION:
        p.send(peer, PongMessage(msg.nonce))


def handle_pong(p: NetProcessor, peer: PeerState, msg: PongMessage, now: float) -> None:
    """Core's PONG handler: a matching nonce finishes the ping; nonce 0 cancels it."""
    if peer.ping_nonce == 0:
        return  # unsolicited pong
    if msg.nonce == peer.ping_nonce:
        elapsed = max(now - peer.ping_start, 0.0)
        peer.ping_time = elapsed
        peer.min_ping = elapsed if peer.min_ping is None else min(peer.min_ping, elapsed)
        peer.ping_nonce = 0
    elif msg.nonce == 0:
        peer.ping_nonce = 0  # Core: "nonce zero" cancels the outstanding ping


def handle_sendheaders(
    p: NetProcessor, peer: PeerState, msg: SendHeadersMessage, now: float
) -> None:
    peer.prefer_headers = True


def handle_feefilter(p: NetProcessor, peer: PeerState, msg: FeeFilterMessage, now: float) -> None:
    if 0 <= msg.fee_rate <= MAX_MONEY:  # Core: MoneyRange, else ignored
        peer.fee_filter = msg.fee_rate


def check_timeouts(p: NetProcessor, peer: PeerState, now: float) -> None:
    """Core's InactivityCheck and MaybeSendPing."""
    config = p.config
    if not peer.connected:
        if now - peer.connected_at > config.peer_connect_timeout:
            p.disconnect(peer, "handshake-timeout")
        return
    if now - peer.last_message_at > config.timeout_interval:
        p.disconnect(peer, "inactivity-timeout")
    elif peer.ping_nonce != 0:
        if now - peer.ping_start > config.timeout_interval:
            p.disconnect(peer, "ping-timeout")
    elif now - peer.ping_start >= config.ping_interval:
        send_ping(p, peer, now)
    if common_version(peer) >= FEEFILTER_VERSION:
        send_fee_filter(p, peer, now)


HANDLERS: dict[type, Handler] = {
    VersionMessage: handle_version,
    VerackMessage: handle_verack,
    WtxidRelayMessage: handle_wtxidrelay,
    SendAddrV2Message: handle_sendaddrv2,
    PingMessage: handle_ping,
    PongMessage: handle_pong,
    SendHeadersMessage: handle_sendheaders,
    FeeFilterMessage: handle_feefilter,
}
