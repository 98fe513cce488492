"""Announcements and transaction relay in the core: headers vs inv for new tips, nothing
back to the block's source, tx invs by wtxid or txid with feefilter and the relay flag,
requests for announced transactions, and Core's penalty for consensus-invalid ones."""

from __future__ import annotations

from typing import cast

from btcnode.consensus.block import Block
from btcnode.consensus.tx import Tx
from btcnode.p2p.effects import Effect, SendMessage
from btcnode.p2p.messages import (
    PROTOCOL_VERSION,
    BlockMessage,
    FeeFilterMessage,
    GetDataMessage,
    GetHeadersMessage,
    HeadersMessage,
    InvMessage,
    InvType,
    InvVector,
    NotFoundMessage,
    TxMessage,
    UnknownMessage,
)
from tests.btcnode.p2p.corekit import Harness, bans, disconnects, of_type, sent
from tests.btcnode.scenarios.helpers import (
    T0,
    coinbase_coin,
    key,
    mature_node,
    new_node,
    p2wpkh,
    pay,
)

OWNER = key("relay owner")


def _wired(h: Harness) -> list[Effect]:
    """Feed node events to the core as the manager does; the effects collect in the list."""
    effects: list[Effect] = []
    h.node.subscribe(lambda event: effects.extend(h.core.on_node_event(event)))
    return effects


def _syncing(h: Harness, peer_id: int) -> None:
    """The peer asks for our headers, as every peer does after the handshake: from now on
    it has our tip's header (Core's pindexBestHeaderSent)."""
    genesis = h.node.chainstate.block_hash_at(0)
    h.deliver(peer_id, GetHeadersMessage(PROTOCOL_VERSION, (genesis,), bytes(32)))


def _tip_inv(block: Block) -> InvMessage:
    return InvMessage((InvVector(InvType.MSG_BLOCK, block.hash),))


def test_new_tips_go_as_headers_to_sendheaders_peers_and_as_inv_to_others() -> None:
    h = Harness()
    announced = _wired(h)
    h.handshake(1, sendheaders=True)
    h.handshake(2)
    _syncing(h, 1)
    blocks = h.node.generate(2, p2wpkh(OWNER), T0)
    assert sent(announced, 1) == [HeadersMessage((b.header,)) for b in blocks]
    assert sent(announced, 2) == [_tip_inv(b) for b in blocks]


def test_a_block_is_not_announced_back_to_the_peer_that_sent_it() -> None:
    blocks = new_node().generate(3, p2wpkh(OWNER), T0)
    h = Harness()
    announced = _wired(h)
    h.handshake(1, sendheaders=True)
    h.handshake(2, sendheaders=True)
    h.handshake(3)
    _syncing(h, 2)
    h.deliver(1, HeadersMessage(tuple(b.header for b in blocks)))
    h.deliver(1, *(BlockMessage(b) for b in blocks))
    assert h.node.chainstate.tip_hash == blocks[-1].hash
    assert of_type(announced, HeadersMessage) and sent(announced, 1) == []
    assert sent(announced, 2) == [HeadersMessage((b.header,)) for b in blocks]
    assert sent(announced, 3) == [_tip_inv(b) for b in blocks]


def test_a_headers_announcement_that_would_not_connect_becomes_an_inv() -> None:
    h = Harness()
    announced = _wired(h)
    h.handshake(1, sendheaders=True)
    _syncing(h, 1)
    blocks = h.node.generate(1, p2wpkh(OWNER), T0)
    assert sent(announced, 1) == [HeadersMessage((blocks[0].header,))]
    h.peer(1).best_header_sent = None  # as if it had never seen block 1
    more = h.node.generate(1, p2wpkh(OWNER), T0)
    assert sent(announced, 1)[-1] == _tip_inv(more[0])  # it may lack block 1: inv instead


def _funded() -> tuple[Harness, list[Block]]:
    node, blocks = mature_node(OWNER, 110)  # ten spendable coinbases
    return Harness(node=node), blocks


def _paying(blocks: list[Block], n: int, fee: int) -> Tx:
    return pay(OWNER, coinbase_coin(blocks[n]), p2wpkh(key("to")), fee)


