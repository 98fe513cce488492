"""SimTransport: the Transport protocol over a SimNetwork, driven by a test-owned clock."""

from __future__ import annotations

import random

import pytest

from common.errors import UsageError
from common.net import (
    LinkFaults,
    MessageTooLarge,
    NetError,
    SimNetwork,
    SimTransport,
    Transport,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def setup(
    nodes: tuple[str, ...] = ("a", "b", "c"), **kwargs: int
) -> tuple[Clock, SimNetwork, dict[str, SimTransport]]:
    clock = Clock()
    network = SimNetwork(nodes, random.Random(3), LinkFaults(delay_min=2, delay_max=2))
    transports = {n: SimTransport(network, n, clock, **kwargs) for n in nodes}
    return clock, network, transports


async def test_is_a_transport_and_delivers_when_time_advances() -> None:
    clock, _, t = setup()
    transport: Transport = t["a"]  # the protocol is satisfied statically...
    assert isinstance(transport, Transport)  # ...and at run time
    await t["a"].start()
    assert t["a"].send("b", b"hello")
    assert t["a"].pump() == 0  # not due yet
    clock.now = 2
    assert t["c"].pump() == 1  # any transport pumps the whole network
    envelope = await t["b"].recv()
    assert (envelope.src, envelope.payload) == ("a", b"hello")
    assert t["b"].stats() == {"sent": 0, "dropped": 0, "received": 1}
    assert t["a"].stats() == {"sent": 1, "dropped": 0, "received": 0}


async def test_unknown_destination_and_self_are_refused() -> None:
    _, _, t = setup()
    assert not t["a"].send("zz", b"x")
    assert not t["a"].send("a", b"x")
    assert t["a"].stats()["dropped"] == 2


async def test_oversize_payload_is_a_usage_error() -> None:
    _, _, t = setup(max_msg_bytes=4)
    with pytest.raises(MessageTooLarge) as info:
        t["a"].send("b", b"12345")
    assert (info.value.size, info.value.limit) == (5, 4)


async def test_full_inbound_queue_drops_and_counts() -> None:
    clock, _, t = setup(recv_queue_len=2)
    for i in range(3):
        t["a"].send("b", bytes([i]))
    clock.now = 5
    t["a"].pump()
    assert t["b"].stats() == {"sent": 0, "dropped": 1, "received": 2}
    assert [(await t["b"].recv()).payload for _ in range(2)] == [b"\x00", b"\x01"]


async def test_closed_transport_is_detached() -> None:
    clock, network, t = setup()
    t["a"].send("b", b"x")
    await t["b"].close()
    clock.now = 5
    assert t["a"].pump() == 0
    with pytest.raises(NetError):
        await t["b"].recv()
    assert not t["b"].send("a", b"y")
    with pytest.raises(UsageError):
        await t["b"].start()
    assert network.messages_delivered == 1  # it left the network but reached no one


async def test_partitions_apply_to_transports() -> None:
    clock, network, t = setup()
    network.isolate("c")
    t["a"].send("c", b"lost")
    t["a"].send("b", b"kept")
    clock.now = 5
    assert t["a"].pump() == 1
    assert (await t["b"].recv()).payload == b"kept"


def test_node_must_be_on_the_network() -> None:
    network = SimNetwork(["a"], random.Random(0))
    with pytest.raises(UsageError) as info:
        SimTransport(network, "b", lambda: 0)
    assert "'b'" in str(info.value)
