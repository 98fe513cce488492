"""Block download scheduling for headers-first sync (Core's FindNextBlocksToDownload,
BlockRequested / RemoveBlockRequest and the stalling and download timeouts).

Sans-I/O bookkeeping over `PeerState`s: which block is in flight from which peer (each
block from at most one peer, so a sync spreads over peers), the next blocks a peer should
be asked for along its best known chain within the download window, and who blocks the
window. Invariant: `in_flight[h] == p.id` iff `h in p.blocks_in_flight`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from btcnode.chain import Chainstate
from btcnode.p2p.chainview import HeaderChain
from btcnode.p2p.config import BLOCK_DOWNLOAD_WINDOW
from btcnode.p2p.peer import PeerState

__all__ = [
    "BLOCK_DOWNLOAD_WINDOW",
    "MAX_BLOCKS_IN_TRANSIT_PER_PEER",
    "BlockDownload",
    "DownloadPlan",
]

MAX_BLOCKS_IN_TRANSIT_PER_PEER = 16  # Core's net_processing.cpp


@dataclass(frozen=True, slots=True)
class DownloadPlan:
    """The blocks to request from one peer (in height order) and the peer, if any, whose
    in-flight block keeps the window from moving (Core's `staller`)."""

    blocks: tuple[bytes, ...]
    staller: int | None


class BlockDownload:
    __slots__ = ("_chainstate", "_headers", "in_flight", "peers_downloading", "window")

    def __init__(
        self, chainstate: Chainstate, headers: HeaderChain, window: int = BLOCK_DOWNLOAD_WINDOW
    ) -> None:
        self._chainstate = chainstate
        self._headers = headers
        self.window = window
        self.in_flight: dict[bytes, int] = {}  # block hash -> peer id (Core's mapBlocksInFlight)
        self.peers_downloading = 0  # peers with at least one block in flight

    def requested(self, peer: PeerState, block_hash: bytes, now: float) -> None:
        """Record a getdata for `block_hash` sent to `peer` (Core's BlockRequested)."""
        if not peer.blocks_in_flight:
            peer.downloading_since = now
            self.peers_downloading += 1
        peer.blocks_in_flight[block_hash] = now
        self.in_flight[block_hash] = peer.id

    def received(self, peer: PeerState, block_hash: bytes, now: float) -> bool:
        """`peer` delivered `block_hash`; True if we had asked it for it (RemoveBlockRequest)."""
        if self.in_flight.get(block_hash) != peer.id:
            return False
        del self.in_flight[block_hash]
        was_first = next(iter(peer.blocks_in_flight)) == block_hash
        del peer.blocks_in_flight[block_hash]
        if was_first:
            # the next block's download time starts now (Core: m_downloading_since)
            peer.downloading_since = max(peer.downloading_since, now)
        peer.stalling_since = None
        if not peer.blocks_in_flight:
            self.peers_downloading -= 1
        return True

    def forget_peer(self, peer: PeerState) -> None:
        """The peer is gone: its blocks may be asked of others."""
        for block_hash in peer.blocks_in_flight:
            if self.in_flight.get(block_hash) == peer.id:
                del self.in_flight[block_hash]
        if peer.blocks_in_flight:
            self.peers_downloading -= 1
        peer.blocks_in_flight.clear()

    def plan(self, peer: PeerState, count: int) -> DownloadPlan:
        """Up to `count` blocks `peer` can give us next (Core's FindNextBlocksToDownload)."""
        chainstate = self._chainstate
        if count <= 0 or peer.best_known_hash is None:
            return DownloadPlan((), None)
        best = chainstate.get_index(peer.best_known_hash)
        tip = chainstate.tip
        if best is None or best.status.failed or best.chain_work < tip.chain_work:
            return DownloadPlan((), None)
        self._headers.refresh()
        ancestor = self._headers.ancestor_lookup(best, 0)
        common = self._last_common_height(peer, best.height, tip.height, ancestor)
        window_end = common + self.window
        max_height = min(best.height, window_end + 1)
        blocks: list[bytes] = []
        waiting_for: int | None = None
        for height in range(common + 1, max_height + 1):
            block_hash = ancestor(height)
            holder = self.in_flight.get(block_hash)
            if holder is not None:
                if waiting_for is None:
                    waiting_for = holder
                continue
            entry = chainstate.get_index(block_hash)
            if entry is None or entry.status.failed:
                break  # Core: !IsValid(BLOCK_VALID_TREE) ends the walk
            if chainstate.is_on_active_chain(block_hash):
                peer.last_common_height = height
                continue
            if entry.status.have_data:
                continue
            if height > window_end:
                if not blocks and waiting_for is not None and waiting_for != peer.id:
                    return DownloadPlan((), waiting_for)
                break
            blocks.append(block_hash)
            if len(blocks) == count:
                break
        return DownloadPlan(tuple(blocks), None)

    def _last_common_height(
        self,
        peer: PeerState,
        best_height: int,
        tip_height: int,
        ancestor: Callable[[int], bytes],
    ) -> int:
        """The highest block of `peer`'s best chain on our active chain (pindexLastCommonBlock),
        starting from the remembered one and moving down past a reorganisation."""
        chainstate = self._chainstate
        height = peer.last_common_height
        if height is None:
            height = min(best_height, tip_height)
        height = min(height, best_height, tip_height)
        while height > 0 and not chainstate.is_on_active_chain(ancestor(height)):
            height -= 1
        peer.last_common_height = height
        return height
