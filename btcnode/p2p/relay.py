"""Transaction relay and inventory: inv / getdata / tx / notfound / mempool (Core's INV,
GETDATA, TX and NOTFOUND handlers, a simple TxRequestTracker, and the trickled tx invs of
SendMessages).

- A new mempool transaction is queued for every peer that asked for transaction relay
  (version relay flag), does not know it already and whose feefilter (BIP133) it meets; the
  queues are flushed as `inv` on each tick (Core's trickle without its random delays):
  MSG_WTX by wtxid to wtxidrelay (BIP339) peers, MSG_TX by txid to the others.
- An announced unknown transaction is requested from its first announcer (at most 100 in
  flight per peer); on notfound, timeout or disconnect the next announcer is asked.
- A received transaction goes to `Node.submit_transaction`; missing parents are requested
  from the sender; a consensus-invalid one costs the sender 100 points (Core's
  MaybePunishNodeForTx), a policy refusal nothing. Refused wtxids are not asked for again
  until the tip changes (Core's m_recent_rejects).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from btcnode.consensus.errors import TxResult
from btcnode.consensus.tx import Tx
from btcnode.mempool import Mempool
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.results import AcceptStatus
from btcnode.node import NodeEvent, TipChanged, TxAdded, TxRemoved
from btcnode.p2p import sync
from btcnode.p2p.errors import DISCOURAGE_SCORE
from btcnode.p2p.messages import (
    MAX_INV_SZ,
    GetDataMessage,
    InvMessage,
    InvType,
    InvVector,
    MempoolMessage,
    NotFoundMessage,
    TxMessage,
    UnknownMessage,
)
from btcnode.p2p.peer import BoundedSet, PeerState

if TYPE_CHECKING:
    from btcnode.p2p.processor import Handler, NetProcessor

__all__ = ["HANDLERS", "TxRelay", "on_node_event", "on_tick"]

MAX_PEER_TX_REQUEST_IN_FLIGHT = 100  # Core's txrequest limit per peer
MAX_PEER_TX_ANNOUNCEMENTS = 5000  # Core: announcements remembered per tx beyond the first
INVENTORY_BROADCAST_MAX = 1000  # Core: tx invs per peer per trickle
MAX_RECENT_REJECTS = 120_000  # Core's m_recent_rejects rolling filter size
_TX_TYPES = (InvType.MSG_TX, InvType.MSG_WTX, InvType.MSG_WITNESS_TX)


class TxRelay:
    """Which transactions are requested from whom, and what was recently refused."""

    __slots__ = ("announcers", "mempool", "recent_rejects", "requested", "wtxids")

    def __init__(self, mempool: Mempool) -> None:
        self.mempool = mempool
        self.requested: dict[bytes, int] = {}  # tx hash -> the peer asked for it
        self.announcers: dict[bytes, list[int]] = {}  # tx hash -> other peers that have it
        self.recent_rejects = BoundedSet(MAX_RECENT_REJECTS)
        self.wtxids = {entry.wtxid: entry.txid for entry in mempool.entries()}

    def have(self, tx_hash: bytes) -> bool:
        """Core's AlreadyHaveTx: in the pool (by txid or wtxid), an orphan, or refused."""
        return (
            tx_hash in self.mempool
            or tx_hash in self.wtxids
            or tx_hash in self.mempool.orphans
            or tx_hash in self.recent_rejects
        )

    def lookup(self, tx_hash: bytes) -> Tx | None:
        entry = self.mempool.get(self.wtxids.get(tx_hash, tx_hash))
        return None if entry is None else entry.tx

    def received(self, peer: PeerState, tx_hash: bytes) -> None:
        if self.requested.get(tx_hash) == peer.id:
            del self.requested[tx_hash]
            self.announcers.pop(tx_hash, None)
        peer.tx_in_flight.pop(tx_hash, None)

    def forget_peer(self, p: NetProcessor, peer: PeerState, now: float) -> None:
        for tx_hash in tuple(peer.tx_in_flight):
            retry_request(p, peer, tx_hash, now)


