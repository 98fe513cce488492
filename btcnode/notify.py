"""Notifications of chain and mempool changes: Core's ZMQ topics, carried as Server-Sent Events.

A sans-I/O core. `NotificationTranslator` turns the node's `NodeEvent`s into `Notification`s
with Core's topic names and order (src/zmq/zmqnotificationinterface.cpp):

- `hashtx` / `rawtx`: every transaction of a connected or disconnected block (before the
  block's own `sequence` message), and every transaction entering the mempool;
- `hashblock` / `rawblock`: the new tip after a chain change (Core's UpdatedBlockTip);
- `sequence`: `C` / `D` for each connected / disconnected block, `A` / `R` for each
  transaction added to / removed from the mempool with the mempool sequence number. As in
  Core, a transaction leaving the pool because a block confirmed it takes a sequence
  number but sends no `R` (the block's `C` covers it).

`NotificationHub` fans notifications out to subscribers, each with its own topics and a
bounded buffer: a subscriber that falls `capacity` notifications behind is marked
overflowed, its buffer dropped, and it receives nothing more (the HTTP layer then sends a
final `overflow` event and closes the stream). `encode_event` and friends give the SSE wire
text (WHATWG HTML §9.2, "Server-sent events").
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.mempool.results import RemovalReason
from btcnode.node import (
    BlockConnected,
    BlockDisconnected,
    NodeEvent,
    TipChanged,
    TxAdded,
    TxRemoved,
)

__all__ = [
    "ALL_TOPICS",
    "DEFAULT_SUBSCRIBER_CAPACITY",
    "DEFAULT_TOPICS",
    "HEARTBEAT",
    "MAX_SUBSCRIBER_CAPACITY",
    "Notification",
    "NotificationHub",
    "NotificationTranslator",
    "NotifyRequestError",
    "Subscriber",
    "encode_event",
    "encode_overflow",
    "parse_topics",
]

ALL_TOPICS = frozenset({"hashblock", "hashtx", "rawblock", "rawtx", "sequence"})
# Raw topics carry whole blocks; as in Core they are published only to those who ask.
DEFAULT_TOPICS = frozenset({"hashblock", "hashtx", "sequence"})
# Notifications a subscriber may have unread: a full 4,000-transaction block with its
# hashtx and sequence messages fits, with room for the mempool traffic around it.
DEFAULT_SUBSCRIBER_CAPACITY = 10_000
MAX_SUBSCRIBER_CAPACITY = 100_000  # bounds one client's memory however it asks
MAX_TOPICS_PARAM_CHARS = 200  # every topic name once, comma-separated, is 41 characters
HEARTBEAT = b": heartbeat\n\n"  # an SSE comment: keeps proxies and clients from timing out
FIRST_MEMPOOL_SEQUENCE = 1  # Core's CTxMemPool::m_sequence_number starts at 1

RawBlockLookup = Callable[[bytes], bytes | None]


class NotifyRequestError(ChainMisuse):
    """A client asked for the feed wrongly (unknown topic, bad capacity): HTTP 400."""

    http_status = 400


@dataclass(frozen=True, slots=True)
class Notification:
    """One message on one topic; `data` is its JSON text (an object)."""

    topic: str
    data: str

    def __post_init__(self) -> None:
        if self.topic not in ALL_TOPICS:
            raise ChainMisuse(f"unknown topic {self.topic!r}")


def parse_topics(text: str | None) -> frozenset[str]:
    """The `?topics=` query value ("hashblock,rawtx"); None or empty: `DEFAULT_TOPICS`."""
    if text is None or not text.strip():
        return DEFAULT_TOPICS
    if len(text) > MAX_TOPICS_PARAM_CHARS:
        raise NotifyRequestError(
            f"topics: {len(text)} characters, at most {MAX_TOPICS_PARAM_CHARS}"
        )
    names = [name.strip() for name in text.split(",")]
    unknown = sorted({name for name in names if name not in ALL_TOPICS})
    if unknown:
        raise NotifyRequestError(
            f"unknown topic {', '.join(map(repr, unknown))}: use {', '.join(sorted(ALL_TOPICS))}"
        )
    return frozenset(names)


def _json(**fields: object) -> str:
    return json.dumps(fields, separators=(",", ":"))


class NotificationTranslator:
    """NodeEvents into notifications; holds Core's mempool sequence counter.

    `raw_block` finds a block's serialization by hash (for `rawblock` when a change only
    disconnected blocks, so the new tip is not among the events).
    """

    __slots__ = ("_last_connected", "_mempool_sequence", "_raw_block")

    def __init__(
        self, raw_block: RawBlockLookup, *, mempool_sequence: int = FIRST_MEMPOOL_SEQUENCE
    ) -> None:
        self._raw_block = raw_block
        self._mempool_sequence = mempool_sequence
        self._last_connected: Block | None = None  # this change's new tip, for rawblock

    @property
    def mempool_sequence(self) -> int:
        """The number the next mempool addition or removal takes."""
        return self._mempool_sequence

    def translate(self, event: NodeEvent, wanted: frozenset[str]) -> list[Notification]:
        """The notifications `event` gives on the topics in `wanted`, in Core's order."""
        if isinstance(event, BlockConnected | BlockDisconnected):
            return self._block_change(event, wanted)
        if isinstance(event, TipChanged):
            return self._tip(event, wanted)
        if isinstance(event, TxAdded):
            return self._tx_added(event, wanted)
        return self._tx_removed(event, wanted)

    def _tx_added(self, event: TxAdded, wanted: frozenset[str]) -> list[Notification]:
        sequence = self._next_sequence()
        out = self._transaction(event.tx, wanted)
        if "sequence" in wanted:
            out.append(_sequence(event.tx.txid, "A", sequence))
        return out

    def _tx_removed(self, event: TxRemoved, wanted: frozenset[str]) -> list[Notification]:
        sequence = self._next_sequence()
        if event.reason is RemovalReason.BLOCK or "sequence" not in wanted:
            return []
        return [_sequence(event.txid, "R", sequence)]

    def _next_sequence(self) -> int:
        sequence = self._mempool_sequence
        self._mempool_sequence += 1
        return sequence

    def _block_change(
        self, event: BlockConnected | BlockDisconnected, wanted: frozenset[str]
    ) -> list[Notification]:
        block = event.block
        out: list[Notification] = []
        for tx in block.txs:
            out.extend(self._transaction(tx, wanted))
        if isinstance(event, BlockConnected):
            self._last_connected = block
            label = "C"
        else:
            label = "D"
        if "sequence" in wanted:
            out.append(_sequence(block.hash, label, None))
        return out

    def _transaction(self, tx: Tx, wanted: frozenset[str]) -> list[Notification]:
        out = []
        if "hashtx" in wanted:
            out.append(Notification("hashtx", _json(txid=hash256_hex(tx.txid))))
        if "rawtx" in wanted:
            raw = tx.serialize().hex()
            out.append(Notification("rawtx", _json(txid=hash256_hex(tx.txid), hex=raw)))
        return out

    def _tip(self, event: TipChanged, wanted: frozenset[str]) -> list[Notification]:
        connected, self._last_connected = self._last_connected, None
        tip_hex = hash256_hex(event.tip_hash)
        out = []
        if "hashblock" in wanted:
            out.append(Notification("hashblock", _json(hash=tip_hex, height=event.tip_height)))
        if "rawblock" in wanted:
            if connected is not None and connected.hash == event.tip_hash:
                raw: bytes | None = connected.serialize()
            else:
                raw = self._raw_block(event.tip_hash)
            if raw is not None:
                fields = _json(hash=tip_hex, height=event.tip_height, hex=raw.hex())
                out.append(Notification("rawblock", fields))
        return out


