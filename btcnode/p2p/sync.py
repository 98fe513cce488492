"""Headers-first sync: getheaders / headers, block download and serving (Core's
ProcessHeadersMessage, the BLOCK / GETHEADERS / GETBLOCKS handlers, ProcessGetBlockData
and the block part of SendMessages).

- Sync starts with one peer (Core's nSyncStarted == 0 rule; every peer once our best
  header is less than a day old): getheaders with the locator of our best header's parent.
- A `headers` message must be continuous (else Misbehaving); one that does not connect to
  a known header is answered with getheaders (Core's unconnecting-headers handling, every
  tenth such message costs 20 points). Accepted headers move the peer's best known block;
  a full message (2000) asks for the next batch.
- Blocks are requested with MSG_WITNESS_BLOCK along each peer's best known chain (at most
  16 in flight per peer, 1024-block window, see `download`) and go to `Node.submit_block`
  with their received bytes. Unrequested blocks are processed only if they would extend a
  chain with at least our tip's work, as Core's AcceptBlock does; invalid blocks and
  headers penalise their sender by Core's MaybePunishNodeForBlock.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from btcnode.chain import BlockOutcome, Validity
from btcnode.consensus.block import Block
from btcnode.consensus.errors import BlockResult, BlockValidationError
from btcnode.consensus.pow_target import block_proof
from btcnode.p2p.download import MAX_BLOCKS_IN_TRANSIT_PER_PEER
from btcnode.p2p.errors import DISCOURAGE_SCORE
from btcnode.p2p.messages import (
    MAX_HEADERS_RESULTS,
    PROTOCOL_VERSION,
    BlockMessage,
    GetBlocksMessage,
    GetDataMessage,
    GetHeadersMessage,
    HeadersMessage,
    InvMessage,
    InvType,
    InvVector,
    RawBlockMessage,
)
from btcnode.p2p.netaddr import ServiceFlags
from btcnode.p2p.peer import PeerState

if TYPE_CHECKING:
    from btcnode.p2p.processor import Handler, NetProcessor

__all__ = ["HANDLERS", "request_blocks", "request_blocks_from_all"]

MAX_UNCONNECTING_HEADERS = 10  # Core's MAX_NUM_UNCONNECTING_HEADERS_MSGS
UNCONNECTING_HEADERS_SCORE = 20  # Core's Misbehaving(20) at every tenth one
MISSING_PREV_SCORE = 10  # Core's BLOCK_MISSING_PREV penalty
MAX_BLOCKS_TO_KEEP_AHEAD = 288  # Core's MIN_BLOCKS_TO_KEEP: unrequested blocks beyond are ignored
MAX_GETBLOCKS_RESULTS = 500  # Core's getblocks answer limit
MAX_TIP_AGE_FOR_FULL_SYNC = 24 * 60 * 60  # Core: a recent best header syncs from every peer
MAX_BLOCK_SOURCES = 4096  # blocks received and not yet connected whose sender we remember
ZERO_HASH = bytes(32)
_CAN_SERVE_BLOCKS = ServiceFlags.NODE_NETWORK | ServiceFlags.NODE_NETWORK_LIMITED


def maybe_start_sync(p: NetProcessor, peer: PeerState, now: float) -> None:
    """Core's "Start block sync" in SendMessages."""
    if peer.sync_started or not peer.services & _CAN_SERVE_BLOCKS:
        return
    best = p.node.chainstate.best_header
    preferred = not peer.inbound or not any(
        not other.inbound and other.connected for other in p.peers.values()
    )
    recent = best.time > now - MAX_TIP_AGE_FOR_FULL_SYNC
    if (p.sync_started == 0 and preferred) or recent:
        peer.sync_started = peer.sync_slot = True
        p.sync_started += 1
        start = best.prev_hash if best.height > 0 else best.hash
        send_getheaders(p, peer, start, now)


