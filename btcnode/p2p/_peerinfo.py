"""getpeerinfo's view of one connection: the connection's counters and the core's state."""

from __future__ import annotations

from btcnode.chain import Chainstate
from btcnode.p2p._connection import Connection
from btcnode.p2p.control import PeerInfo
from btcnode.p2p.peer import PeerState

__all__ = ["peer_info"]


def _height(chainstate: Chainstate, block_hash: bytes | None) -> int:
    entry = None if block_hash is None else chainstate.get_index(block_hash)
    return -1 if entry is None else entry.height


def peer_info(conn: Connection, state: PeerState, chainstate: Chainstate) -> PeerInfo:
    version = state.version
    inflight = tuple(sorted(_height(chainstate, h) for h in state.blocks_in_flight))
    return PeerInfo(
        id=conn.peer_id,
        addr=str(conn.addr),
        addrbind=str(conn.local),
        services=state.services,
        relaytxes=state.relay_txs,
        lastsend=int(conn.last_send),
        lastrecv=int(conn.last_recv),
        bytessent=conn.bytes_sent,
        bytesrecv=conn.bytes_recv,
        conntime=int(conn.conntime),
        timeoffset=0 if version is None else int(version.timestamp - state.connected_at),
        pingtime=state.ping_time,
        minping=state.min_ping,
        version=0 if version is None else version.version,
        subver=("" if version is None else version.user_agent.decode("utf-8", "replace")),
        inbound=conn.inbound,
        startingheight=-1 if version is None else version.start_height,
        synced_headers=_height(chainstate, state.best_known_hash),
        synced_blocks=-1 if state.last_common_height is None else state.last_common_height,
        inflight=inflight,
        connection_type=state.connection_type,
        misbehavior_score=state.misbehavior_score,
    )
