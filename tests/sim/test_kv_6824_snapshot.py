"""The MIT 6.824 / 6.5840 kvraft snapshot tests (lab 3B / 4B), simulated.

With `maxraftstate` = 1000 a server snapshots its state machine as soon as its persisted Raft
state (log + hard state) reaches 1000 bytes; the tests require that state to stay within 8x
that bound, and a snapshot of one small key to stay within 500 bytes.
"""

from __future__ import annotations

import pytest

from common.raft.types import MessageType
from tests.sim.kv_generic import GenericParams, generic_test
from tests.sim.kv_harness import ELECTION_TIMEOUT_MS, KvHarness
from tests.sim.kv_service import READ_INDEX

MAXRAFTSTATE = 1000
MAX_SNAPSHOT_STATE = 500  # "a generous bound for the operations we're doing here"

GENERIC = {
    "snapshot_recover": GenericParams(1, 5, crash=True, maxraftstate=MAXRAFTSTATE),
    "snapshot_recover_many_clients": GenericParams(
        20, 5, crash=True, maxraftstate=MAXRAFTSTATE, read_mode=READ_INDEX
    ),
    "snapshot_unreliable": GenericParams(5, 5, unreliable=True, maxraftstate=MAXRAFTSTATE),
    "snapshot_unreliable_recover": GenericParams(
        5, 5, unreliable=True, crash=True, maxraftstate=MAXRAFTSTATE, read_mode=READ_INDEX
    ),
    "snapshot_unreliable_recover_concurrent_partition": GenericParams(
        5, 5, unreliable=True, crash=True, partitions=True, maxraftstate=MAXRAFTSTATE
    ),
    "snapshot_unreliable_recover_concurrent_partition_linearizable": GenericParams(
        15,
        7,
        unreliable=True,
        crash=True,
        partitions=True,
        maxraftstate=MAXRAFTSTATE,
        randomkeys=True,
        read_mode=READ_INDEX,
    ),
}


@pytest.mark.parametrize("name", list(GENERIC))
def test_generic_snapshot(name: str, seed: int) -> None:
    h = generic_test(GENERIC[name], seed)
    assert h.snapshot_size() > 0, "no server ever took a snapshot"


def test_snapshot_rpc(seed: int) -> None:
    """A server that fell behind catches up through InstallSnapshot; the majority trims its
    log even though the minority does not answer."""
    h = KvHarness(3, seed, maxraftstate=MAXRAFTSTATE)
    ck = h.make_client(h.all())
    h.put(ck, "a", b"A")
    h.check(ck, "a", b"A")
    h.partition([0, 1], [2])  # a bunch of puts into the majority partition
    ck1 = h.make_client([0, 1])
    for i in range(50):
        h.put(ck1, str(i), str(i).encode())
    h.sleep(ELECTION_TIMEOUT_MS)
    h.put(ck1, "b", b"B")
    sz = h.log_size()  # the majority has thrown away most of its log
    assert sz <= 8 * MAXRAFTSTATE, f"logs were not trimmed ({sz} > 8*{MAXRAFTSTATE})"
    snapshots_before = h.cluster.raft_sent_by_type[MessageType.SNAPSHOT]
    h.partition([0, 2], [1])  # a group that needs the lagging server, which must catch up
    ck1 = h.make_client([0, 2])
    h.put(ck1, "c", b"C")
    h.put(ck1, "d", b"D")
    h.check(ck1, "a", b"A")
    h.check(ck1, "b", b"B")
    h.check(ck1, "1", b"1")
    h.check(ck1, "49", b"49")
    sent = h.cluster.raft_sent_by_type[MessageType.SNAPSHOT] - snapshots_before
    assert sent >= 1, "the lagging server caught up without an InstallSnapshot"
    h.partition([0, 1, 2], [])  # now everybody
    h.put(ck, "e", b"E")
    h.check(ck, "c", b"C")
    h.check(ck, "e", b"E")
    h.check(ck, "1", b"1")
    h.finish()


def test_snapshot_size(seed: int) -> None:
    h = KvHarness(3, seed, maxraftstate=MAXRAFTSTATE)
    ck = h.make_client(h.all())
    for _ in range(200):
        h.put(ck, "x", b"0")
        h.check(ck, "x", b"0")
        h.put(ck, "x", b"1")
        h.check(ck, "x", b"1")
    sz = h.log_size()  # the servers have thrown away most of their log
    assert sz <= 8 * MAXRAFTSTATE, f"logs were not trimmed ({sz} > 8*{MAXRAFTSTATE})"
    ssz = h.snapshot_size()
    assert 0 < ssz <= MAX_SNAPSHOT_STATE, f"snapshot size {ssz} not in (0, {MAX_SNAPSHOT_STATE}]"
    h.finish()