def send_getheaders(p: NetProcessor, peer: PeerState, from_hash: bytes, now: float) -> bool:
    """Core's MaybeSendGetHeaders: one getheaders in flight per peer (HEADERS_RESPONSE_TIME)."""
    sent_at = peer.getheaders_sent_at
    if sent_at is not None and now - sent_at < p.config.headers_response_time:
        return False
    locator = tuple(p.node.chainstate.locator(from_hash))
    p.send(peer, GetHeadersMessage(PROTOCOL_VERSION, locator, ZERO_HASH))
    peer.getheaders_sent_at = now
    return True


def release_sync_slot(p: NetProcessor, peer: PeerState) -> None:
    """The peer has no more headers for us: another peer may start its initial sync.

    Core keeps the slot until the sync peer disconnects or its headers-sync timeout fires;
    freeing it once the peer has sent its last headers lets a second peer be asked at once
    when the first one had less (a regtest node is often synced against an empty peer)."""
    if peer.sync_slot:
        peer.sync_slot = False
        p.sync_started -= 1


def update_block_availability(p: NetProcessor, peer: PeerState, block_hash: bytes) -> None:
    """Core's UpdateBlockAvailability: the peer has `block_hash` and its ancestors."""
    chainstate = p.node.chainstate
    entry = chainstate.get_index(block_hash)
    if entry is None:
        peer.last_unknown_block = block_hash
        return
    known = None if peer.best_known_hash is None else chainstate.get_index(peer.best_known_hash)
    if known is None or entry.chain_work >= known.chain_work:
        peer.best_known_hash = block_hash


def process_block_availability(p: NetProcessor, peer: PeerState) -> None:
    """Core's ProcessBlockAvailability: an announced unknown block whose header arrived."""
    unknown = peer.last_unknown_block
    if unknown is not None and p.node.chainstate.get_index(unknown) is not None:
        peer.last_unknown_block = None
        update_block_availability(p, peer, unknown)


def handle_headers(p: NetProcessor, peer: PeerState, msg: HeadersMessage, now: float) -> None:
    peer.getheaders_sent_at = None  # taken as the answer to our getheaders
    headers = msg.headers
    if len(headers) < MAX_HEADERS_RESULTS:
        release_sync_slot(p, peer)
    if not headers:
        return
    for prev, header in itertools.pairwise(headers):
        if header.prev_block != prev.hash:
            p.misbehaving(peer, DISCOURAGE_SCORE, "non-continuous-headers", now)
            return
    chainstate = p.node.chainstate
    if chainstate.get_index(headers[0].prev_block) is None:
        _handle_unconnecting(p, peer, msg, now)
        return
    peer.unconnecting_headers = 0
    try:
        entries = chainstate.accept_headers(headers, int(now))
    except BlockValidationError as err:
        punish_for_block(p, peer, err, now)
        for header in reversed(headers):  # the headers before the bad one stay accepted
            if chainstate.get_index(header.hash) is not None:
                update_block_availability(p, peer, header.hash)
                break
        return
    last = entries[-1]
    process_block_availability(p, peer)
    update_block_availability(p, peer, last.hash)
    if len(headers) == MAX_HEADERS_RESULTS:
        send_getheaders(p, peer, last.hash, now)
    request_blocks(p, peer, now)


def _handle_unconnecting(p: NetProcessor, peer: PeerState, msg: HeadersMessage, now: float) -> None:
    """Core's HandleUnconnectingHeaders: ask for the gap, remember the tip, count it."""
    send_getheaders(p, peer, p.node.chainstate.best_header.hash, now)
    peer.last_unknown_block = msg.headers[-1].hash
    peer.unconnecting_headers += 1
    if peer.unconnecting_headers % MAX_UNCONNECTING_HEADERS == 0:
        p.misbehaving(peer, UNCONNECTING_HEADERS_SCORE, "unconnecting-headers", now)


