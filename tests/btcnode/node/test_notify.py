"""The notification core: node events into Core's ZMQ topics, and the bounded subscriber."""

from __future__ import annotations

import json

import pytest

from btcnode.consensus.hashes import hash256_hex
from btcnode.mempool.results import RemovalReason
from btcnode.node import Node, TipChanged, TxRemoved
from btcnode.notify import (
    ALL_TOPICS,
    DEFAULT_TOPICS,
    MAX_SUBSCRIBER_CAPACITY,
    Notification,
    NotificationHub,
    NotificationTranslator,
    NotifyRequestError,
    Subscriber,
    encode_event,
    encode_overflow,
    parse_topics,
)
from tests.btcnode.scenarios.helpers import (
    RBF_SEQUENCE,
    T0,
    coinbase_coin,
    key,
    mature_node,
    p2wpkh,
    pay,
)

MINER, ALICE, BOB = key("miner"), key("alice"), key("bob")


def _feed(node: Node, topics: frozenset[str] = ALL_TOPICS) -> list[tuple[str, dict[str, object]]]:
    """Every notification the node's events give on `topics`, as (topic, data)."""
    translator = NotificationTranslator(node.chainstate.get_raw_block)
    out: list[tuple[str, dict[str, object]]] = []

    def listener(event: object) -> None:
        for n in translator.translate(event, topics):  # type: ignore[arg-type]
            out.append((n.topic, json.loads(n.data)))

    node.subscribe(listener)
    return out


def test_a_mined_block_gives_its_txs_then_its_sequence_then_the_tip() -> None:
    node, _ = mature_node(MINER, blocks=1)
    feed = _feed(node)
    [block] = node.generate(1, p2wpkh(MINER), T0)
    coinbase = block.txs[0]
    block_hex = hash256_hex(block.hash)
    assert feed == [
        ("hashtx", {"txid": hash256_hex(coinbase.txid)}),
        ("rawtx", {"txid": hash256_hex(coinbase.txid), "hex": coinbase.serialize().hex()}),
        ("sequence", {"hash": block_hex, "label": "C", "mempool_sequence": None}),
        ("hashblock", {"hash": block_hex, "height": 2}),
        ("rawblock", {"hash": block_hex, "height": 2, "hex": block.serialize().hex()}),
    ]


def test_mempool_sequence_counts_every_change_but_a_confirmation_sends_no_r() -> None:
    node, blocks = mature_node(MINER)
    feed = _feed(node, frozenset({"sequence"}))
    coin = coinbase_coin(blocks[0])
    original = pay(MINER, coin, p2wpkh(ALICE), 10_000, sequence=RBF_SEQUENCE)
    replacement = pay(MINER, coin, p2wpkh(BOB), 20_000, sequence=RBF_SEQUENCE)
    third = pay(MINER, coinbase_coin(blocks[1]), p2wpkh(BOB), 10_000)
    assert node.submit_transaction(original, T0).accepted
    assert node.submit_transaction(replacement, T0).accepted
    [block] = node.generate(1, p2wpkh(MINER), T0)
    assert node.submit_transaction(third, T0).accepted

    def seq(tx_hash: bytes, label: str, n: int | None) -> tuple[str, dict[str, object]]:
        return ("sequence", {"hash": hash256_hex(tx_hash), "label": label, "mempool_sequence": n})

    assert feed == [
        seq(original.txid, "A", 1),
        seq(original.txid, "R", 2),  # replaced
        seq(replacement.txid, "A", 3),
        seq(block.hash, "C", None),  # the confirmation takes number 4 but sends no R
        seq(third.txid, "A", 5),
    ]


def test_a_disconnected_block_gives_its_txs_then_d_and_rawblock_finds_the_old_tip() -> None:
    node, blocks = mature_node(MINER, blocks=3)
    feed = _feed(node, frozenset({"hashtx", "sequence", "hashblock", "rawblock"}))
    node.invalidate_block(blocks[2].hash, T0)
    parent = blocks[1]
    assert feed == [
        ("hashtx", {"txid": hash256_hex(blocks[2].txs[0].txid)}),
        ("sequence", {"hash": hash256_hex(blocks[2].hash), "label": "D", "mempool_sequence": None}),
        ("hashblock", {"hash": hash256_hex(parent.hash), "height": 2}),
        (
            "rawblock",
            {"hash": hash256_hex(parent.hash), "height": 2, "hex": parent.serialize().hex()},
        ),
    ]