def test_tx_invs_by_wtxid_or_txid_respecting_feefilter_and_relay_flag() -> None:
    h, blocks = _funded()
    _wired(h)
    good, cheap = _paying(blocks, 0, 5_000), _paying(blocks, 1, 200)
    h.handshake(1)  # wtxidrelay
    h.handshake(2, version=70015)  # no wtxidrelay: txids
    h.handshake(3, relay=False)
    h.handshake(4)
    h.deliver(4, FeeFilterMessage(10_000))  # 10 sat/vB: `cheap` (about 1.8 sat/vB) is below
    assert h.node.submit_transaction(good, T0).accepted
    assert h.node.submit_transaction(cheap, T0).accepted
    sends = [e for e in h.tick(1.0) if isinstance(e, SendMessage)]
    assert all(isinstance(e.message, InvMessage) for e in sends)
    invs = {e.peer_id: cast(InvMessage, e.message).inventory for e in sends}
    assert invs[1] == (
        InvVector(InvType.MSG_WTX, good.wtxid),
        InvVector(InvType.MSG_WTX, cheap.wtxid),
    )
    assert invs[2] == (InvVector(InvType.MSG_TX, good.txid), InvVector(InvType.MSG_TX, cheap.txid))
    assert 3 not in invs
    assert invs[4] == (InvVector(InvType.MSG_WTX, good.wtxid),)
    assert of_type(h.tick(1.0), InvMessage) == []  # announced once


def test_announced_transactions_are_requested_and_another_announcer_asked_on_notfound() -> None:
    h, blocks = _funded()
    _wired(h)
    good = _paying(blocks, 0, 5_000)
    h.handshake(1)
    h.handshake(2)
    inv = InvMessage((InvVector(InvType.MSG_WTX, good.wtxid),))
    (ask,) = of_type(h.deliver(1, inv), GetDataMessage)
    assert ask.inventory == (InvVector(InvType.MSG_WTX, good.wtxid),)
    assert h.deliver(2, inv) == []  # already asked of peer 1
    retry = h.deliver(1, NotFoundMessage(ask.inventory))
    assert [(e.peer_id, e.message) for e in retry] == [(2, ask)]  # type: ignore[union-attr]
    h.deliver(2, TxMessage(good))
    assert good.txid in h.node.mempool
    assert h.deliver(1, inv) == []  # known now: not asked again


def test_a_request_that_times_out_goes_to_the_next_announcer() -> None:
    h, blocks = _funded()
    good = _paying(blocks, 0, 5_000)
    h.handshake(1)
    h.handshake(2)
    inv = InvMessage((InvVector(InvType.MSG_WTX, good.wtxid),))
    h.deliver(1, inv)
    h.deliver(2, inv)
    assert of_type(h.tick(59.0), GetDataMessage) == []
    (again,) = of_type(h.tick(2.0), GetDataMessage)
    assert again.inventory == inv.inventory and h.core.relay.requested[good.wtxid] == 2


def test_a_txid_announcement_from_a_wtxid_peer_is_ignored() -> None:
    h, blocks = _funded()
    h.handshake(1)
    good = _paying(blocks, 0, 5_000)
    assert h.deliver(1, InvMessage((InvVector(InvType.MSG_TX, good.txid),))) == []


def test_getdata_for_transactions_by_wtxid_txid_and_unknown() -> None:
    h, blocks = _funded()
    _wired(h)
    good = _paying(blocks, 0, 5_000)
    h.handshake(1)
    assert h.node.submit_transaction(good, T0).accepted
    unknown = InvVector(InvType.MSG_WTX, bytes(32))
    request = GetDataMessage(
        (InvVector(InvType.MSG_WTX, good.wtxid), InvVector(InvType.MSG_TX, good.txid), unknown)
    )
    full, stripped, missing = sent(h.deliver(1, request))
    assert full == TxMessage(good)
    assert stripped == UnknownMessage(b"tx", good.serialize(with_witness=False))
    assert missing == NotFoundMessage((unknown,))


def test_consensus_invalid_tx_bans_the_sender_policy_refusal_does_not() -> None:
    h, blocks = _funded()
    h.handshake(1)
    no_fee = _paying(blocks, 2, 0)
    assert h.deliver(1, TxMessage(no_fee)) == []  # min relay fee: policy
    assert h.peer(1).misbehavior_score == 0
    assert no_fee.wtxid in h.core.relay.recent_rejects
    overspend = _paying(blocks, 3, -1)
    effects = h.deliver(1, TxMessage(overspend))
    (ban,) = bans(effects)
    assert ban.reason == "bad-txns-in-belowout"
    assert disconnects(effects)[0].reason == "bad-txns-in-belowout"
    assert overspend.txid not in h.node.mempool
