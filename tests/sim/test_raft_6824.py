"""The MIT 6.824 / 6.5840 Raft tests of labs 2A-2B (3A-3B), on the simulated cluster.

Persistence (2C) is in `test_raft_6824_persist.py`, snapshots (2D) in
`test_raft_6824_snapshot.py`.

Each test keeps the original's steps and pass criteria; `time.Sleep` advances simulated time.
Index expectations: Go's solutions have no NOOP entries, ours appends one per new leader
(Raft §8), so where Go expects "index k" we ask for "the k-th command" of the log
(`command_position` / `command_number` / `n_committed_command`), which is what Go's index
means there. Only the first command of a test can sit behind a NOOP of the same term.
"""

from __future__ import annotations

from tests.sim.raft_harness import ELECTION_TIMEOUT_MS as ELECTION
from tests.sim.raft_harness import RaftHarness, cmd_bytes

# -- 2A / 3A: leader election --------------------------------------------------------------


def test_initial_election(seed: int) -> None:
    h = RaftHarness(3, seed)
    h.check_one_leader()
    h.sleep(50)  # avoid racing with followers learning of the election
    term1 = h.check_terms()
    assert term1 >= 1, f"term is {term1}, but should be at least 1"
    h.sleep(2 * ELECTION)
    term2 = h.check_terms()
    # Go only warns here; the simulated network has no failures, so we require it.
    assert term1 == term2, f"term changed from {term1} to {term2} with no failures"
    h.check_one_leader()


def test_re_election(seed: int) -> None:
    h = RaftHarness(3, seed)
    leader1 = h.check_one_leader()
    h.disconnect(leader1)  # a new leader is elected
    h.check_one_leader()
    h.connect(leader1)  # the old leader rejoins without disturbing the new one
    leader2 = h.check_one_leader()
    h.disconnect(leader2)  # no quorum: no leader
    h.disconnect((leader2 + 1) % 3)
    h.sleep(2 * ELECTION)
    h.check_no_leader()
    h.connect((leader2 + 1) % 3)  # a quorum arises: a leader
    h.check_one_leader()
    h.connect(leader2)
    h.check_one_leader()


def test_many_elections(seed: int) -> None:
    servers = 7
    h = RaftHarness(servers, seed)
    h.check_one_leader()
    for _ in range(1, 10):
        victims = [h.rand.randrange(servers) for _ in range(3)]
        for i in victims:
            h.disconnect(i)
        h.check_one_leader()  # the old leader survives or the other four elect one
        for i in victims:
            h.connect(i)
    h.check_one_leader()


# -- 2B / 3B: log agreement ----------------------------------------------------------------


def test_basic_agree(seed: int) -> None:
    h = RaftHarness(3, seed)
    for index in range(1, 4):
        assert h.n_committed_command(index) == 0, "some have committed before Start()"
        xindex = h.one(index * 100, 3, False)
        assert h.command_number(xindex) == index, f"got index {xindex}, expected command {index}"


def test_rpc_bytes(seed: int) -> None:
    """Each command is sent to each peer about once: bytes of every message the network
    carried (requests and replies, both directions) <= servers * command bytes + 50000."""
    servers = 3
    h = RaftHarness(servers, seed)
    first = h.one(99, servers, False)
    bytes0 = h.bytes_total()
    sent = 0
    for index in range(2, 12):
        cmd = "".join(h.rand.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(5000))
        xindex = h.one(cmd, servers, False)
        assert xindex == first + index - 1, f"got index {xindex} but expected {first + index - 1}"
        sent += len(cmd)
    got = h.bytes_total() - bytes0
    expected = servers * sent
    assert got <= expected + 50000, f"too many RPC bytes; got {got}, expected {expected}"


def test_follower_failure(seed: int) -> None:
    h = RaftHarness(3, seed)
    h.one(101, 3, False)
    leader1 = h.check_one_leader()
    h.disconnect((leader1 + 1) % 3)
    h.one(102, 2, False)  # the leader and the other follower agree
    h.sleep(ELECTION)
    h.one(103, 2, False)
    leader2 = h.check_one_leader()
    h.disconnect((leader2 + 1) % 3)
    h.disconnect((leader2 + 2) % 3)
    index, _, ok = h.start(leader2, 104)
    assert ok, "leader rejected Start()"
    position = h.command_position(leader2, index)
    assert position == 4, f"expected the 4th command, got {position} (index {index})"
    h.sleep(2 * ELECTION)
    n, _ = h.n_committed(index)
    assert n == 0, f"{n} committed but no majority"