def test_unwanted_topics_are_not_built() -> None:
    node, _ = mature_node(MINER, blocks=1)
    feed = _feed(node, frozenset({"hashblock"}))
    [block] = node.generate(1, p2wpkh(MINER), T0)
    assert feed == [("hashblock", {"hash": hash256_hex(block.hash), "height": 2})]


def test_parse_topics_defaults_and_refusals() -> None:
    assert parse_topics(None) == DEFAULT_TOPICS
    assert parse_topics("") == DEFAULT_TOPICS
    assert parse_topics("hashblock, rawtx") == frozenset({"hashblock", "rawtx"})
    with pytest.raises(NotifyRequestError) as caught:
        parse_topics("hashblock,pubrawtx,bogus")
    assert "'bogus'" in str(caught.value) and "'pubrawtx'" in str(caught.value)
    assert caught.value.http_status == 400
    with pytest.raises(NotifyRequestError, match="at most"):
        parse_topics("hashblock," * 50)


def test_a_subscriber_only_takes_its_topics_and_numbers_what_it_took() -> None:
    sub = Subscriber(frozenset({"hashblock"}), capacity=3)
    assert not sub.offer(Notification("hashtx", "{}"))
    assert sub.offer(Notification("hashblock", '{"n":1}'))
    assert sub.take() == [Notification("hashblock", '{"n":1}')]
    assert sub.take() == [] and sub.delivered == 1


def test_a_subscriber_that_falls_behind_overflows_and_gets_nothing_more() -> None:
    sub = Subscriber(frozenset({"hashblock"}), capacity=2)
    for i in range(2):
        assert sub.offer(Notification("hashblock", f'{{"n":{i}}}'))
    assert not sub.overflowed
    assert sub.offer(Notification("hashblock", '{"n":2}'))  # wakes it: to send `overflow`
    assert sub.overflowed and sub.take() == []
    assert not sub.offer(Notification("hashblock", '{"n":3}'))
    assert encode_overflow(sub) == (
        b'event: overflow\ndata: {"reason":"subscriber fell behind","capacity":2}\n\n'
    )


@pytest.mark.parametrize(
    ("topics", "capacity"),
    [(frozenset(), 5), (frozenset({"nope"}), 5), (DEFAULT_TOPICS, 0)],
    ids=["no-topics", "unknown-topic", "zero-capacity"],
)
def test_bad_subscriptions_are_refused(topics: frozenset[str], capacity: int) -> None:
    with pytest.raises(NotifyRequestError):
        Subscriber(topics, capacity)
    with pytest.raises(NotifyRequestError):
        Subscriber(DEFAULT_TOPICS, MAX_SUBSCRIBER_CAPACITY + 1)


def test_the_hub_wakes_only_subscribers_that_got_something() -> None:
    node, _ = mature_node(MINER, blocks=1)
    hub = NotificationHub(NotificationTranslator(node.chainstate.get_raw_block))
    blocks_only = Subscriber(frozenset({"hashblock"}))
    txs_only = Subscriber(frozenset({"hashtx"}))
    hub.add(blocks_only)
    hub.add(txs_only)
    tip = TipChanged(node.chainstate.tip_hash, 1, 0)
    assert hub.publish(tip) == [blocks_only]
    removal = TxRemoved(b"\x01" * 32, b"\x01" * 32, RemovalReason.EXPIRY)
    assert hub.publish(removal) == []
    hub.remove(blocks_only)
    assert hub.subscriber_count == 1 and hub.publish(tip) == []


def test_encode_event_is_one_sse_event() -> None:
    event = encode_event(Notification("hashtx", '{"txid":"ab"}'), 7)
    assert event == b'id: 7\nevent: hashtx\ndata: {"txid":"ab"}\n\n'
