"""STH pollination: the wire format, and the core's endpoint against bad input of any kind."""

from __future__ import annotations

import base64
import json

import pytest

from ctlog.auditor import (
    AuditorParams,
    GossipedSth,
    Sender,
    Source,
    decode_pollination,
    encode_pollination,
)
from ctlog.auditor._pool import FRESH_MS
from ctlog.auditor.pollination import MAX_POLLINATION_BYTES, MAX_STHS_PER_MESSAGE
from ctlog.errors import InputError
from ctlog.keys import LogSigningKey
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.auditor._helpers import NOW_MS, forking_log, make_core

LOG = forking_log(shared=0, forking=False)
LOG.grow(0, 12)
LOG_ID = LOG.key.public.log_id


def gossip(*sizes: int) -> list[GossipedSth]:
    return [GossipedSth(LOG_ID, LOG.head_at(0, n)) for n in sizes]


def test_a_pollination_round_trips_with_the_drafts_fields() -> None:
    sths = gossip(3, 7)
    body = encode_pollination(sths)
    (first, _) = json.loads(body)["sths"]
    assert set(first) == {
        "sth_version",
        "log_id",
        "tree_size",
        "timestamp",
        "sha256_root_hash",
        "tree_head_signature",
    }
    assert first["sth_version"] == 0
    assert decode_pollination(body) == sths


def _item(**changes: object) -> bytes:
    obj = gossip(3)[0].to_json()
    obj.update(changes)
    return json.dumps({"sths": [obj]}).encode()


@pytest.mark.parametrize(
    ("body", "reason", "status"),
    [
        (b"{", "not valid JSON", 400),
        (b'{"sths": {}}', "must be an array", 400),
        (b'{"sths": [], "more": 1}', "unknown fields more", 400),
        (b'{"sths": [], "sths": []}', "duplicate key", 400),
        (b'{"sths": [NaN]}', "NaN is not JSON", 400),
        (_item(sth_version=1), "is not v1", 400),
        (_item(log_id=base64.b64encode(b"short").decode()), "log_id is 5 bytes", 400),
        (_item(tree_size=-1), "tree_size must be an integer", 400),
        (_item(tree_size=True), "tree_size must be an integer", 400),
        (_item(sha256_root_hash="***"), "not valid base64", 400),
        (b" " * (MAX_POLLINATION_BYTES + 1), "over the limit", 413),
        (json.dumps({"sths": [{}] * (MAX_STHS_PER_MESSAGE + 1)}).encode(), "over the limit", 413),
    ],
)
def test_malformed_messages_get_a_clear_error(body: bytes, reason: str, status: int) -> None:
    core = make_core(LOG)
    with pytest.raises(InputError, match=reason) as info:
        core.on_pollination(Sender(peer="p1"), body, NOW_MS)
    assert info.value.http_status == status
    assert len(core.pool) == 0
    assert core.counters["pollinations_malformed"] == 1


def test_a_forged_sth_rejects_the_whole_message() -> None:
    core = make_core(LOG)
    forged = SignedTreeHead.sign(LOG.head_at(0, 5).tree_head, LogSigningKey.generate())
    body = encode_pollination([*gossip(3), GossipedSth(LOG_ID, forged)])
    with pytest.raises(InputError, match=r"sths\[1\]: the tree head signature does not verify"):
        core.on_pollination(Sender(peer="p1"), body, NOW_MS)
    assert len(core.pool) == 0 and core.ready().fetch_proofs == ()
    assert core.counters["rejected_bad_signature"] == 1