def _request(p: NetProcessor, peer: PeerState, tx_hash: bytes, now: float) -> InvVector | None:
    """Ask `peer` for `tx_hash` unless someone else was asked or it is at its limit."""
    relay = p.relay
    if tx_hash in relay.requested:
        others = relay.announcers.setdefault(tx_hash, [])
        if len(others) < MAX_PEER_TX_ANNOUNCEMENTS and peer.id not in others:
            others.append(peer.id)
        return None
    if len(peer.tx_in_flight) >= MAX_PEER_TX_REQUEST_IN_FLIGHT:
        return None
    relay.requested[tx_hash] = peer.id
    peer.tx_in_flight[tx_hash] = now
    kind = InvType.MSG_WTX if peer.wtxid_relay else InvType.MSG_WITNESS_TX
    return InvVector(kind, tx_hash)


def retry_request(p: NetProcessor, peer: PeerState, tx_hash: bytes, now: float) -> None:
    """The request to `peer` failed (notfound, timeout, disconnect): ask the next announcer."""
    relay = p.relay
    peer.tx_in_flight.pop(tx_hash, None)
    if relay.requested.get(tx_hash) != peer.id:
        return
    del relay.requested[tx_hash]
    others = relay.announcers.pop(tx_hash, [])
    for index, other_id in enumerate(others):
        other = p.peers.get(other_id)
        if other is None or other.disconnecting or relay.have(tx_hash):
            continue
        inv = _request(p, other, tx_hash, now)
        if inv is not None:
            if index + 1 < len(others):
                relay.announcers[tx_hash] = others[index + 1 :]
            p.send(other, GetDataMessage((inv,)))
            return


def handle_inv(p: NetProcessor, peer: PeerState, msg: InvMessage, now: float) -> None:
    wanted: list[InvVector] = []
    best_block: bytes | None = None
    for inv in msg.inventory:
        if inv.type == InvType.MSG_BLOCK:
            sync.update_block_availability(p, peer, inv.hash)
            if p.node.chainstate.get_index(inv.hash) is None:
                best_block = inv.hash
        elif inv.type in _TX_TYPES:
            # BIP339: a wtxidrelay peer announces by wtxid only, the others by txid only
            if peer.wtxid_relay != (inv.type == InvType.MSG_WTX):
                continue
            peer.known_inventory.add(inv.hash)
            if not p.relay.have(inv.hash):
                request = _request(p, peer, inv.hash, now)
                if request is not None:
                    wanted.append(request)
    if best_block is not None:
        sync.send_getheaders(p, peer, p.node.chainstate.best_header.hash, now)
    if wanted:
        p.send(peer, GetDataMessage(tuple(wanted)))


def handle_getdata(p: NetProcessor, peer: PeerState, msg: GetDataMessage, now: float) -> None:
    missing: list[InvVector] = []
    for inv in msg.inventory:
        if inv.type in (InvType.MSG_BLOCK, InvType.MSG_WITNESS_BLOCK):
            sync.serve_block(p, peer, inv)
        elif inv.type in _TX_TYPES:
            tx = p.relay.lookup(inv.hash)
            if tx is None:
                missing.append(inv)
            elif inv.type == InvType.MSG_TX:
                p.send(peer, UnknownMessage(TxMessage.command, tx.serialize(with_witness=False)))
            else:
                p.send(peer, TxMessage(tx))
    if missing:
        p.send(peer, NotFoundMessage(tuple(missing)))


def handle_notfound(p: NetProcessor, peer: PeerState, msg: NotFoundMessage, now: float) -> None:
    for inv in msg.inventory:
        if inv.type in _TX_TYPES and inv.hash in peer.tx_in_flight:
            retry_request(p, peer, inv.hash, now)


