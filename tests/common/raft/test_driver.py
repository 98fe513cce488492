"""RaftNode (the asyncio driver) with real transports on 127.0.0.1, in one event loop."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from common.kv import KvCommand, KvOp, KvResult, KvStateMachine, KvStatus, encode_command
from common.net import AiohttpTransport, ClusterAuth, PeerAddress, free_tcp_ports
from common.raft import ConfState, NotLeader, RaftParams, Role
from common.raft.driver import RaftNode
from common.raft.storage import RaftStorage
from common.store import MemoryStore

PARAMS = RaftParams(election_ticks=20, heartbeat_ticks=2, tick_ms=10)
SECRET = b"x" * 32
IDS = ("a", "b", "c")


@dataclass
class Cluster:
    addresses: dict[str, PeerAddress]
    stores: dict[str, MemoryStore] = field(default_factory=dict)
    nodes: dict[str, RaftNode] = field(default_factory=dict)
    machines: dict[str, KvStateMachine] = field(default_factory=dict)

    async def start(self, node_id: str, *, snapshot_entries: int = 1000) -> RaftNode:
        store = self.stores.setdefault(node_id, MemoryStore())
        transport = AiohttpTransport(
            node_id, self.addresses[node_id], self.addresses, ClusterAuth(SECRET)
        )
        machine = KvStateMachine()
        node = RaftNode(
            node_id,
            PARAMS,
            RaftStorage(store),
            transport,
            machine,
            bootstrap_conf=ConfState(voters=frozenset(IDS)),
            snapshot_entries=snapshot_entries,
            rng=random.Random(node_id),
        )
        await node.start()
        self.nodes[node_id], self.machines[node_id] = node, machine
        return node

    async def stop(self, node_id: str) -> None:
        await self.nodes.pop(node_id).stop()

    async def leader(self, timeout: float = 10.0) -> RaftNode:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            leaders = [n for n in self.nodes.values() if n.core.role == Role.LEADER]
            if len(leaders) == 1:
                return leaders[0]
            await asyncio.sleep(0.02)
        raise AssertionError("no single leader elected")


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    ports = free_tcp_ports(len(IDS))
    c = Cluster({i: PeerAddress(i, "127.0.0.1", p) for i, p in zip(IDS, ports, strict=True)})
    for node_id in IDS:
        await c.start(node_id)
    try:
        yield c
    finally:
        for node_id in list(c.nodes):
            await c.stop(node_id)


async def poll(condition: Callable[[], bool], tries: int) -> None:
    """Check `condition` every 20 ms until it holds, `tries` times at most; callers assert."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.02)


def put(key: str, value: bytes, client: str = "", seq: int = 0) -> bytes:
    return encode_command(KvCommand(KvOp.PUT, key, value, client_id=client, seq=seq))


async def test_propose_applies_on_every_replica(cluster: Cluster) -> None:
    leader = await cluster.leader()
    results = await asyncio.gather(*(leader.propose(put(f"k{i}", b"v"), 5) for i in range(50)))
    assert all(isinstance(r, KvResult) and r.status == KvStatus.OK for r in results)
    await poll(lambda: all(m.get("k49") == b"v" for m in cluster.machines.values()), 200)
    assert {m.digest() for m in cluster.machines.values()} == {cluster.machines["a"].digest()}


async def test_follower_refuses_with_leader_hint(cluster: Cluster) -> None:
    leader = await cluster.leader()
    follower = next(n for n in cluster.nodes.values() if n is not leader)
    await poll(lambda: bool(follower.core.leader_id), 100)  # learnt from its first append
    with pytest.raises(NotLeader) as info:
        await follower.propose(put("k", b"v"), 1)
    assert info.value.leader_hint == leader.node_id
    with pytest.raises(NotLeader):
        await follower.read_barrier(1)


async def test_read_barrier_then_local_read_is_current(cluster: Cluster) -> None:
    leader = await cluster.leader()
    await leader.propose(put("x", b"1"), 5)
    await leader.read_barrier(5)
    assert cluster.machines[leader.node_id].get("x") == b"1"


async def test_new_leader_after_leader_stops_and_state_survives_restart(cluster: Cluster) -> None:
    old = await cluster.leader()
    await old.propose(put("before", b"1", "c1", 1), 5)
    await cluster.stop(old.node_id)
    new = await cluster.leader()
    assert new.node_id != old.node_id
    await new.propose(put("after", b"2", "c1", 2), 5)
    restarted = await cluster.start(old.node_id)
    await poll(lambda: cluster.machines[old.node_id].get("after") == b"2", 300)
    assert cluster.machines[old.node_id].get("before") == b"1"
    assert cluster.machines[old.node_id].get("after") == b"2"
    assert restarted.core.role != Role.LEADER or restarted.core.term > old.core.term


async def test_retried_command_applies_once(cluster: Cluster) -> None:
    leader = await cluster.leader()
    append = encode_command(KvCommand(KvOp.APPEND, "log", b"x", client_id="c", seq=1))
    first = await leader.propose(append, 5)
    second = await leader.propose(append, 5)
    assert first == second
    assert cluster.machines[leader.node_id].get("log") == b"x"


async def test_snapshots_bound_the_stored_log(cluster: Cluster) -> None:
    for node_id in IDS:
        await cluster.stop(node_id)
    for node_id in IDS:
        await cluster.start(node_id, snapshot_entries=20)
    leader = await cluster.leader()
    for i in range(120):
        await leader.propose(put(f"k{i % 7}", str(i).encode()), 5)
    await asyncio.sleep(0.3)
    store = cluster.stores[leader.node_id]
    stored = sum(1 for _ in store.iterate(prefix=b"raft/log/"))
    assert leader.core.snapshot_index >= 100
    assert stored <= 40, f"{stored} log entries stored despite snapshots every 20"