def _sequence(hash_: bytes, label: str, mempool_sequence: int | None) -> Notification:
    fields = _json(hash=hash256_hex(hash_), label=label, mempool_sequence=mempool_sequence)
    return Notification("sequence", fields)


class Subscriber:
    """One feed client: its topics and its unread notifications (at most `capacity`)."""

    __slots__ = ("_buffer", "capacity", "delivered", "overflowed", "topics")

    def __init__(self, topics: frozenset[str], capacity: int = DEFAULT_SUBSCRIBER_CAPACITY) -> None:
        if not topics <= ALL_TOPICS or not topics:
            raise NotifyRequestError(f"topics must be a non-empty subset of {sorted(ALL_TOPICS)}")
        if not 1 <= capacity <= MAX_SUBSCRIBER_CAPACITY:
            raise NotifyRequestError(f"capacity {capacity}: must be 1-{MAX_SUBSCRIBER_CAPACITY}")
        self.topics = topics
        self.capacity = capacity
        self.overflowed = False
        self.delivered = 0  # notifications taken so far: the next one's SSE id
        self._buffer: deque[Notification] = deque()

    def offer(self, notification: Notification) -> bool:
        """Queue `notification` if subscribed to its topic; True if the subscriber has
        something new to act on (a notification, or it just overflowed)."""
        if self.overflowed or notification.topic not in self.topics:
            return False
        if len(self._buffer) >= self.capacity:
            self.overflowed = True
            self._buffer.clear()
            return True
        self._buffer.append(notification)
        return True

    def take(self) -> list[Notification]:
        """Every unread notification, oldest first."""
        taken = list(self._buffer)
        self._buffer.clear()
        self.delivered += len(taken)
        return taken


class NotificationHub:
    """The subscribers, fed from node events through one translator."""

    __slots__ = ("_subscribers", "_translator")

    def __init__(self, translator: NotificationTranslator) -> None:
        self._translator = translator
        self._subscribers: list[Subscriber] = []

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: NodeEvent) -> list[Subscriber]:
        """Translate `event` for the topics anyone wants; returns who has something new.

        The translator sees every event even with no subscriber, so mempool sequence
        numbers count every addition and removal, as in Core.
        """
        wanted = frozenset().union(*(s.topics for s in self._subscribers if not s.overflowed))
        notifications = self._translator.translate(event, wanted)
        woken = []
        for subscriber in self._subscribers:
            if _offer_all(subscriber, notifications):
                woken.append(subscriber)
        return woken


def _offer_all(subscriber: Subscriber, notifications: Iterable[Notification]) -> bool:
    woken = False
    for notification in notifications:
        woken = subscriber.offer(notification) or woken
    return woken


def encode_event(notification: Notification, event_id: int) -> bytes:
    """One SSE event: `id`, `event` (the topic) and one `data` line (JSON has no newlines)."""
    return f"id: {event_id}\nevent: {notification.topic}\ndata: {notification.data}\n\n".encode()


def encode_overflow(subscriber: Subscriber) -> bytes:
    """The last event an overflowed subscriber gets before the stream closes."""
    data = _json(reason="subscriber fell behind", capacity=subscriber.capacity)
    return f"event: overflow\ndata: {data}\n\n".encode()
