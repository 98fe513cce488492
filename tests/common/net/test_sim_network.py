"""SimNetwork: link state, faults, counters and determinism."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

from common.errors import UsageError
from common.net import LinkFaults, SimNetwork

NODES = ["n1", "n2", "n3", "n4", "n5"]
FIXED = LinkFaults(delay_min=1, delay_max=1)


def net(faults: LinkFaults = FIXED, seed: int = 1, nodes: list[str] = NODES) -> SimNetwork:
    return SimNetwork(nodes, random.Random(seed), faults)


def reachable(network: SimNetwork, node: str) -> frozenset[str]:
    return frozenset(other for other in network.node_ids if network.can_talk(node, other))


def test_message_is_delivered_after_its_delay() -> None:
    network = net(LinkFaults(delay_min=3, delay_max=3))
    network.send("n1", "n2", b"hi", now=10)
    assert network.next_due() == 13
    assert network.deliver_due(12) == []
    assert network.deliver_due(13) == [("n1", "n2", b"hi")]
    assert network.next_due() is None


def test_delays_stay_within_bounds() -> None:
    network = net(LinkFaults(delay_min=2, delay_max=6))
    for i in range(500):
        network.send("n1", "n2", i.to_bytes(2, "big"), now=0)
    due_times = []
    while (due := network.next_due()) is not None:
        due_times += [due] * len(network.deliver_due(due))
    assert len(due_times) == 500
    assert set(due_times) == {2, 3, 4, 5, 6}


def test_delivery_is_in_due_then_send_order() -> None:
    network = net()
    network.send("n1", "n2", b"a", now=0)
    network.send("n3", "n2", b"b", now=0)
    network.send("n1", "n2", b"c", now=0)
    assert [p for _, _, p in network.deliver_due(1)] == [b"a", b"b", b"c"]


def test_isolate_cuts_both_directions_and_connect_restores() -> None:
    network = net()
    network.isolate("n1")
    assert not network.can_talk("n1", "n2") and not network.can_talk("n2", "n1")
    assert network.can_talk("n2", "n3")
    assert network.can_talk("n1", "n1")
    network.send("n1", "n2", b"x", 0)
    network.send("n2", "n1", b"y", 0)
    assert network.deliver_due(10) == []
    network.connect("n1")
    network.send("n1", "n2", b"z", 10)
    assert network.deliver_due(20) == [("n1", "n2", b"z")]


def test_message_in_flight_is_dropped_when_its_link_is_cut() -> None:
    network = net()
    network.send("n1", "n2", b"x", 0)
    network.disconnect("n2")
    assert network.deliver_due(5) == []
    assert network.messages_dropped == 1


def test_connect_keeps_other_disconnected_nodes_cut() -> None:
    network = net()
    network.disconnect("n1")
    network.disconnect("n2")
    network.connect("n1")
    assert network.can_talk("n1", "n3")
    assert not network.can_talk("n1", "n2")


def test_connect_respects_partition_groups() -> None:
    network = net()
    network.partition([["n1", "n2", "n3"], ["n4", "n5"]])
    network.disconnect("n1")
    network.connect("n1")
    assert reachable(network, "n1") == {"n1", "n2", "n3"}


def test_partition_splits_majority_and_minority() -> None:
    network = net()
    network.partition([["n1", "n2", "n3"], ["n4", "n5"]])
    assert reachable(network, "n2") == {"n1", "n2", "n3"}
    assert reachable(network, "n5") == {"n4", "n5"}
    network.send("n1", "n4", b"lost", 0)
    network.send("n4", "n5", b"kept", 0)
    assert network.deliver_due(5) == [("n4", "n5", b"kept")]


def test_partition_leaves_unlisted_nodes_alone() -> None:
    network = net()
    network.partition([["n1", "n2"], ["n3", "n4"]])
    assert reachable(network, "n5") == {"n5"}


def test_partition_rejects_a_node_in_two_groups() -> None:
    network = net()
    with pytest.raises(UsageError) as info:
        network.partition([["n1", "n2"], ["n2", "n3"]])
    assert "n2" in str(info.value)


def test_heal_brings_every_link_up() -> None:
    network = net()
    network.partition([["n1"], ["n2", "n3", "n4", "n5"]])
    network.isolate("n3")
    network.heal()
    for a, b in combinations(NODES, 2):
        assert network.can_talk(a, b)


@pytest.mark.parametrize("seed", range(5))
def test_majorities_ring_gives_every_node_a_distinct_majority(seed: int) -> None:
    network = net(seed=seed)
    network.majorities_ring()
    views = [reachable(network, node) for node in NODES]
    assert all(node in view for node, view in zip(NODES, views, strict=True))
    assert all(len(view) >= len(NODES) // 2 + 1 for view in views)
    assert len(set(views)) == len(NODES)
    for a, b in combinations(NODES, 2):
        assert network.can_talk(a, b) == network.can_talk(b, a)
    # but no majority is shared by all: some pairs are cut
    assert not all(network.can_talk(a, b) for a, b in combinations(NODES, 2))


@pytest.mark.parametrize("size", [4, 6, 7, 9])
def test_majorities_ring_other_sizes(size: int) -> None:
    nodes = [f"m{i}" for i in range(size)]
    network = net(nodes=nodes)
    network.majorities_ring()
    views = [reachable(network, node) for node in nodes]
    assert all(len(view) > size // 2 for view in views)
    assert len(set(views)) == size


def test_drop_one_drops_everything() -> None:
    network = net(LinkFaults(drop=1.0))
    for i in range(100):
        network.send("n1", "n2", bytes([i]), i)
    assert network.deliver_due(1000) == []
    assert network.messages_sent == 100
    assert network.messages_dropped == 100


def test_duplicate_one_delivers_each_message_twice() -> None:
    network = net(LinkFaults(duplicate=1.0))
    for i in range(50):
        network.send("n1", "n2", bytes([i]), 0)
    delivered = [p for _, _, p in network.deliver_due(100)]
    assert sorted(delivered) == sorted([bytes([i]) for i in range(50)] * 2)
    assert network.messages_duplicated == 50


def test_reorder_lets_later_messages_overtake() -> None:
    network = net(LinkFaults(reorder=0.5, delay_min=1, delay_max=1, long_delay_max=50))
    for i in range(200):
        network.send("n1", "n2", i.to_bytes(2, "big"), now=i)
    order = [int.from_bytes(p, "big") for _, _, p in network.deliver_due(10_000)]
    assert sorted(order) == list(range(200))
    assert order != list(range(200))


def test_no_reorder_keeps_fifo_with_fixed_delay() -> None:
    network = net()
    for i in range(100):
        network.send("n1", "n2", i.to_bytes(2, "big"), now=i)
    order = [int.from_bytes(p, "big") for _, _, p in network.deliver_due(10_000)]
    assert order == list(range(100))


def test_link_fault_override_applies_to_one_direction() -> None:
    network = net()
    network.set_link_faults("n1", "n2", LinkFaults(drop=1.0))
    network.send("n1", "n2", b"lost", 0)
    network.send("n2", "n1", b"kept", 0)
    network.send("n1", "n3", b"kept", 0)
    assert len(network.deliver_due(5)) == 2
    network.set_link_faults("n1", "n2", None)
    network.send("n1", "n2", b"now kept", 5)
    assert network.deliver_due(10) == [("n1", "n2", b"now kept")]


def test_set_faults_changes_the_default() -> None:
    network = net()
    network.set_faults(LinkFaults(drop=1.0))
    network.send("n1", "n2", b"x", 0)
    assert network.deliver_due(10) == []


def test_counters_count_sends_even_when_dropped() -> None:
    network = net()
    network.isolate("n3")
    network.send("n1", "n2", b"abc", 0)
    network.send("n1", "n3", b"de", 0)
    network.send("n2", "n1", b"f", 0)
    assert (network.messages_sent, network.bytes_sent) == (3, 6)
    assert network.per_node_sent("n1") == 2
    assert network.per_node_sent("n2") == 1
    assert network.per_node_sent("n3") == 0
    network.reset_counters()
    assert (network.messages_sent, network.bytes_sent, network.messages_dropped) == (0, 0, 0)
    assert network.per_node_sent("n1") == 0


def test_add_node_joins_the_network() -> None:
    network = net()
    network.add_node("n6")
    network.send("n1", "n6", b"welcome", 0)
    assert network.deliver_due(5) == [("n1", "n6", b"welcome")]
    with pytest.raises(UsageError):
        network.add_node("n6")


def test_unknown_nodes_are_usage_errors() -> None:
    network = net()
    with pytest.raises(UsageError) as info:
        network.send("n1", "nope", b"", 0)
    assert "nope" in str(info.value)
    with pytest.raises(UsageError):
        network.isolate("nope")


@pytest.mark.parametrize(
    "kwargs",
    [{"drop": 1.5}, {"duplicate": -0.1}, {"delay_min": 5, "delay_max": 2}, {"long_delay_max": 0}],
)
def test_link_faults_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        LinkFaults(**kwargs)  # type: ignore[arg-type]


def transcript(seed: int) -> list[tuple[int, str, str, bytes]]:
    faults = LinkFaults(drop=0.1, duplicate=0.1, reorder=0.1, delay_min=1, delay_max=20)
    network = net(faults, seed=seed)
    out = []
    for now in range(300):
        src, dst = NODES[now % 5], NODES[(now * 3 + 1) % 5]
        if src != dst:
            network.send(src, dst, now.to_bytes(2, "big"), now)
        if now == 150:
            network.majorities_ring()
        out += [(now, *msg) for msg in network.deliver_due(now)]
    return out


def test_same_seed_same_transcript_different_seed_differs() -> None:
    assert transcript(7) == transcript(7)
    assert transcript(7) != transcript(8)
    assert len(transcript(7)) > 100
