"""Headers-first sync decisions of the core: which getdata goes out for a headers message,
in-flight limits, spreading over peers, re-requests after a timeout, stalling, and serving
getheaders / getdata."""

from __future__ import annotations

import pytest

from btcnode.consensus.block import Block
from btcnode.p2p.config import P2PConfig
from btcnode.p2p.download import MAX_BLOCKS_IN_TRANSIT_PER_PEER
from btcnode.p2p.messages import (
    MAX_HEADERS_RESULTS,
    PROTOCOL_VERSION,
    BlockMessage,
    GetDataMessage,
    GetHeadersMessage,
    HeadersMessage,
    InvType,
    InvVector,
    RawBlockMessage,
)
from tests.btcnode.p2p.corekit import NOW, Harness, disconnects, header_chain, of_type, sent
from tests.btcnode.scenarios.helpers import T0, key, new_node, p2wpkh

MINER = key("sync miner")


@pytest.fixture(scope="module")
def chain() -> list[Block]:
    return new_node().generate(40, p2wpkh(MINER), T0)


def _requested(effects: list, peer_id: int | None = None) -> list[bytes]:
    return [
        inv.hash
        for message in sent(effects, peer_id)
        if isinstance(message, GetDataMessage)
        for inv in message.inventory
        if inv.type == InvType.MSG_WITNESS_BLOCK
    ]


def _headers(blocks: list[Block]) -> HeadersMessage:
    return HeadersMessage(tuple(b.header for b in blocks))


def test_headers_lead_to_witness_block_requests_16_per_peer_spread_over_peers(
    chain: list[Block],
) -> None:
    h = Harness()
    h.handshake(1)
    h.handshake(2)
    first = h.deliver(1, _headers(chain[:20]))
    assert _requested(first, 1) == [b.hash for b in chain[:MAX_BLOCKS_IN_TRANSIT_PER_PEER]]
    second = h.deliver(2, _headers(chain[:20]))
    assert _requested(second, 2) == [b.hash for b in chain[16:20]]  # the rest, not the same
    assert h.core.download.in_flight[chain[0].hash] == 1
    assert h.core.download.in_flight[chain[19].hash] == 2


def test_a_delivered_block_is_submitted_and_frees_one_slot(chain: list[Block]) -> None:
    h = Harness()
    h.handshake(1)
    h.deliver(1, _headers(chain[:30]))
    effects = h.deliver(1, BlockMessage(chain[0]))
    assert h.node.chainstate.tip_hash == chain[0].hash
    assert _requested(effects, 1) == [chain[16].hash]
    out_of_order = h.deliver(1, BlockMessage(chain[2]))  # its header is indexed: stored
    assert _requested(out_of_order, 1) == [chain[17].hash]
    h.deliver(1, BlockMessage(chain[1]))
    assert h.node.chainstate.tip_height == 3


def test_a_full_headers_message_asks_for_the_next_batch() -> None:
    h = Harness()
    h.handshake(1)
    genesis = h.node.chainstate.get_header(h.node.chainstate.tip_hash)
    assert genesis is not None
    run = header_chain(genesis, MAX_HEADERS_RESULTS)
    effects = h.deliver(1, HeadersMessage(tuple(run)))
    (more,) = of_type(effects, GetHeadersMessage)
    assert more.locator[0] == run[-1].hash and more.hash_stop == bytes(32)
    assert h.node.chainstate.best_header.height == MAX_HEADERS_RESULTS
    assert len(_requested(effects, 1)) == MAX_BLOCKS_IN_TRANSIT_PER_PEER


def test_a_short_headers_message_ends_the_sync_round(chain: list[Block]) -> None:
    h = Harness()
    h.handshake(1)
    effects = h.deliver(1, _headers(chain[:5]))
    assert of_type(effects, GetHeadersMessage) == []
    assert h.peer(1).best_known_hash == chain[4].hash


def test_blocks_timed_out_at_one_peer_are_requested_from_another(chain: list[Block]) -> None:
    config = P2PConfig(block_download_timeout=30.0, block_download_timeout_per_peer=10.0)
    h = Harness(config=config)
    h.handshake(1)
    h.handshake(2)
    h.deliver(1, _headers(chain[:20]))
    h.deliver(2, _headers(chain[:20]))
    h.deliver(2, *(BlockMessage(b) for b in chain[16:20]))  # peer 2 delivers its share
    assert h.core.download.peers_downloading == 1
    assert disconnects(h.tick(30.0)) == []  # 30 s, plus 10 s per other downloading peer
    (dropped,) = disconnects(h.tick(1.0))
    assert (dropped.peer_id, dropped.reason) == (1, "block-download-timeout")
    again = h.core.on_disconnected(1)
    assert _requested(again, 2) == [b.hash for b in chain[:16]]


