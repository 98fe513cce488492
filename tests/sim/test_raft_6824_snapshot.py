"""The MIT 6.5840 Raft snapshot tests (lab 2D / 3D), on the simulated cluster.

Every server's app takes a snapshot every `SNAPSHOT_INTERVAL` applied entries (6.824's
`applierSnap`); the image is the applied log, so a server restored from a snapshot is checked
against what the others applied. The persisted Raft state (log + hard state, snapshot
excluded) must stay under `MAX_LOG_SIZE` bytes, as in Go.
"""

from __future__ import annotations

from tests.sim.raft_harness import MAX_LOG_SIZE, SNAPSHOT_INTERVAL, RaftHarness


def _snapcommon(seed: int, disconnect: bool, reliable: bool, crash: bool) -> None:
    iters = 30
    servers = 3
    h = RaftHarness(servers, seed, unreliable=not reliable, snapshots=True)
    h.one(h.rand_int(), servers, True)
    leader1 = h.check_one_leader()
    for i in range(iters):
        victim, sender = (leader1 + 1) % servers, leader1
        if i % 3 == 1:
            sender, victim = (leader1 + 1) % servers, leader1
        if disconnect:
            h.disconnect(victim)
            h.one(h.rand_int(), servers - 1, True)
        if crash:
            h.crash1(victim)
            h.one(h.rand_int(), servers - 1, True)
        # perhaps send enough to get a snapshot
        for _ in range(SNAPSHOT_INTERVAL // 2 + h.rand.randrange(SNAPSHOT_INTERVAL)):
            h.start(sender, h.rand_int())
        # let the appliers catch up; without failures every follower must be current, so
        # that SnapshotBasic needs no InstallSnapshot
        h.one(h.rand_int(), servers if not (disconnect or crash) else servers - 1, True)
        size = h.log_size()
        assert size < MAX_LOG_SIZE, f"Log size too large: {size} >= {MAX_LOG_SIZE}"
        if disconnect:  # a lagging follower may need a snapshot to catch up
            h.connect(victim)
            h.one(h.rand_int(), servers, True)
            leader1 = h.check_one_leader()
        if crash:
            h.start1(victim)
            h.connect(victim)
            h.one(h.rand_int(), servers, True)
            leader1 = h.check_one_leader()


def test_snapshot_basic(seed: int) -> None:
    _snapcommon(seed, False, True, False)


def test_snapshot_install(seed: int) -> None:
    _snapcommon(seed, True, True, False)


def test_snapshot_install_unreliable(seed: int) -> None:
    _snapcommon(seed, True, False, False)


def test_snapshot_install_crash(seed: int) -> None:
    _snapcommon(seed, False, True, True)


def test_snapshot_install_uncrash(seed: int) -> None:
    _snapcommon(seed, False, False, True)


def test_snapshot_all_crash(seed: int) -> None:
    """Servers persist snapshots and restart from them plus the tail of the log."""
    servers = 3
    h = RaftHarness(servers, seed, snapshots=True)
    h.one(h.rand_int(), servers, True)
    for _ in range(5):
        for _ in range(SNAPSHOT_INTERVAL // 2 + h.rand.randrange(SNAPSHOT_INTERVAL)):
            h.one(h.rand_int(), servers, True)
        index1 = h.one(h.rand_int(), servers, True)
        for i in range(servers):
            h.crash1(i)
        for i in range(servers):
            h.start1(i)
            h.connect(i)
        index2 = h.one(h.rand_int(), servers, True)
        assert index2 >= index1 + 1, f"index decreased from {index1} to {index2}"


def test_snapshot_init(seed: int) -> None:
    """Servers initialise their in-memory copy of the snapshot, so later writes keep it."""
    servers = 3
    h = RaftHarness(servers, seed, snapshots=True)
    h.one(h.rand_int(), servers, True)
    for _ in range(SNAPSHOT_INTERVAL + 1):  # enough ops to make a snapshot
        h.one(h.rand_int(), servers, True)
    for i in range(servers):
        h.crash1(i)
    for i in range(servers):
        h.start1(i)
        h.connect(i)
    h.one(h.rand_int(), servers, True)  # something to write back to persistent storage
    for i in range(servers):
        h.crash1(i)
    for i in range(servers):
        h.start1(i)
        h.connect(i)
    h.one(h.rand_int(), servers, True)  # another op, to trigger a potential bug