def punish_for_block(
    p: NetProcessor, peer: PeerState, err: BlockValidationError, now: float
) -> None:
    """Core's MaybePunishNodeForBlock."""
    result = err.result
    # Core discourages outbound peers only for a block already known invalid
    cached_invalid = result is BlockResult.CACHED_INVALID and not peer.inbound
    if result in _INVALID_DATA or cached_invalid:
        p.misbehaving(peer, DISCOURAGE_SCORE, err.reject_reason, now)
    elif result is BlockResult.MISSING_PREV:
        p.misbehaving(peer, MISSING_PREV_SCORE, err.reject_reason, now)


_INVALID_DATA = (  # the peer sent bytes that break the rules
    BlockResult.CONSENSUS,
    BlockResult.MUTATED,
    BlockResult.INVALID_HEADER,
    BlockResult.INVALID_PREV,
)


def handle_block(p: NetProcessor, peer: PeerState, msg: BlockMessage, now: float) -> None:
    block = msg.block
    block_hash = block.hash
    requested = p.download.received(peer, block_hash, now)
    if requested:  # the window moved: a stall is over, so the timeout relaxes (Core: x0.85)
        p.stalling_timeout = max(p.config.block_stalling_timeout, p.stalling_timeout * 0.85)
    requested = requested or block_hash in p.download.in_flight
    chainstate = p.node.chainstate
    known = chainstate.get_index(block_hash)
    if known is not None and known.status.have_data:
        request_blocks_from_all(p, now)
        return
    if not requested and not _worth_processing(p, peer, block, now):
        return
    _submit_block(p, peer, block, msg.serialize(), now)
    update_block_availability(p, peer, block_hash)
    request_blocks_from_all(p, now)


def _worth_processing(p: NetProcessor, peer: PeerState, block: Block, now: float) -> bool:
    """Core's AcceptBlock for an unrequested block: only a new best chain, not too far ahead."""
    chainstate = p.node.chainstate
    prev = chainstate.get_index(block.header.prev_block)
    if prev is None:
        p.misbehaving(peer, MISSING_PREV_SCORE, "prev-blk-not-found", now)
        send_getheaders(p, peer, chainstate.best_header.hash, now)
        return False
    tip = chainstate.tip
    if prev.chain_work + block_proof(block.header.bits) < tip.chain_work:
        return False
    return prev.height + 1 <= chainstate.tip_height + MAX_BLOCKS_TO_KEEP_AHEAD


def _submit_block(p: NetProcessor, peer: PeerState, block: Block, raw: bytes, now: float) -> None:
    sources = p.block_sources
    sources[block.hash] = peer.id
    if len(sources) > MAX_BLOCK_SOURCES:
        sources.popitem(last=False)
    try:
        update = p.node.submit_block(block, int(now), raw=raw)
    except BlockValidationError as err:
        sources.pop(block.hash, None)
        punish_for_block(p, peer, err, now)
        return
    if isinstance(update, BlockOutcome):
        return
    for invalid in update.invalid:
        source_id = sources.pop(invalid.hash, None)
        source = None if source_id is None else p.peers.get(source_id)
        if source is not None:
            punish_for_block(p, source, invalid.error, now)
    for connected in update.connected:
        sources.pop(connected.hash, None)


def request_blocks(p: NetProcessor, peer: PeerState, now: float) -> None:
    """getdata for the next blocks `peer` can give us; start the staller's clock if the
    window is blocked by another peer (Core's SendMessages block download section)."""
    if not peer.connected or peer.disconnecting or not peer.can_serve_witness_blocks:
        return
    room = MAX_BLOCKS_IN_TRANSIT_PER_PEER - len(peer.blocks_in_flight)
    if room <= 0:
        return
    plan = p.download.plan(peer, room)
    if plan.blocks:
        for block_hash in plan.blocks:
            p.download.requested(peer, block_hash, now)
        inventory = tuple(InvVector(InvType.MSG_WITNESS_BLOCK, h) for h in plan.blocks)
        p.send(peer, GetDataMessage(inventory))
    if not peer.blocks_in_flight and plan.staller is not None:
        staller = p.peers.get(plan.staller)
        if staller is not None and staller.stalling_since is None:
            staller.stalling_since = now


