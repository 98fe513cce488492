"""6.824's `GenericTest`: clients append and get for a while, under the chosen faults.

Per iteration (3 of them): `nclients` clients each loop on their own key (or random keys),
appending "x {cli} {j} y" or reading and checking the value equals everything they appended;
optionally a partitioner re-splits the servers at random every election timeout or so; after
5 simulated seconds the clients stop, the network heals, optionally every server crashes and
restarts; then each client's key must hold all its appends once each in order, and with
snapshots the persisted Raft state must stay within 8x maxraftstate. At the end the whole
history must be linearizable (checked with `tests.lincheck`) and every acknowledged write must
be in the agreed log.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from tests.sim.kv_clerk import Clerk
from tests.sim.kv_harness import ELECTION_TIMEOUT_MS, KvHarness, check_clnt_appends
from tests.sim.kv_service import READ_LOG

__all__ = ["GenericParams", "generic_test"]

ITERATIONS = 3  # 6.824 runs the client phase three times
CLIENT_PHASE_MS = 5000  # each time.Sleep(5 * time.Second) in GenericTest


@dataclass(frozen=True, slots=True)
class GenericParams:
    nclients: int
    nservers: int
    unreliable: bool = False
    crash: bool = False
    partitions: bool = False
    maxraftstate: int = -1
    randomkeys: bool = False
    read_mode: int = READ_LOG


class _Flags:
    def __init__(self) -> None:
        self.done_clients = False
        self.done_partitioner = False


def _client(
    h: KvHarness, p: GenericParams, cli: int, flags: _Flags, counts: list[int]
) -> Generator[Any, Any, None]:
    ck = h.make_client(h.all())
    j = 0
    last = b""
    if not p.randomkeys:
        yield from ck.put(str(cli), last)
    while not flags.done_clients:
        key = str(h.rand.randrange(p.nclients)) if p.randomkeys else str(cli)
        nv = f"x {cli} {j} y".encode()
        if h.rand.randrange(1000) < 500:
            yield from ck.append(key, nv)
            if not p.randomkeys:
                last += nv
            j += 1
        elif p.randomkeys and h.rand.randrange(1000) < 100:
            yield from ck.put(key, nv)
            j += 1
        else:
            v = yield from ck.get(key)
            if not p.randomkeys and v != last:
                h.fail(f"get wrong value, key {key}, wanted:\n{last!r}\n, got\n{v!r}\n")
    counts[cli] = j


def _partitioner(h: KvHarness, flags: _Flags) -> Generator[Any, Any, None]:
    while not flags.done_partitioner:
        side = [h.rand.randrange(2) for _ in range(h.n)]
        h.partition([i for i in range(h.n) if side[i] == 0], [i for i in range(h.n) if side[i]])
        yield ELECTION_TIMEOUT_MS + h.rand.randrange(200)


def generic_test(p: GenericParams, seed: int) -> KvHarness:
    h = KvHarness(
        p.nservers,
        seed,
        unreliable=p.unreliable,
        maxraftstate=p.maxraftstate,
        read_mode=p.read_mode,
    )
    ck: Clerk = h.make_client(h.all())
    for _ in range(ITERATIONS):
        flags = _Flags()
        counts = [-1] * p.nclients
        clients = [h.spawn(_client(h, p, cli, flags, counts)) for cli in range(p.nclients)]
        partitioner = None
        if p.partitions:
            h.sleep(1000)  # let the clients make progress without interruption
            partitioner = h.spawn(_partitioner(h, flags))
        h.sleep(CLIENT_PHASE_MS)
        flags.done_clients = flags.done_partitioner = True
        if partitioner is not None:
            h.wait_all([partitioner])
            # A request stuck in a minority returns once that server learns of a new term.
            h.connect_all()
            h.sleep(ELECTION_TIMEOUT_MS)
        if p.crash:
            for i in range(p.nservers):
                h.shutdown_server(i)
            h.sleep(ELECTION_TIMEOUT_MS)
            for i in range(p.nservers):
                h.start_server(i)
            h.connect_all()
        h.wait_all(clients)
        for i in range(p.nclients):
            v = h.get(ck, str(i))
            if not p.randomkeys:
                check_clnt_appends(h.fail, i, v, counts[i])
        if p.maxraftstate > 0:
            sz = h.log_size()
            if sz > 8 * p.maxraftstate:
                h.fail(f"logs were not trimmed ({sz} > 8*{p.maxraftstate})")
        if p.maxraftstate < 0:
            ssz = h.snapshot_size()
            if ssz > 0:
                h.fail(f"snapshot used ({ssz} bytes) although maxraftstate = {p.maxraftstate}")
    h.finish()
    return h
