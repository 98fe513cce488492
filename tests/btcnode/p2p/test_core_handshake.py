"""Handshake transcripts of the net-processing core: what we send, in which order, and
what happens to peers that break the version/verack rules (Core's VERSION/VERACK)."""

from __future__ import annotations

from btcnode.p2p.config import P2PConfig
from btcnode.p2p.control import ConnectionType
from btcnode.p2p.messages import (
    GetHeadersMessage,
    PingMessage,
    PongMessage,
    VerackMessage,
    VersionMessage,
    WtxidRelayMessage,
)
from btcnode.p2p.peer import Handshake
from btcnode.p2p.processor import PRE_HANDSHAKE_SCORE
from tests.btcnode.p2p.corekit import (
    SERVICES,
    Harness,
    commands,
    disconnects,
    of_type,
    peer_version,
    sent,
)


def test_outbound_transcript_version_then_negotiation_then_sync() -> None:
    h = Harness()
    (version,) = sent(h.connect(1, inbound=False))
    assert isinstance(version, VersionMessage)
    assert (version.version, version.services, version.relay) == (70016, SERVICES, True)
    assert version.user_agent == P2PConfig().user_agent.encode()
    assert version.start_height == 0 and version.nonce == h.peer(1).local_nonce
    reply = h.deliver(1, peer_version())
    assert commands(reply) == [b"wtxidrelay", b"sendaddrv2", b"verack", b"getaddr"]
    done = h.deliver(1, WtxidRelayMessage(), VerackMessage())
    assert commands(done) == [b"sendheaders", b"feefilter", b"ping", b"getheaders"]
    peer = h.peer(1)
    assert peer.handshake is Handshake.COMPLETE and peer.wtxid_relay and not peer.wants_addrv2
    (getheaders,) = of_type(done, GetHeadersMessage)
    assert getheaders.locator == (h.node.chainstate.tip_hash,)  # genesis has no parent
    assert getheaders.hash_stop == bytes(32)


def test_inbound_peer_is_answered_with_our_version_and_no_getaddr() -> None:
    h = Harness()
    assert h.connect(1) == []  # we wait for the inbound peer to speak first
    reply = h.deliver(1, peer_version())
    assert commands(reply) == [b"version", b"wtxidrelay", b"sendaddrv2", b"verack"]


def test_old_peer_gets_no_wtxidrelay_and_its_wtxidrelay_is_ignored() -> None:
    h = Harness()
    h.connect(1)
    reply = h.deliver(1, peer_version(version=70015))
    assert commands(reply) == [b"version", b"verack"]
    h.deliver(1, WtxidRelayMessage(), VerackMessage())
    assert not h.peer(1).wtxid_relay and h.peer(1).connected


def test_messages_before_version_and_before_verack_are_ignored_with_a_penalty() -> None:
    h = Harness()
    h.connect(1)
    assert h.deliver(1, PingMessage(5)) == []  # no pong: ignored
    assert h.peer(1).misbehavior_score == PRE_HANDSHAKE_SCORE == 1
    h.deliver(1, peer_version())
    assert h.deliver(1, PingMessage(6)) == []
    assert h.peer(1).misbehavior_score == 2
    assert h.deliver(1, VerackMessage()) != []
    assert sent(h.deliver(1, PingMessage(7))) == [PongMessage(7)]


def test_a_connection_to_ourselves_is_dropped_by_the_nonce() -> None:
    h = Harness()
    (ours,) = sent(h.connect(1, inbound=False, host="127.0.0.1"))
    assert isinstance(ours, VersionMessage)
    h.connect(2, host="127.0.0.1")
    effects = h.deliver(2, peer_version(nonce=ours.nonce))
    assert [(d.peer_id, d.reason) for d in disconnects(effects)] == [(2, "self-connection")]
    assert sent(effects) == []


def test_versions_below_31800_are_disconnected() -> None:
    h = Harness()
    h.connect(1)
    (dropped,) = disconnects(h.deliver(1, peer_version(version=31799)))
    assert (dropped.peer_id, dropped.reason) == (1, "obsolete-version")
    h.connect(2)
    assert disconnects(h.deliver(2, peer_version(version=31800))) == []


def test_automatic_outbound_peers_must_offer_network_and_witness_manual_ones_need_not() -> None:
    h = Harness()
    h.connect(1, inbound=False)
    (dropped,) = disconnects(h.deliver(1, peer_version(services=1)))
    assert dropped.reason == "missing-services"
    h.connect(2, inbound=False, connection_type=ConnectionType.MANUAL)
    assert disconnects(h.deliver(2, peer_version(services=1))) == []
    h.connect(3)
    assert disconnects(h.deliver(3, peer_version(services=0))) == []


def test_feature_negotiation_after_verack_disconnects() -> None:
    h = Harness()
    h.handshake(1)
    (dropped,) = disconnects(h.deliver(1, WtxidRelayMessage()))
    assert dropped.reason == "wtxidrelay-after-verack"
    assert h.deliver(1, PingMessage(1)) == []  # nothing more is processed from it


def test_handshake_must_finish_within_the_connect_timeout() -> None:
    h = Harness(config=P2PConfig(peer_connect_timeout=5.0))
    h.connect(1)
    assert disconnects(h.tick(5.0)) == []
    (dropped,) = disconnects(h.tick(0.1))
    assert (dropped.peer_id, dropped.reason) == (1, "handshake-timeout")


def test_ping_pong_round_trip_interval_and_timeout() -> None:
    h = Harness(config=P2PConfig(ping_interval=10.0, timeout_interval=30.0))
    (ping,) = of_type(h.handshake(1), PingMessage)
    h.now += 0.25
    h.deliver(1, PongMessage(ping.nonce ^ 1))  # a wrong nonce does not finish the ping
    assert h.peer(1).ping_time is None
    h.deliver(1, PongMessage(ping.nonce))
    assert h.peer(1).ping_time == 0.25 and h.peer(1).min_ping == 0.25
    assert of_type(h.tick(9.0), PingMessage) == []
    (second,) = of_type(h.tick(1.0), PingMessage)
    assert second.nonce != 0
    for _ in range(3):  # traffic, but no pong
        assert disconnects(h.tick(10.0)) == []
        h.deliver(1, PingMessage(3))
    (dropped,) = disconnects(h.tick(2.0))
    assert dropped.reason == "ping-timeout"