def test_leader_failure(seed: int) -> None:
    h = RaftHarness(3, seed)
    h.one(101, 3, False)
    leader1 = h.check_one_leader()
    h.disconnect(leader1)
    h.one(102, 2, False)  # the remaining followers elect a new leader
    h.sleep(ELECTION)
    h.one(103, 2, False)
    leader2 = h.check_one_leader()
    h.disconnect(leader2)
    for i in range(3):
        h.start(i, 104)
    h.sleep(2 * ELECTION)
    n = h.n_committed_command(4)
    assert n == 0, f"{n} committed the 4th command but there is no majority"


def test_fail_agree(seed: int) -> None:
    h = RaftHarness(3, seed)
    h.one(101, 3, False)
    leader = h.check_one_leader()
    h.disconnect((leader + 1) % 3)
    h.one(102, 2, False)
    h.one(103, 2, False)
    h.sleep(ELECTION)
    h.one(104, 2, False)
    h.one(105, 2, False)
    h.connect((leader + 1) % 3)
    h.one(106, 3, True)  # the full set keeps old agreements and agrees on new ones
    h.sleep(ELECTION)
    h.one(107, 3, True)


def test_fail_no_agree(seed: int) -> None:
    servers = 5
    h = RaftHarness(servers, seed)
    h.one(10, servers, False)
    leader = h.check_one_leader()
    for k in (1, 2, 3):
        h.disconnect((leader + k) % servers)
    index, _, ok = h.start(leader, 20)
    assert ok, "leader rejected Start()"
    position = h.command_position(leader, index)
    assert position == 2, f"expected the 2nd command, got {position} (index {index})"
    h.sleep(2 * ELECTION)
    n, _ = h.n_committed(index)
    assert n == 0, f"{n} committed but no majority"
    for k in (1, 2, 3):
        h.connect((leader + k) % servers)
    # The disconnected majority may have chosen a leader among themselves, forgetting 20.
    leader2 = h.check_one_leader()
    index2, _, ok2 = h.start(leader2, 30)
    assert ok2, "leader2 rejected Start()"
    position2 = h.command_position(leader2, index2)
    assert 2 <= position2 <= 3, f"unexpected command position {position2} (index {index2})"
    h.one(1000, servers, True)


def test_concurrent_starts(seed: int) -> None:
    servers = 3
    h = RaftHarness(servers, seed)
    success = False
    for attempt in range(5):
        if attempt > 0:
            h.sleep(3000)  # give the solution some time to settle
        leader = h.check_one_leader()
        _, term, ok = h.start(leader, 1)
        if not ok:
            continue  # the leader moved on really quickly
        started: list[int] = []
        for i in range(5):  # Go starts these from 5 goroutines at once; the clock stands still
            index, term1, ok1 = h.start(leader, 100 + i)
            if term1 == term and ok1:
                started.append(index)
        if any(h.get_state(j)[0] != term for j in range(servers)):
            continue  # the term changed: cannot expect low counts
        cmds: list[bytes | None] = []
        failed = False
        for index in started:
            cmd = h.wait(index, servers, term)
            if cmd == -1:
                failed = True  # peers moved on to later terms
                break
            cmds.append(cmd)  # type: ignore[arg-type]
        if failed:
            continue
        for i in range(5):
            assert cmd_bytes(100 + i) in cmds, f"cmd {100 + i} missing in {cmds}"
        success = True
        break
    assert success, "term changed too often"


def test_rejoin(seed: int) -> None:
    h = RaftHarness(3, seed)
    h.one(101, 3, True)
    leader1 = h.check_one_leader()
    h.disconnect(leader1)
    for cmd in (102, 103, 104):  # the old leader tries to agree on some entries
        h.start(leader1, cmd)
    h.one(103, 2, True)  # the new leader commits, also at the index of 102
    leader2 = h.check_one_leader()
    h.disconnect(leader2)
    h.connect(leader1)
    h.one(104, 2, True)
    h.connect(leader2)
    h.one(105, 3, True)


