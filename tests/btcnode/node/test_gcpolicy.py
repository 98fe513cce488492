"""`SyncGc`: frozen after each tip while syncing, given back and collected once caught up."""

from __future__ import annotations

from btcnode.daemon.gcpolicy import SyncGc
from btcnode.mempool.results import RemovalReason
from btcnode.node import TipChanged, TxRemoved


class _Collector:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def policy(self, caught_up: list[bool]) -> SyncGc:
        return SyncGc(
            lambda: caught_up[0],
            freeze=lambda: self.calls.append("freeze"),
            unfreeze=lambda: self.calls.append("unfreeze"),
            collect=lambda: self.calls.append("collect"),
        )


TIP = TipChanged(b"\x01" * 32, 5, 0)


def test_each_tip_while_syncing_freezes_and_catching_up_collects_once() -> None:
    collector, caught_up = _Collector(), [False]
    policy = collector.policy(caught_up)
    policy.on_node_event(TIP)
    policy.on_node_event(TIP)
    assert collector.calls == ["freeze", "freeze"] and policy.frozen
    caught_up[0] = True
    policy.on_node_event(TIP)
    policy.on_node_event(TIP)  # caught up and already given back: nothing more
    assert collector.calls == ["freeze", "freeze", "unfreeze", "collect"]
    assert not policy.frozen


def test_other_events_change_nothing_and_close_gives_back_once() -> None:
    collector, caught_up = _Collector(), [False]
    policy = collector.policy(caught_up)
    policy.on_node_event(TxRemoved(b"\x02" * 32, b"\x02" * 32, RemovalReason.BLOCK))
    assert collector.calls == []
    policy.on_node_event(TIP)
    policy.close()
    policy.close()
    assert collector.calls == ["freeze", "unfreeze", "collect"]


def test_a_node_that_is_caught_up_never_freezes() -> None:
    collector = _Collector()
    policy = collector.policy([True])
    policy.on_node_event(TIP)
    policy.close()
    assert collector.calls == []