def test_unknown_logs_and_stale_or_future_heads_are_skipped() -> None:
    core = make_core(LOG)
    other = forking_log(seed=99)
    stale = SignedTreeHead.sign(TreeHead(4, NOW_MS - FRESH_MS, bytes(32)), LOG.key)
    future = SignedTreeHead.sign(TreeHead(4, NOW_MS + 10 * 60_000, bytes(32)), LOG.key)
    items = [
        GossipedSth(other.key.public.log_id, other.sth(0)),
        GossipedSth(LOG_ID, stale),
        GossipedSth(LOG_ID, future),
        *gossip(6),
    ]
    reply = decode_pollination(core.on_pollination(Sender(), encode_pollination(items), NOW_MS))
    assert reply == items[3:]  # the reply: a selection of what the auditor holds
    assert core.counters["skipped_unknown_log"] == 1
    assert core.counters["skipped_stale"] == 1
    assert core.counters["skipped_future"] == 1
    (entry,) = core.pool.entries()
    assert entry.seen.source is Source.CLIENT and entry.seen.origin == "client"


def test_senders_must_be_listed_peers_or_allowed_clients() -> None:
    body = encode_pollination(gossip(3))
    core = make_core(LOG, token="s3cret")
    cases = [
        (Sender(peer="mallory", token="s3cret"), "unknown peer 'mallory'"),
        (Sender(peer="p1", token="guess"), "did not authenticate"),
        (Sender(peer="p1"), "did not authenticate"),
    ]
    for sender, reason in cases:
        with pytest.raises(InputError, match=reason) as info:
            core.on_pollination(sender, body, NOW_MS)
        assert info.value.http_status == 403
    assert len(core.pool) == 0
    core.on_pollination(Sender(peer="p1", token="s3cret"), body, NOW_MS)
    assert len(core.pool) == 1
    closed = make_core(LOG, params=AuditorParams(accept_clients=False))
    with pytest.raises(InputError, match="from its peers only") as info:
        closed.on_pollination(Sender(), body, NOW_MS)
    assert info.value.http_status == 403


def test_the_pool_is_bounded_and_ages_out() -> None:
    core = make_core(LOG, params=AuditorParams(max_pool_per_log=4))
    heads = [
        SignedTreeHead.sign(TreeHead(5, NOW_MS - 100 + i, LOG.head_at(0, 5).root_hash), LOG.key)
        for i in range(10)
    ]
    core.on_pollination(
        Sender(peer="p1"), encode_pollination([GossipedSth(LOG_ID, h) for h in heads]), NOW_MS
    )
    assert sorted(e.seen.sth.timestamp for e in core.pool.entries()) == [
        h.timestamp for h in heads[-4:]
    ]
    core.tick(NOW_MS + FRESH_MS)
    assert len(core.pool) == 0 and core.counters["aged_out"] == 4


def test_gossip_sends_each_peer_a_bounded_selection_without_its_own_heads() -> None:
    core = make_core(LOG, params=AuditorParams(max_sths_per_gossip=3, gossip_interval_ms=1000))
    core.on_pollination(Sender(peer="p1"), encode_pollination(gossip(1, 2, 3, 4)), NOW_MS)
    core.on_pollination(Sender(peer="p2"), encode_pollination(gossip(5)), NOW_MS)
    core.tick(NOW_MS)
    sends = {s.peer: s for s in core.ready().pollinations}
    assert {s.sth.tree_size for s in sends["p1"].sths} == {5}
    assert len(sends["p2"].sths) == 3 and 5 not in {s.sth.tree_size for s in sends["p2"].sths}
    core.on_pollination(Sender(peer="p2"), encode_pollination(gossip(9)), NOW_MS + 500)
    core.tick(NOW_MS + 1000)
    sends = {s.peer: s for s in core.ready().pollinations}
    assert 9 in {s.sth.tree_size for s in sends["p1"].sths}  # fresh ones go first


def test_replies_from_peers_are_checked_like_requests() -> None:
    core = make_core(LOG)
    forged = SignedTreeHead.sign(LOG.head_at(0, 5).tree_head, LogSigningKey.generate())
    with pytest.raises(InputError, match="does not verify"):
        core.on_pollination_reply("p2", [GossipedSth(LOG_ID, forged)], NOW_MS)
    core.on_pollination_reply("p2", gossip(4), NOW_MS)
    (entry,) = core.pool.entries()
    assert entry.seen.source is Source.PEER and entry.seen.origin == "p2"
