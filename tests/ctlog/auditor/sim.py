"""A deterministic simulation of gossiping auditors around an honest or forking log.

One seed drives everything: the log's key and shared prefix, how fast each view grows,
network drops, delays and reorders between auditors (a `SimNetwork`), log requests that time
out or come back late, and a client that keeps sending junk (garbage bytes, forged and
unknown-log STHs, unknown peer names). Time is simulated milliseconds on the wall-clock
scale of STH timestamps. Auditor i is shown view i % 2 of a forking log.

`run(setup)` returns a `SimResult`: every alarm with when and by whom, when the fork became
detectable (both views past the shared prefix), what the junk got, and each auditor's core.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from common.net import LinkFaults, SimNetwork
from ctlog.auditor import (
    Alarm,
    AuditedLog,
    AuditorCore,
    AuditorParams,
    FetchConsistency,
    GossipedSth,
    Peer,
    Sender,
    decode_pollination,
    encode_pollination,
)
from ctlog.errors import InputError
from ctlog.keys import LogSigningKey
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.auditor.forking_log import ForkingLog, signing_key_from_seed

START_MS = 1_750_000_000_000  # simulated wall clock at the start
STEP_MS = 10  # the simulation advances in steps of this many ms
JUNK = "client"  # the network node that sends junk


@dataclass(frozen=True)
class SimSetup:
    seed: int
    forking: bool
    auditors: int = 4
    drop: float = 0.1
    log_fail: float = 0.1  # a log request times out (reported as unavailable)
    poll_interval_ms: int = 1000
    gossip_interval_ms: int = 500
    grow_interval_ms: int = 300
    duration_ms: int = 12_000
    junk_interval_ms: int = 400


@dataclass
class SimResult:
    setup: SimSetup
    alarms: list[tuple[int, str, Alarm]] = field(default_factory=list)
    diverged_ms: int | None = None
    junk: Counter[str] = field(default_factory=Counter)
    cores: dict[str, AuditorCore] = field(default_factory=dict)
    log: ForkingLog | None = None

    def transcript(self) -> list[tuple[int, str, str, int, int]]:
        return [
            (t, who, a.bundle.kind.value, a.bundle.first.tree_size, a.bundle.second.tree_size)
            for t, who, a in self.alarms
        ]


class _Sim:
    def __init__(self, setup: SimSetup) -> None:
        self.setup = setup
        self.rng = random.Random(setup.seed)
        self.now = START_MS
        key = signing_key_from_seed(setup.seed)
        self.log = ForkingLog.create(
            key, lambda: self.now, shared=self.rng.randint(1, 20), forking=setup.forking
        )
        self.log_id = key.public.log_id
        names = [f"a{i}" for i in range(setup.auditors)]
        self.net = SimNetwork(
            [*names, JUNK],
            random.Random(self.rng.random()),
            LinkFaults(drop=setup.drop, delay_min=5, delay_max=60, reorder=0.05),
        )
        params = AuditorParams(
            poll_interval_ms=setup.poll_interval_ms,
            gossip_interval_ms=setup.gossip_interval_ms,
            max_sths_per_gossip=8,
        )
        self.cores = {
            name: AuditorCore(
                name,
                [AuditedLog(key.public, f"http://log.test/view{i % 2}")],
                [Peer(p, f"http://{p}.test") for p in names if p != name],
                random.Random(self.rng.random()),
                params,
            )
            for i, name in enumerate(names)
        }
        self.view = {name: i % 2 for i, name in enumerate(names)}
        self.events: list[tuple[int, int, Callable[[], None]]] = []
        self.seq = 0
        self.result = SimResult(setup, cores=self.cores, log=self.log)
        self.stranger = LogSigningKey.generate()  # signs forged heads

    def run(self) -> SimResult:
        next_grow = self.now + self.setup.grow_interval_ms
        next_junk = self.now + self.setup.junk_interval_ms
        end = self.now + self.setup.duration_ms
        while self.now < end:
            while self.events and self.events[0][0] <= self.now:
                heapq.heappop(self.events)[2]()
            for src, dst, payload in self.net.deliver_due(self.now):
                self.deliver(src, dst, payload)
            if self.now >= next_grow:
                next_grow += self.setup.grow_interval_ms
                self.grow()
            if self.now >= next_junk:
                next_junk += self.setup.junk_interval_ms
                self.send_junk()
            for core in self.cores.values():
                core.tick(self.now)
            for name in self.cores:
                self.drain(name)
            self.now += STEP_MS
        return self.result

    def grow(self) -> None:
        for view in range(2 if self.setup.forking else 1):
            self.log.grow(view, self.rng.randint(0, 2))  # 0: the same tree signed again
        if self.setup.forking and self.result.diverged_ms is None and self._both_diverged():
            self.result.diverged_ms = self.now

    def _both_diverged(self) -> bool:
        a, b = self.log.views
        return len(a) > 0 and len(b) > 0 and _common_prefix(a, b) < min(len(a), len(b))

    def later(self, delay_ms: int, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.events, (self.now + delay_ms, self.seq, action))

    def drain(self, name: str) -> None:
        core = self.cores[name]
        ready = core.ready()
        self.result.alarms += [(self.now, name, alarm) for alarm in ready.alarms]
        for _ in ready.fetch_sths:
            self.later(self.rng.randint(5, 50), lambda n=name: self.answer_sth(n))
        for check in ready.fetch_proofs:
            self.later(self.rng.randint(5, 50), lambda n=name, c=check: self.answer_proof(n, c))
        for send in ready.pollinations:
            self.net.send(name, send.peer, b"Q" + encode_pollination(send.sths), self.now)

    def answer_sth(self, name: str) -> None:
        core = self.cores[name]
        if self.rng.random() < self.setup.log_fail:
            core.on_sth_failed(self.log_id, "timeout", self.now)
        else:
            core.on_sth(self.log_id, self.log.sth(self.view[name]), self.now)

    def answer_proof(self, name: str, check: FetchConsistency) -> None:
        core = self.cores[name]
        request_id, first, second = check.request_id, check.first, check.second
        if self.rng.random() < self.setup.log_fail:
            core.on_proof_failed(request_id, "timeout", refused=False, now_ms=self.now)
            return
        try:
            proof = self.log.consistency(self.view[name], first, second)
        except InputError as exc:
            core.on_proof_failed(request_id, str(exc), refused=True, now_ms=self.now)
        else:
            core.on_proof(request_id, proof, self.now)

    def deliver(self, src: str, dst: str, payload: bytes) -> None:
        kind, body = payload[:1], payload[1:]
        if dst == JUNK:
            return
        core = self.cores[dst]
        if kind == b"R":
            core.on_pollination_reply(src, decode_pollination(body), self.now)
            return
        sender = Sender() if src == JUNK else Sender(peer=src)
        if src == JUNK and body.startswith(b"peer:"):
            name, _, body = body[5:].partition(b"|")
            sender = Sender(peer=name.decode())
        try:
            reply = core.on_pollination(sender, body, self.now)
        except InputError as exc:
            self.result.junk[f"refused_{exc.http_status}"] += 1
            if src != JUNK:
                raise AssertionError(f"{dst} refused peer {src}: {exc}") from None
            return
        if src == JUNK:
            self.result.junk["taken"] += 1
        else:
            self.net.send(dst, src, b"R" + reply, self.now)

    def send_junk(self) -> None:
        dst = f"a{self.rng.randrange(self.setup.auditors)}"
        sth = self.log.sth(self.rng.randrange(2))
        forged = SignedTreeHead.sign(sth.tree_head, self.stranger)
        stale = SignedTreeHead.sign(TreeHead(1, START_MS - 10**10, bytes(32)), self.log.key)
        choices = [
            bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(0, 64))),
            encode_pollination([GossipedSth(self.log_id, forged)]),
            encode_pollination([GossipedSth(self.stranger.public.log_id, forged)]),
            encode_pollination([GossipedSth(self.log_id, stale)]),
            b"peer:mallory|" + encode_pollination([GossipedSth(self.log_id, sth)]),
            b'{"sths": [' + b"1," * 600 + b"1]}",
        ]
        self.net.send(JUNK, dst, b"Q" + self.rng.choice(choices), self.now)


def _common_prefix(a: list[bytes], b: list[bytes]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def run(setup: SimSetup) -> SimResult:
    return _Sim(setup).run()


__all__ = ["SimResult", "SimSetup", "run"]
