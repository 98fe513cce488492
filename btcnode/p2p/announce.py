"""Announcing new tips to peers (Core's UpdatedBlockTip and the block-announcement part of
SendMessages).

On every tip change the hashes of the newly connected blocks (at most
MAX_BLOCKS_TO_ANNOUNCE, oldest first) are offered to every connected peer:

- a peer that sent `sendheaders` (BIP130) gets a `headers` message starting at the first
  block it does not have, provided the run connects to a header it has (its best known
  block or the last header we sent it); otherwise
- it gets an `inv` of the tip alone, unless it already has that header.

"Has the header" is Core's PeerHasHeader, which is also why the peer that sent us a block
is not sent it back: its best known block is that block or a descendant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from btcnode.node import BlockConnected, NodeEvent, TipChanged
from btcnode.p2p.messages import HeadersMessage, InvMessage, InvType, InvVector
from btcnode.p2p.peer import PeerState

if TYPE_CHECKING:
    from btcnode.p2p.processor import NetProcessor

__all__ = ["MAX_BLOCKS_TO_ANNOUNCE", "on_node_event", "peer_has_header"]

MAX_BLOCKS_TO_ANNOUNCE = 8  # Core: more new blocks than this are left to the peer's sync


def on_node_event(p: NetProcessor, event: NodeEvent) -> None:
    if isinstance(event, BlockConnected):
        p.connected_blocks.append(event.block.hash)
        del p.connected_blocks[:-MAX_BLOCKS_TO_ANNOUNCE]
    elif isinstance(event, TipChanged):
        hashes = p.connected_blocks[-MAX_BLOCKS_TO_ANNOUNCE:]
        p.connected_blocks = []
        if not hashes:
            return
        for peer in tuple(p.peers.values()):
            if peer.connected and not peer.disconnecting:
                peer.headers_to_announce.extend(hashes)
                send_block_announcements(p, peer)


def peer_has_header(p: NetProcessor, peer: PeerState, block_hash: bytes, height: int) -> bool:
    """Core's PeerHasHeader: the block is an ancestor of what the peer told us or we sent."""
    for known in (peer.best_known_hash, peer.best_header_sent):
        if known is not None and p.headers.ancestor(known, height) == block_hash:
            return True
    return False


def send_block_announcements(p: NetProcessor, peer: PeerState) -> None:
    hashes = peer.headers_to_announce
    peer.headers_to_announce = []
    headers = _headers_to_send(p, peer, hashes) if peer.prefer_headers else None
    if headers is not None:
        if headers:
            p.send(peer, HeadersMessage(tuple(headers)))
            peer.best_header_sent = headers[-1].hash
        return
    tip_hash = hashes[-1]
    entry = p.node.chainstate.get_index(tip_hash)
    if entry is not None and not peer_has_header(p, peer, tip_hash, entry.height):
        p.send(peer, InvMessage((InvVector(InvType.MSG_BLOCK, tip_hash),)))


def _headers_to_send(p: NetProcessor, peer: PeerState, hashes: list[bytes]) -> list | None:
    """The headers announcement, or None to fall back to an inv (Core's fRevertToInv)."""
    if len(hashes) > MAX_BLOCKS_TO_ANNOUNCE:
        return None
    chainstate = p.node.chainstate
    headers = []
    previous: bytes | None = None
    found_start = False
    for block_hash in hashes:
        entry = chainstate.get_index(block_hash)
        if entry is None or not chainstate.is_on_active_chain(block_hash):
            return None  # reorganised away meanwhile
        if previous is not None and entry.prev_hash != previous:
            return None  # not a connected run
        previous = block_hash
        if found_start:
            headers.append(entry.header)
        elif peer_has_header(p, peer, block_hash, entry.height):
            continue
        elif entry.height == 0 or peer_has_header(p, peer, entry.prev_hash, entry.height - 1):
            found_start = True
            headers.append(entry.header)
        else:
            return None  # the peer lacks the parent: it would not connect
    return headers