def request_blocks_from_all(p: NetProcessor, now: float) -> None:
    for peer in tuple(p.peers.values()):
        if len(peer.blocks_in_flight) < MAX_BLOCKS_IN_TRANSIT_PER_PEER:
            request_blocks(p, peer, now)


def on_tick(p: NetProcessor, peer: PeerState, now: float) -> None:
    """Start sync if due; disconnect a staller or a peer too slow with its oldest block."""
    maybe_start_sync(p, peer, now)
    config = p.config
    if peer.stalling_since is not None and now - peer.stalling_since > p.stalling_timeout:
        p.disconnect(peer, "block-download-stalling")
        p.stalling_timeout = min(2 * p.stalling_timeout, config.block_stalling_timeout_max)
        return
    if peer.blocks_in_flight:
        others = max(p.download.peers_downloading - 1, 0)
        allowed = config.block_download_timeout + config.block_download_timeout_per_peer * others
        if now > peer.downloading_since + allowed:
            p.disconnect(peer, "block-download-timeout")


def handle_getheaders(p: NetProcessor, peer: PeerState, msg: GetHeadersMessage, now: float) -> None:
    """Core's GETHEADERS: from the fork point of the locator along the active chain, at most
    2000 headers, ending early at hash_stop; an empty locator asks for hash_stop alone."""
    chainstate = p.node.chainstate
    if not msg.locator:
        entry = chainstate.get_index(msg.hash_stop)
        if entry is None or not chainstate.is_on_active_chain(msg.hash_stop):
            return
        headers = [entry.header]
    else:
        headers = []
        height = chainstate.find_fork(msg.locator).height + 1
        tip_height = chainstate.tip_height
        while height <= tip_height and len(headers) < MAX_HEADERS_RESULTS:
            block_hash = chainstate.block_hash_at(height)
            header = chainstate.get_header(block_hash)
            assert header is not None
            headers.append(header)
            if block_hash == msg.hash_stop:
                break
            height += 1
    peer.best_header_sent = headers[-1].hash if headers else chainstate.tip_hash
    p.send(peer, HeadersMessage(tuple(headers)))


def handle_getblocks(p: NetProcessor, peer: PeerState, msg: GetBlocksMessage, now: float) -> None:
    """Core's GETBLOCKS: an inv of up to 500 active-chain blocks after the fork point."""
    chainstate = p.node.chainstate
    height = chainstate.find_fork(msg.locator).height + 1
    inventory: list[InvVector] = []
    while height <= chainstate.tip_height and len(inventory) < MAX_GETBLOCKS_RESULTS:
        block_hash = chainstate.block_hash_at(height)
        if block_hash == msg.hash_stop:
            break
        inventory.append(InvVector(InvType.MSG_BLOCK, block_hash))
        height += 1
    if inventory:
        p.send(peer, InvMessage(tuple(inventory)))


def serve_block(p: NetProcessor, peer: PeerState, inv: InvVector) -> None:
    """Core's ProcessGetBlockData: blocks on the active chain or fully validated, sent from
    the stored bytes; MSG_BLOCK without the witness flag gets the stripped serialization.
    Unknown blocks are not answered (Core sends no notfound for blocks)."""
    chainstate = p.node.chainstate
    entry = chainstate.get_index(inv.hash)
    if entry is None or not entry.status.have_data or entry.status.failed:
        return
    if entry.status.validity < Validity.SCRIPTS and not chainstate.is_on_active_chain(inv.hash):
        return  # Core's BlockRequestAllowed
    raw = chainstate.get_raw_block(inv.hash)
    if raw is None:
        return
    if inv.type == InvType.MSG_BLOCK:
        raw = Block.deserialize(raw).serialize(with_witness=False)
    p.send(peer, RawBlockMessage(raw))


HANDLERS: dict[type, Handler] = {
    HeadersMessage: handle_headers,
    BlockMessage: handle_block,
    GetHeadersMessage: handle_getheaders,
    GetBlocksMessage: handle_getblocks,
}
