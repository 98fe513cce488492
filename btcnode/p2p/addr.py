"""Address messages: getaddr answers and addr / addrv2 intake (Core's GETADDR, ADDR and
ADDRV2 handlers and MaybeSendAddr), without an address manager.

The addresses we know are the listening addresses of our connected outbound peers. A
getaddr is answered once per connection and only to inbound peers (Core's
anti-fingerprinting rule), with at most MAX_ADDR_TO_SEND entries, as addrv2 to peers that
sent sendaddrv2 (BIP155) and as addr otherwise. Received addresses are rate limited by
Core's token bucket (0.1 per second, refilled by our getaddr) and counted; since there is
no address manager they are not stored or relayed. An addr(v2) of more than 1000 entries
is refused by the decoder with Core's penalty.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from btcnode.p2p.messages import (
    MAX_ADDR_TO_SEND,
    AddrMessage,
    AddrV2Message,
    GetAddrMessage,
)
from btcnode.p2p.netaddr import AddrV2Entry, NetAddress, TimedNetAddress
from btcnode.p2p.peer import PeerState

if TYPE_CHECKING:
    from btcnode.p2p.processor import Handler, NetProcessor

__all__ = ["HANDLERS", "MAX_ADDR_RATE_PER_SECOND"]

MAX_ADDR_RATE_PER_SECOND = 0.1  # Core: addresses processed per second per peer
MAX_ADDR_PROCESSING_TOKEN_BUCKET = MAX_ADDR_TO_SEND  # Core: the bucket's cap


def handle_getaddr(p: NetProcessor, peer: PeerState, msg: GetAddrMessage, now: float) -> None:
    if not peer.inbound or peer.getaddr_received:
        return  # Core: ignored from outbound peers and when repeated
    peer.getaddr_received = True
    stamp = int(now)
    known = itertools.islice(_outbound_addresses(p), MAX_ADDR_TO_SEND)
    if peer.wants_addrv2:
        entries = (AddrV2Entry.from_ip(stamp, services, ip, port) for services, ip, port in known)
        p.send(peer, AddrV2Message(tuple(entries)))
    else:
        timed = (
            TimedNetAddress(stamp, NetAddress(services, ip, port)) for services, ip, port in known
        )
        p.send(peer, AddrMessage(tuple(timed)))


def _outbound_addresses(
    p: NetProcessor,
) -> Iterator[tuple[int, ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """(services, ip, port) of each connected outbound peer whose host is an IP address."""
    for other in p.peers.values():
        if other.inbound or not other.connected:
            continue
        try:
            ip = ipaddress.ip_address(other.addr.host)
        except ValueError:
            continue  # a host name: not an address we can gossip
        yield other.services, ip, other.addr.port


def _take_tokens(peer: PeerState, count: int, now: float) -> int:
    """How many of `count` addresses the token bucket lets through now."""
    if peer.addr_token_bucket < MAX_ADDR_PROCESSING_TOKEN_BUCKET:
        elapsed = max(now - peer.addr_token_time, 0.0)
        peer.addr_token_bucket = min(
            peer.addr_token_bucket + elapsed * MAX_ADDR_RATE_PER_SECOND,
            MAX_ADDR_PROCESSING_TOKEN_BUCKET,
        )
    peer.addr_token_time = now
    allowed = min(count, int(peer.addr_token_bucket))
    peer.addr_token_bucket -= allowed
    peer.addr_processed += allowed
    peer.addr_rate_limited += count - allowed
    return allowed


def handle_addr(p: NetProcessor, peer: PeerState, msg: AddrMessage, now: float) -> None:
    _take_tokens(peer, len(msg.addresses), now)


def handle_addrv2(p: NetProcessor, peer: PeerState, msg: AddrV2Message, now: float) -> None:
    _take_tokens(peer, sum(1 for entry in msg.addresses if entry.is_known), now)


HANDLERS: dict[type, Handler] = {
    GetAddrMessage: handle_getaddr,
    AddrMessage: handle_addr,
    AddrV2Message: handle_addrv2,
}