def test_a_peer_blocking_the_window_is_disconnected_and_the_timeout_doubles(
    chain: list[Block],
) -> None:
    h = Harness(config=P2PConfig(block_download_window=4, block_stalling_timeout=2.0))
    h.handshake(1)
    h.handshake(2)
    assert len(_requested(h.deliver(1, _headers(chain[:10])), 1)) == 4  # the whole window
    assert _requested(h.deliver(2, _headers(chain[:10])), 2) == []  # nothing within it
    assert h.peer(1).stalling_since == h.now
    assert disconnects(h.tick(2.0)) == []
    (dropped,) = disconnects(h.tick(0.1))
    assert (dropped.peer_id, dropped.reason) == (1, "block-download-stalling")
    assert h.core.stalling_timeout == 4.0
    assert _requested(h.core.on_disconnected(1), 2) == [b.hash for b in chain[:4]]


def test_a_delivering_peer_is_not_a_staller(chain: list[Block]) -> None:
    h = Harness(config=P2PConfig(block_download_window=4))
    h.handshake(1)
    h.handshake(2)
    h.deliver(1, _headers(chain[:10]))
    h.deliver(2, _headers(chain[:10]))
    started = h.now
    assert h.peer(1).stalling_since == started
    h.tick(1.0)
    h.deliver(1, BlockMessage(chain[0]))  # the window moves: the stall clock starts over
    assert h.peer(1).stalling_since == started + 1.0
    assert disconnects(h.tick(1.5)) == []  # 2.5 s after the first stall, 1.5 s after this one


def test_getheaders_is_served_from_the_fork_point_up_to_hash_stop(chain: list[Block]) -> None:
    h = Harness()
    for block in chain[:30]:
        h.node.submit_block(block, T0)
    h.handshake(1)
    locator = (chain[9].hash, h.node.chainstate.block_hash_at(0))
    (reply,) = of_type(
        h.deliver(1, GetHeadersMessage(PROTOCOL_VERSION, locator, bytes(32))), HeadersMessage
    )
    assert [x.hash for x in reply.headers] == [b.hash for b in chain[10:30]]
    stop = GetHeadersMessage(PROTOCOL_VERSION, locator, chain[14].hash)
    (short,) = of_type(h.deliver(1, stop), HeadersMessage)
    assert [x.hash for x in short.headers] == [b.hash for b in chain[10:15]]
    at_tip = GetHeadersMessage(PROTOCOL_VERSION, (chain[29].hash,), bytes(32))
    assert of_type(h.deliver(1, at_tip), HeadersMessage) == [HeadersMessage(())]
    assert h.peer(1).best_header_sent == chain[29].hash


def test_getdata_for_blocks_sends_the_stored_bytes_and_strips_witness_for_msg_block(
    chain: list[Block],
) -> None:
    h = Harness()
    for block in chain[:3]:
        h.node.submit_block(block, T0)
    h.handshake(1)
    wanted = GetDataMessage(
        (
            InvVector(InvType.MSG_WITNESS_BLOCK, chain[1].hash),
            InvVector(InvType.MSG_BLOCK, chain[2].hash),
            InvVector(InvType.MSG_WITNESS_BLOCK, bytes(32)),  # unknown: no answer, as Core
        )
    )
    witness, stripped = of_type(h.deliver(1, wanted), RawBlockMessage)
    assert witness.payload == h.node.chainstate.get_raw_block(chain[1].hash)
    assert stripped.payload == chain[2].serialize(with_witness=False)


def test_initial_sync_starts_with_one_peer_and_moves_on_when_it_has_no_more() -> None:
    h = Harness(now=NOW + 2 * 86_400)  # our best header is over a day old: one sync peer
    first = h.handshake(1, inbound=False)
    second = h.handshake(2, inbound=False)
    assert len(of_type(first, GetHeadersMessage)) == 1
    assert of_type(second, GetHeadersMessage) == []  # one initial sync at a time (Core)
    assert of_type(h.tick(1.0), GetHeadersMessage) == []
    h.deliver(1, HeadersMessage(()))  # peer 1 has nothing beyond our tip
    (ask,) = of_type(h.tick(1.0), GetHeadersMessage)
    assert h.core.sync_started == 1 and h.peer(2).sync_started
    assert ask.locator == (h.node.chainstate.tip_hash,)
