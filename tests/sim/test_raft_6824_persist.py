"""The MIT 6.824 / 6.5840 Raft persistence tests (lab 2C / 3C), on the simulated cluster.

A crash here is a power loss: the node's `SimStore` loses every write not followed by a synced
write, so these tests also check that the core asks for `must_sync` whenever it must.
From iteration 200 on, Figure8Unreliable turns on labrpc's LongReordering: two replies in
three are held back 200 ms + rand(1 + rand(2000)) ms (`SimCluster.long_reordering`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from tests.sim.raft_harness import ELECTION_TIMEOUT_MS as ELECTION
from tests.sim.raft_harness import RaftHarness, cmd_bytes


def test_persist1(seed: int) -> None:
    servers = 3
    h = RaftHarness(servers, seed)
    h.one(11, servers, True)
    for i in range(servers):  # crash and restart all
        h.start1(i)
    for i in range(servers):
        h.disconnect(i)
        h.connect(i)
    h.one(12, servers, True)
    leader1 = h.check_one_leader()
    h.disconnect(leader1)
    h.start1(leader1)
    h.connect(leader1)
    h.one(13, servers, True)
    leader2 = h.check_one_leader()
    h.disconnect(leader2)
    index14 = h.one(14, servers - 1, True)
    h.start1(leader2)
    h.connect(leader2)
    h.wait(index14, servers, -1)  # wait for leader2 to join before killing i3
    i3 = (h.check_one_leader() + 1) % servers
    h.disconnect(i3)
    h.one(15, servers - 1, True)
    h.start1(i3)
    h.connect(i3)
    h.one(16, servers, True)


def test_persist2(seed: int) -> None:
    servers = 5
    h = RaftHarness(servers, seed)
    index = 1
    for _ in range(5):
        h.one(10 + index, servers, True)
        index += 1
        leader1 = h.check_one_leader()
        h.disconnect((leader1 + 1) % servers)
        h.disconnect((leader1 + 2) % servers)
        h.one(10 + index, servers - 2, True)
        index += 1
        for k in (0, 3, 4):
            h.disconnect((leader1 + k) % servers)
        h.start1((leader1 + 1) % servers)
        h.start1((leader1 + 2) % servers)
        h.connect((leader1 + 1) % servers)
        h.connect((leader1 + 2) % servers)
        h.sleep(ELECTION)
        h.start1((leader1 + 3) % servers)
        h.connect((leader1 + 3) % servers)
        h.one(10 + index, servers - 2, True)
        index += 1
        h.connect((leader1 + 4) % servers)
        h.connect((leader1 + 0) % servers)
    h.one(1000, servers, True)


def test_persist3(seed: int) -> None:
    """Partitioned leader and one follower crash, leader restarts."""
    servers = 3
    h = RaftHarness(servers, seed)
    h.one(101, 3, True)
    leader = h.check_one_leader()
    h.disconnect((leader + 2) % servers)
    h.one(102, 2, True)
    h.crash1((leader + 0) % servers)
    h.crash1((leader + 1) % servers)
    h.connect((leader + 2) % servers)
    h.start1((leader + 0) % servers)
    h.connect((leader + 0) % servers)
    h.one(103, 2, True)
    h.start1((leader + 1) % servers)
    h.connect((leader + 1) % servers)
    h.one(104, servers, True)


def _pause(h: RaftHarness) -> None:
    """Figure 8's sleep: usually under 13 ms, one time in ten up to half an election timeout."""
    if h.rand.randrange(1000) < 100:
        h.sleep(h.rand.randrange(ELECTION // 2))
    else:
        h.sleep(h.rand.randrange(13))


def test_figure8(seed: int) -> None:
    """Raft paper Figure 8: leaders crash soon after appending, often before committing."""
    servers = 5
    h = RaftHarness(servers, seed)
    h.one(h.rand_int(), 1, True)
    nup = servers
    for _ in range(1000):
        leader = -1
        for i in range(servers):
            if h.alive(i) and h.start(i, h.rand_int())[2]:
                leader = i
        _pause(h)
        if leader != -1:
            h.crash1(leader)
            nup -= 1
        if nup < 3:
            s = h.rand.randrange(servers)
            if not h.alive(s):
                h.start1(s)
                h.connect(s)
                nup += 1
    for i in range(servers):
        if not h.alive(i):
            h.start1(i)
            h.connect(i)
    h.one(h.rand_int(), servers, True)


def test_unreliable_agree(seed: int) -> None:
    servers = 5
    h = RaftHarness(servers, seed, unreliable=True)
    background = []
    for iters in range(1, 50):
        for j in range(4):
            background.append(h.loop.spawn(h.one_proc(100 * iters + j, 1, True)))
        h.one(iters, 1, True)
    h.set_unreliable(False)
    ok = h.cluster.run_for(60_000, lambda: all(f.done for f in background))
    assert ok, "concurrent one() calls did not finish"
    h.one(100, servers, True)


def test_figure8_unreliable(seed: int) -> None:
    servers = 5
    h = RaftHarness(servers, seed, unreliable=True)
    h.one(h.rand.randrange(10000), 1, True)
    nup = servers
    for iters in range(1000):
        if iters == 200:
            h.cluster.long_reordering = True
        leader = -1
        for i in range(servers):
            ok = h.start(i, h.rand.randrange(10000))[2]
            if ok and h.connected[i]:
                leader = i
        _pause(h)
        if leader != -1 and h.rand.randrange(1000) < ELECTION // 2:
            h.disconnect(leader)
            nup -= 1
        if nup < 3:
            s = h.rand.randrange(servers)
            if not h.connected[s]:
                h.connect(s)
                nup += 1
    for i in range(servers):
        if not h.connected[i]:
            h.connect(i)
    h.one(h.rand.randrange(10000), servers, True)


def _churn_client(h: RaftHarness, me: int, stop: list[bool]) -> Generator[Any, Any, list[int]]:
    values: list[int] = []
    while not stop[0]:
        x = h.rand_int()
        index, ok = -1, False
        for i in range(h.n):  # try them all, maybe one of them is a leader
            index1, _, ok1 = h.start(i, x)
            if ok1:
                index, ok = index1, True
        if ok:  # maybe the leader commits our value, maybe not; don't wait forever
            for to in (10, 20, 50, 100, 200):
                nd, cmd = h.n_committed(index)
                if nd > 0:
                    if cmd == cmd_bytes(x):
                        values.append(x)
                    break
                yield to
        else:
            yield 79 + me * 17
    return values


def _internal_churn(seed: int, unreliable: bool) -> None:
    servers = 5
    h = RaftHarness(servers, seed, unreliable=unreliable)
    stop = [False]
    clients = [h.loop.spawn(_churn_client(h, me, stop)) for me in range(3)]
    for _ in range(20):
        if h.rand.randrange(1000) < 200:
            h.disconnect(h.rand.randrange(servers))
        if h.rand.randrange(1000) < 500:
            i = h.rand.randrange(servers)
            if not h.alive(i):
                h.start1(i)
            h.connect(i)
        if h.rand.randrange(1000) < 200:
            i = h.rand.randrange(servers)
            if h.alive(i):
                h.crash1(i)
        # Infrequent enough that peers often keep up, frequent enough that things don't settle.
        h.sleep(ELECTION * 7 // 10)
    h.sleep(ELECTION)
    h.set_unreliable(False)
    for i in range(servers):
        if not h.alive(i):
            h.start1(i)
        h.connect(i)
    stop[0] = True
    assert h.cluster.run_for(60_000, lambda: all(c.done for c in clients)), "client failed"
    values = [v for c in clients for v in c.value]
    h.sleep(ELECTION)
    last_index = h.one(h.rand_int(), servers, True)
    really = [h.wait(index, servers, -1) for index in range(1, last_index + 1)]
    for v in values:
        assert cmd_bytes(v) in really, f"didn't find a value: {v}"


def test_reliable_churn(seed: int) -> None:
    _internal_churn(seed, False)


def test_unreliable_churn(seed: int) -> None:
    _internal_churn(seed, True)
