"""Misbehaviour in the core: Core's penalties for bad headers, blocks, oversize counts and
framing errors, who gets banned (not local or manual peers), and address rate limits."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from btcnode.consensus.block import Block
from btcnode.p2p.control import DEFAULT_MISBEHAVING_BANTIME, ConnectionType
from btcnode.p2p.errors import FramingError
from btcnode.p2p.framing import FrameDecoder, encode_frame
from btcnode.p2p.messages import (
    MAX_ADDR_TO_SEND,
    MAX_INV_SZ,
    AddrMessage,
    AddrV2Message,
    BlockMessage,
    GetAddrMessage,
    GetHeadersMessage,
    HeadersMessage,
    MempoolMessage,
    PingMessage,
    VerackMessage,
)
from btcnode.p2p.netaddr import NetAddress, TimedNetAddress
from tests.btcnode.p2p.corekit import (
    REMOTE,
    SERVICES,
    Harness,
    bad_pow,
    bans,
    decode_error,
    disconnects,
    of_type,
    overpaying,
    peer_version,
    sent,
)
from tests.btcnode.scenarios.helpers import T0, key, new_node, p2wpkh

MAGIC = bytes.fromhex("fabfb5da")


@pytest.fixture(scope="module")
def chain() -> list[Block]:
    return new_node().generate(6, p2wpkh(key("misbehaviour")), T0)


def _banned_for(h: Harness, effects: list, reason: str) -> None:
    (ban,) = bans(effects)
    assert (ban.host, ban.reason) == (REMOTE, reason)
    assert ban.until == int(h.now) + DEFAULT_MISBEHAVING_BANTIME
    (dropped,) = disconnects(effects)
    assert (dropped.peer_id, dropped.reason) == (1, reason)


def test_non_continuous_headers_ban_the_peer(chain: list[Block]) -> None:
    h = Harness()
    h.handshake(1)
    gap = HeadersMessage((chain[0].header, chain[2].header))
    _banned_for(h, h.deliver(1, gap), "non-continuous-headers")
    assert h.node.chainstate.get_index(chain[0].hash) is None


def test_a_header_with_bad_proof_of_work_bans_and_is_not_indexed(chain: list[Block]) -> None:
    h = Harness()
    h.handshake(1)
    forged = bad_pow(chain[0].header)
    _banned_for(h, h.deliver(1, HeadersMessage((forged,))), "high-hash")
    assert h.node.chainstate.get_index(forged.hash) is None
    assert h.node.chainstate.best_header.height == 0


def test_unconnecting_headers_ask_for_the_gap_and_every_tenth_costs_20(
    chain: list[Block],
) -> None:
    h = Harness()
    h.handshake(1)
    for n in range(1, 11):
        h.peer(1).getheaders_sent_at = None
        effects = h.deliver(1, HeadersMessage((chain[3].header,)))
        (ask,) = of_type(effects, GetHeadersMessage)
        assert ask.locator == (h.node.chainstate.tip_hash,)
        assert h.peer(1).misbehavior_score == (20 if n == 10 else 0)
    assert h.peer(1).last_unknown_block == chain[3].hash


def test_a_block_that_does_not_match_its_header_bans_and_is_not_stored(
    chain: list[Block],
) -> None:
    h = Harness()
    h.handshake(1)
    h.deliver(1, HeadersMessage((chain[0].header,)))
    mutated = Block(chain[0].header, chain[1].txs)
    _banned_for(h, h.deliver(1, BlockMessage(mutated)), "bad-txnmrklroot")
    entry = h.node.chainstate.get_index(chain[0].hash)
    assert entry is not None and not entry.status.have_data
    assert h.node.chainstate.tip_height == 0


def test_a_block_failing_to_connect_bans_its_sender(chain: list[Block]) -> None:
    h = Harness()
    h.handshake(1)
    bad = overpaying(chain[0], 1)
    h.deliver(1, HeadersMessage((bad.header,)))
    _banned_for(h, h.deliver(1, BlockMessage(bad)), "bad-cb-amount")
    assert h.node.chainstate.tip_height == 0
    entry = h.node.chainstate.get_index(bad.hash)
    assert entry is not None and entry.status.failed


def test_unrequested_blocks_extending_the_tip_are_taken_others_ignored(
    chain: list[Block],
) -> None:
    h = Harness()
    h.handshake(1)
    h.deliver(1, BlockMessage(chain[0]), BlockMessage(chain[1]))  # pushed unannounced
    assert h.node.chainstate.tip_hash == chain[1].hash
    stale = overpaying(chain[0], -1)  # a sibling of block 1: less work than the tip
    assert stale.hash != chain[0].hash
    assert h.deliver(1, BlockMessage(stale)) == []
    assert h.node.chainstate.get_index(stale.hash) is None
    assert h.peer(1).misbehavior_score == 0
    h.deliver(1, BlockMessage(chain[3]))  # parent unknown: Core's BLOCK_MISSING_PREV
    assert h.peer(1).misbehavior_score == 10
    assert h.node.chainstate.get_index(chain[3].hash) is None


def test_an_inv_over_max_inv_sz_bans() -> None:
    h = Harness()
    h.handshake(1)
    payload = b"\xfd" + (MAX_INV_SZ + 1).to_bytes(2, "little") + bytes(36 * (MAX_INV_SZ + 1))
    error = decode_error(b"inv", payload)
    _banned_for(h, h.core.on_misbehaving(1, error, h.now), "oversize-count")


def test_framing_errors_disconnect_or_not_as_core_does() -> None:
    h = Harness()
    h.handshake(1, connection_type=ConnectionType.MANUAL, inbound=False)
    frame = bytearray(encode_frame(MAGIC, b"ping", bytes(8)))
    frame[-1] ^= 1
    with pytest.raises(FramingError) as checksum:
        FrameDecoder(MAGIC).feed(bytes(frame))
    assert h.core.on_misbehaving(1, checksum.value, h.now) == []  # dropped, peer kept
    with pytest.raises(FramingError) as magic:
        FrameDecoder(MAGIC).feed(encode_frame(b"\xf9\xbe\xb4\xd9", b"ping", bytes(8)))
    effects = h.core.on_misbehaving(1, magic.value, h.now)
    assert [(d.peer_id, d.reason) for d in disconnects(effects)] == [(1, "bad-magic")]
    assert bans(effects) == []


def test_manual_peers_are_not_punished_and_local_ones_not_banned(chain: list[Block]) -> None:
    h = Harness()
    h.handshake(1, inbound=False, connection_type=ConnectionType.MANUAL)
    gap = HeadersMessage((chain[0].header, chain[2].header))
    assert h.deliver(1, gap) == []
    assert h.peer(1).misbehavior_score == 100 and not h.peer(1).disconnecting
    h.handshake(2, host="127.0.0.1")
    effects = h.deliver(2, gap)
    assert bans(effects) == [] and disconnects(effects)[0].reason == "non-continuous-headers"


def test_addr_is_rate_limited_unless_we_asked_for_it() -> None:
    h = Harness()
    h.handshake(1)
    entry = TimedNetAddress(
        int(h.now),
        NetAddress(
            9, NetAddress(0, __import__("ipaddress").ip_address("198.51.100.1"), 8333).ip, 8333
        ),
    )
    flood = AddrMessage((entry,) * MAX_ADDR_TO_SEND)
    h.deliver(1, flood)
    assert (h.peer(1).addr_processed, h.peer(1).addr_rate_limited) == (1, MAX_ADDR_TO_SEND - 1)
    h.now += 100.0  # 0.1 address per second
    h.deliver(1, AddrMessage((entry,) * 20))
    assert h.peer(1).addr_processed == 11
    h.handshake(2, inbound=False)  # we sent it getaddr: its answer is not limited
    h.deliver(2, flood)
    assert (h.peer(2).addr_processed, h.peer(2).addr_rate_limited) == (MAX_ADDR_TO_SEND, 0)


def test_getaddr_is_answered_once_to_inbound_peers_with_outbound_addresses() -> None:
    h = Harness()
    h.handshake(1, inbound=False, host="198.51.100.20")
    h.handshake(2, inbound=True)
    (answer,) = of_type(h.deliver(2, GetAddrMessage()), AddrV2Message)
    assert [(str(e.ip), e.port) for e in answer.addresses] == [("198.51.100.20", 18445)]
    assert h.deliver(2, GetAddrMessage()) == []  # once per connection
    assert h.deliver(1, GetAddrMessage()) == []  # never to outbound peers


def test_getaddr_from_a_v1_peer_is_answered_with_addr_and_skips_host_names() -> None:
    h = Harness()
    h.handshake(1, inbound=False, host="198.51.100.20")
    h.handshake(2, inbound=False, host="peer.example")  # no address to gossip
    h.connect(3)
    h.deliver(3, peer_version(), VerackMessage())  # no sendaddrv2: BIP155 not negotiated
    (answer,) = of_type(h.deliver(3, GetAddrMessage()), AddrMessage)
    address = NetAddress(SERVICES, IPv4Address("198.51.100.20"), 18445)
    assert answer.addresses == (TimedNetAddress(int(h.now), address),)


def test_a_mempool_request_disconnects_since_we_offer_no_bloom() -> None:
    h = Harness()
    h.handshake(1)
    (dropped,) = disconnects(h.deliver(1, MempoolMessage()))
    assert dropped.reason == "mempool-without-bloom"
    assert sent(h.deliver(1, PingMessage(1))) == []
