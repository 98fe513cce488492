"""`NetProcessor`: the sans-I/O net-processing core (Core's PeerManagerImpl).

It holds a `Node` and is driven by its driver: `on_connected`, `on_message`,
`on_misbehaving` (framing and decoding errors), `on_tick`, `on_disconnected` and
`on_node_event`. Each returns the `Effect`s to carry out, in order (see `effects`). Messages
are dispatched per type to the `handle_*` functions of `handshake`, `sync`, `relay` and
`addr`; node events become announcements in `announce` and `relay`.

No sockets, no clock, no randomness of its own: times are the `now` passed in (seconds),
nonces come from the injected `NonceSource` (a seeded `random.Random` in tests).
Reentrancy: a node call made while handling a message (submit_block, submit_transaction)
publishes events synchronously; the driver feeds them back through `on_node_event`, whose
effects join the same ordered outbox.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from btcnode.node import Node, NodeEvent
from btcnode.p2p import addr, announce, handshake, relay, sync
from btcnode.p2p.chainview import HeaderChain
from btcnode.p2p.config import P2PConfig
from btcnode.p2p.control import DEFAULT_MISBEHAVING_BANTIME, ConnectionType
from btcnode.p2p.download import BlockDownload
from btcnode.p2p.effects import BanAddress, DisconnectPeer, Effect, SendMessage
from btcnode.p2p.errors import DISCOURAGE_SCORE, P2PMisuse, PeerMisbehaving
from btcnode.p2p.messages import (
    OutboundMessage,
    SendAddrV2Message,
    VerackMessage,
    VersionMessage,
    WtxidRelayMessage,
)
from btcnode.p2p.peer import Handshake, PeerAddress, PeerState, is_local_host
from btcnode.p2p.relay import TxRelay

__all__ = ["PRE_HANDSHAKE_SCORE", "NetProcessor", "NonceSource"]

log = logging.getLogger("btcnode.p2p")

PRE_HANDSHAKE_SCORE = 1  # Core (<= 0.20): Misbehaving(1) for a message before the handshake

# What may arrive between version and verack (BIP339, BIP155); anything else is premature.
_NEGOTIATION = (VerackMessage, WtxidRelayMessage, SendAddrV2Message, VersionMessage)


class NonceSource(Protocol):
    """Where version and ping nonces come from (`random.Random` satisfies it)."""

    def getrandbits(self, k: int, /) -> int: ...


Handler = Callable[["NetProcessor", PeerState, Any, float], None]


class NetProcessor:
    """The per-node protocol state machine over all peers."""

    def __init__(self, node: Node, config: P2PConfig, *, nonces: NonceSource) -> None:
        self.node = node
        self.config = config
        self.nonces = nonces
        self.peers: dict[int, PeerState] = {}
        self.outbox: list[Effect] = []
        self.headers = HeaderChain(node.chainstate)
        self.download = BlockDownload(node.chainstate, self.headers, config.block_download_window)
        self.relay = TxRelay(node.mempool)
        self.block_sources: OrderedDict[bytes, int] = OrderedDict()  # Core's mapBlockSource
        self.connected_blocks: list[bytes] = []  # BlockConnected hashes until the TipChanged
        self.sync_started = 0  # peers syncing their initial headers (Core's nSyncStarted)
        self.stalling_timeout = config.block_stalling_timeout  # adaptive, Core's 2 s .. 64 s
        self.now = 0.0  # the latest time the driver passed in

    # -- entry points ---------------------------------------------------------------------

    def on_connected(
        self, peer_id: int, addr: PeerAddress, connection_type: ConnectionType, now: float
    ) -> list[Effect]:
        """A new connection. We speak first on outbound ones (Core's PushNodeVersion)."""
        if peer_id in self.peers:
            raise P2PMisuse(f"peer id {peer_id} is already connected")
        self.now = now
        peer = PeerState(peer_id, addr, connection_type, now, self.nonces.getrandbits(64))
        self.peers[peer_id] = peer
        if not peer.inbound:
            handshake.send_version(self, peer, now)
        return self.take_effects()

    def on_message(self, peer_id: int, message: object, now: float) -> list[Effect]:
        """One decoded message from the peer (block and tx messages keep their payload)."""
        self.now = now
        peer = self.peers.get(peer_id)
        if peer is None or peer.disconnecting:
            return self.take_effects()
        peer.last_message_at = now
        if self._admit(peer, message, now):
            handler = _HANDLERS.get(type(message))
            if handler is not None:
                handler(self, peer, message, now)
        return self.take_effects()

    def on_misbehaving(self, peer_id: int, error: PeerMisbehaving, now: float) -> list[Effect]:
        """A framing or decoding error from the peer's bytes, with Core's reaction."""
        self.now = now
        peer = self.peers.get(peer_id)
        if peer is not None and not peer.disconnecting:
            if error.discourage:
                self.misbehaving(peer, error.score, error.reason, now)
            elif error.disconnect:
                self.disconnect(peer, error.reason)
        return self.take_effects()

    def on_tick(self, now: float) -> list[Effect]:
        """Timers: handshake, ping and inactivity timeouts, stalling, trickled invs."""
        self.now = now
        for peer in tuple(self.peers.values()):
            if not peer.disconnecting:
                handshake.check_timeouts(self, peer, now)
            if not peer.disconnecting and peer.connected:
                sync.on_tick(self, peer, now)
        relay.on_tick(self, now)
        sync.request_blocks_from_all(self, now)
        return self.take_effects()

    def on_disconnected(self, peer_id: int) -> list[Effect]:
        """The connection is closed; its in-flight requests go to other peers."""
        peer = self.peers.pop(peer_id, None)
        if peer is not None:
            sync.release_sync_slot(self, peer)
            self.download.forget_peer(peer)
            self.relay.forget_peer(self, peer, self.now)
            sync.request_blocks_from_all(self, self.now)
        return self.take_effects()

    def on_node_event(self, event: NodeEvent) -> list[Effect]:
        """A chain or mempool change published by the node: announce it."""
        announce.on_node_event(self, event)
        relay.on_node_event(self, event)
        return self.take_effects()

    # -- helpers for the handlers ---------------------------------------------------------

    def take_effects(self) -> list[Effect]:
        effects, self.outbox = self.outbox, []
        return effects

    def send(self, peer: PeerState, message: OutboundMessage) -> None:
        if not peer.disconnecting:
            self.outbox.append(SendMessage(peer.id, message))

    def disconnect(self, peer: PeerState, reason: str) -> None:
        if not peer.disconnecting:
            peer.disconnecting = True
            log.debug("disconnecting peer %d (%s): %s", peer.id, peer.addr, reason)
            self.outbox.append(DisconnectPeer(peer.id, reason))

    def misbehaving(self, peer: PeerState, score: int, reason: str, now: float) -> None:
        """Core's Misbehaving + MaybeDiscourageAndDisconnect: at DISCOURAGE_SCORE the peer is
        disconnected and its address banned for 24 h, except that manual connections are
        never punished and local addresses are disconnected but not banned (as in Core)."""
        if score <= 0:
            return
        before = peer.misbehavior_score
        peer.misbehavior_score += score
        log.debug("peer %d misbehaving (+%d -> %d): %s", peer.id, score, before + score, reason)
        if before >= DISCOURAGE_SCORE or peer.misbehavior_score < DISCOURAGE_SCORE:
            return
        if peer.is_manual:
            log.warning("not punishing manually connected peer %d (%s)", peer.id, reason)
            return
        if not is_local_host(peer.addr.host):
            until = int(now) + DEFAULT_MISBEHAVING_BANTIME
            self.outbox.append(BanAddress(peer.addr.host, until, reason))
        self.disconnect(peer, reason)

    def _admit(self, peer: PeerState, message: object, now: float) -> bool:
        """Core's handshake gate: version first, then only negotiation until verack."""
        if peer.handshake is Handshake.AWAITING_VERSION and not isinstance(message, VersionMessage):
            self.misbehaving(peer, PRE_HANDSHAKE_SCORE, "non-version-before-handshake", now)
            return False
        if peer.handshake is Handshake.AWAITING_VERACK and not isinstance(message, _NEGOTIATION):
            self.misbehaving(peer, PRE_HANDSHAKE_SCORE, "message-before-verack", now)
            return False
        return True


_HANDLERS: dict[type, Handler] = {
    **handshake.HANDLERS,
    **sync.HANDLERS,
    **relay.HANDLERS,
    **addr.HANDLERS,
}