def handle_tx(p: NetProcessor, peer: PeerState, msg: TxMessage, now: float) -> None:
    tx = msg.tx
    relay = p.relay
    for tx_hash in (tx.txid, tx.wtxid):
        peer.known_inventory.add(tx_hash)
        relay.received(peer, tx_hash)
    if tx.txid in relay.mempool or tx.wtxid in relay.recent_rejects:
        return
    result = p.node.submit_transaction(tx, int(now))
    if result.accepted:
        return
    if result.status is AcceptStatus.ORPHAN:
        _request_parents(p, peer, tx, now)
        return
    relay.recent_rejects.add(tx.wtxid)
    error = result.error
    if error is not None and error.result is TxResult.CONSENSUS:
        p.misbehaving(peer, DISCOURAGE_SCORE, error.reject_reason, now)


def _request_parents(p: NetProcessor, peer: PeerState, tx: Tx, now: float) -> None:
    """Core: an orphan's missing parents are fetched by txid from the peer that sent it."""
    wanted: list[InvVector] = []
    for parent in {txin.prevout.txid for txin in tx.vin}:
        if p.relay.have(parent):
            continue
        if parent in p.relay.requested:
            continue
        p.relay.requested[parent] = peer.id
        peer.tx_in_flight[parent] = now
        wanted.append(InvVector(InvType.MSG_WITNESS_TX, parent))
    if wanted:
        p.send(peer, GetDataMessage(tuple(wanted)))


def handle_mempool(p: NetProcessor, peer: PeerState, msg: MempoolMessage, now: float) -> None:
    """BIP35 needs NODE_BLOOM here, which we do not offer: Core disconnects."""
    p.disconnect(peer, "mempool-without-bloom")


def on_node_event(p: NetProcessor, event: NodeEvent) -> None:
    relay = p.relay
    if isinstance(event, TxAdded):
        tx = event.tx
        relay.wtxids[tx.wtxid] = tx.txid
        _queue_announcement(p, tx, event.fee)
    elif isinstance(event, TxRemoved):
        relay.wtxids.pop(event.wtxid, None)
    elif isinstance(event, TipChanged):
        relay.recent_rejects.clear()  # Core: a new tip may make refused transactions valid


def _queue_announcement(p: NetProcessor, tx: Tx, fee: int) -> None:
    for peer in p.peers.values():
        if not peer.connected or not peer.relay_txs or peer.disconnecting:
            continue
        key = tx.wtxid if peer.wtxid_relay else tx.txid
        if key in peer.known_inventory:
            continue
        if peer.fee_filter and fee < FeeRate(peer.fee_filter).fee(tx.vsize):
            continue  # BIP133
        kind = InvType.MSG_WTX if peer.wtxid_relay else InvType.MSG_TX
        peer.tx_announce_queue[key] = (kind, tx.txid)


def on_tick(p: NetProcessor, now: float) -> None:
    """Flush queued tx invs; give up on transaction requests older than the timeout."""
    timeout = p.config.tx_request_timeout
    for peer in tuple(p.peers.values()):
        if peer.disconnecting:
            continue
        if peer.tx_announce_queue:
            _flush_announcements(p, peer)
        expired = [h for h, at in peer.tx_in_flight.items() if now - at > timeout]
        for tx_hash in expired:
            retry_request(p, peer, tx_hash, now)


def _flush_announcements(p: NetProcessor, peer: PeerState) -> None:
    queue = peer.tx_announce_queue
    inventory: list[InvVector] = []
    for key in tuple(queue)[:INVENTORY_BROADCAST_MAX]:
        kind, txid = queue.pop(key)
        if txid in p.relay.mempool and key not in peer.known_inventory:
            peer.known_inventory.add(key)
            inventory.append(InvVector(kind, key))
    for start in range(0, len(inventory), MAX_INV_SZ):
        p.send(peer, InvMessage(tuple(inventory[start : start + MAX_INV_SZ])))


HANDLERS: dict[type, Handler] = {
    InvMessage: handle_inv,
    GetDataMessage: handle_getdata,
    NotFoundMessage: handle_notfound,
    TxMessage: handle_tx,
    MempoolMessage: handle_mempool,
}