def test_backup(seed: int) -> None:
    servers = 5
    h = RaftHarness(servers, seed)
    h.one(h.rand_int(), servers, True)
    leader1 = h.check_one_leader()
    for k in (2, 3, 4):  # the leader and one follower in a partition
        h.disconnect((leader1 + k) % servers)
    for _ in range(50):  # lots of commands that won't commit
        h.start(leader1, h.rand_int())
    h.sleep(ELECTION // 2)
    h.disconnect(leader1)
    h.disconnect((leader1 + 1) % servers)
    for k in (2, 3, 4):  # let the other partition recover
        h.connect((leader1 + k) % servers)
    for _ in range(50):
        h.one(h.rand_int(), 3, True)
    leader2 = h.check_one_leader()  # now another partitioned leader and one follower
    other = (leader1 + 2) % servers
    if leader2 == other:
        other = (leader2 + 1) % servers
    h.disconnect(other)
    for _ in range(50):
        h.start(leader2, h.rand_int())
    h.sleep(ELECTION // 2)
    for i in range(servers):  # bring the original leader back to life
        h.disconnect(i)
    h.connect(leader1)
    h.connect((leader1 + 1) % servers)
    h.connect(other)
    for _ in range(50):
        h.one(h.rand_int(), 3, True)
    for i in range(servers):
        h.connect(i)
    h.one(h.rand_int(), servers, True)


def _requests(h: RaftHarness) -> int:
    return sum(h.rpc_count(j) for j in range(h.n))


def _carried(h: RaftHarness) -> int:
    return int(h.cluster.net.messages_sent)


def _count_agreement(h: RaftHarness, iters: int) -> tuple[int, int] | None:
    """One try of Go's agreement phase: Start 1 + iters + 1 commands on the leader, wait for
    the first 1 + iters; returns the (requests, messages) it took, None if the term moved."""
    leader = h.check_one_leader()
    requests1, carried1 = _requests(h), _carried(h)
    starti, term, ok = h.start(leader, 1)
    if not ok:
        return None  # the leader moved on really quickly
    cmds: list[int] = []
    for i in range(1, iters + 2):
        x = h.rand.getrandbits(31)
        cmds.append(x)
        index1, term1, ok1 = h.start(leader, x)
        if term1 != term or not ok1:
            return None
        assert starti + i == index1, "Start() failed"
    for i in range(1, iters + 1):
        cmd = h.wait(starti + i, h.n, term)
        if cmd == -1:
            return None  # term changed: try again
        assert cmd == cmd_bytes(cmds[i - 1]), f"wrong value {cmd!r} committed at {starti + i}"
    if any(h.get_state(j)[0] != term for j in range(h.n)):
        return None  # term changed: cannot expect low counts
    return _requests(h) - requests1, _carried(h) - carried1


def test_count(seed: int) -> None:
    """RPC counts aren't too high.

    Go counts RPCs, and a request with its reply is one RPC. We count Raft *requests* (every
    message type but the *_RESP replies; `SimCluster.raft_requests_*`) against Go's bounds,
    which is the same quantity, and also check that all messages the network carried
    (requests + replies) stay within twice the bound.
    """
    servers, iters = 3, 10
    h = RaftHarness(servers, seed)
    h.check_one_leader()
    total1 = _requests(h)
    assert 0 < total1 <= 30, f"too many or few RPCs ({total1}) to elect initial leader"
    assert _carried(h) <= 2 * 30, f"{_carried(h)} messages to elect the initial leader"
    used = None
    for attempt in range(5):
        if attempt > 0:
            h.sleep(3000)  # give the solution some time to settle
        used = _count_agreement(h, iters)
        if used is not None:
            break
    assert used is not None, "term changed too often"
    bound = (iters + 1 + 3) * 3
    assert used[0] <= bound, f"too many RPCs ({used[0]}) for {iters} entries"
    assert used[1] <= 2 * bound, f"too many messages ({used[1]}) for {iters} entries"
    total2, carried2 = _requests(h), _carried(h)
    h.sleep(ELECTION)
    idle = _requests(h) - total2
    assert idle <= 3 * 20, f"too many RPCs ({idle}) for 1 second of idleness"
    assert _carried(h) - carried2 <= 2 * 3 * 20, "too many messages for 1 second of idleness"
