"""The simulated cluster: nodes, the simulated network and the clock, all driven by one seed.

`random.Random(seed)` is the only source of randomness: the network rng, each node's rng (and
through it each core incarnation's rng) and every tick phase are drawn from it in a fixed
order, so a seed replays exactly. Every live node ticks every `params.tick_ms` at its own
phase. Messages travel through `SimNetwork` as real bytes: a one-byte channel tag, then the
Raft codec's encoding (or a client frame), so byte and message counts are those of the wire.

Endpoints that are not Raft nodes (the KV clerks) register a handler with `add_endpoint`; the
network treats them like any node, so drops, delays and partitions apply to client traffic.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from common.net import LinkFaults, SimNetwork, majorities_ring_links
from common.raft.codec import decode_message, encode_message
from common.raft.params import RaftParams
from common.raft.types import ConfState, Message, MessageType, Role
from tests.sim.checkers import SafetyChecker
from tests.sim.loop import SimLoop
from tests.sim.node import App, SimNode

__all__ = [
    "CHAN_CLIENT",
    "CHAN_RAFT",
    "PARAMS_6824",
    "RELIABLE",
    "UNRELIABLE",
    "SimCluster",
]

CHAN_RAFT = 0x52  # b"R": a Raft message follows
CHAN_CLIENT = 0x43  # b"C": a client request or reply follows

# 6.824 timing: 10 ms ticks, heartbeat every 100 ms, election timeout 1000-2000 ms.
PARAMS_6824 = RaftParams(election_ticks=100, heartbeat_ticks=10, tick_ms=10)

# Requests in 6.824's sense (an RPC call); every other type is the reply to one of these.
REQUEST_TYPES = frozenset(
    {
        MessageType.PRE_VOTE,
        MessageType.VOTE,
        MessageType.APPEND,
        MessageType.HEARTBEAT,
        MessageType.SNAPSHOT,
        MessageType.TIMEOUT_NOW,
    }
)

# The reliable network is what the real transport gives (one TCP/WebSocket stream per peer):
# nothing lost, FIFO per link. Each directed link gets its own fixed latency in this range, so
# links differ but never reorder (see `SimCluster.set_faults`).
RELIABLE = LinkFaults(delay_min=1, delay_max=5)
# labrpc's unreliable mode: 10% of requests and 10% of replies lost, random 0-27 ms delays
# (which reorder); messages here are one-way, so 10% per message is the same loss per leg.
# labrpc never duplicates; 2% duplicates here add a fault Raft must also survive.
UNRELIABLE = LinkFaults(drop=0.1, duplicate=0.02, delay_min=1, delay_max=27)

# labrpc's LongReordering: 600 in 900 replies are held back 200 + rand(1 + rand(2000)) ms.
LONG_REORDER_PERMILLE = 667
LONG_REORDER_BASE_MS = 200
LONG_REORDER_SPREAD_MS = 2000


class SimCluster:
    """A set of `SimNode`s on one `SimNetwork` under one `SimLoop`."""

    def __init__(
        self,
        seed: int,
        node_ids: Iterable[str],
        make_app: Callable[[SimNode], App],
        *,
        params: RaftParams = PARAMS_6824,
        faults: LinkFaults = RELIABLE,
        voters: Iterable[str] | None = None,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.params = params
        self.loop = SimLoop()
        ids = list(node_ids)
        self.node_ids = ids
        self.net = SimNetwork(ids, random.Random(self.rng.getrandbits(64)), faults=faults)
        self.faults = faults
        self._latency_rng = random.Random(self.rng.getrandbits(64))
        self._latency: dict[tuple[str, str], LinkFaults] = {}  # FIFO links of RELIABLE
        self.checker = SafetyChecker()
        self.fault_rng = random.Random(self.rng.getrandbits(64))  # torn tails of crashes
        bootstrap = ConfState(voters=frozenset(ids if voters is None else voters))
        self.bootstrap = bootstrap
        self.nodes: dict[str, SimNode] = {}
        for node_id in ids:
            self.nodes[node_id] = SimNode(
                node_id,
                params,
                bootstrap,
                random.Random(self.rng.getrandbits(64)),
                self._send_raft,
                make_app,
                self.checker,
            )
        self._endpoints: dict[str, Callable[[str, bytes], None]] = {}
        self._cut: set[tuple[str, str]] = set()  # server pairs split by `partition`
        self.raft_requests_sent = 0  # Raft messages that are requests (REQUEST_TYPES)
        self.raft_requests_by_node: dict[str, int] = dict.fromkeys(ids, 0)
        self.raft_sent_by_type: dict[MessageType, int] = dict.fromkeys(MessageType, 0)
        self.long_reordering = False  # hold back replies as labrpc's LongReordering does
        self.loop.add_source(self)
        self.set_faults(faults)
        for node_id in ids:
            self.start(node_id)

    # -- time ---------------------------------------------------------------------------------

    @property
    def now(self) -> int:
        return self.loop.now

    def run_for(self, duration_ms: int, until: Callable[[], bool] | None = None) -> bool:
        return self.loop.run_for(duration_ms, until)

    # -- the network as an event source of the loop -------------------------------------------

    def next_due(self) -> int | None:
        return self.net.next_due()

    def run_due(self, now: int) -> None:
        """Hand every message due now to its node, then drain each touched node once: like
        the real driver, inputs that arrive together are stepped before one Ready round."""
        touched: dict[str, SimNode] = {}
        for src, dst, payload in self.net.deliver_due(now):
            node = self._deliver(src, dst, payload)
            if node is not None:
                touched[dst] = node
        for node in touched.values():
            node.drain()

    def _deliver(self, src: str, dst: str, payload: bytes) -> SimNode | None:
        """Step one frame into its destination; returns the node that now needs a drain."""
        if self._cut and (src, dst) in self._cut:
            return None  # the partition is still in place when the message arrives
        channel, body = payload[0], payload[1:]
        node = self.nodes.get(dst)
        if node is None:
            handler = self._endpoints.get(dst)
            if handler is not None:
                handler(src, body)
            return None
        core = node.core
        if core is None:
            return None  # a crashed machine receives nothing
        if channel == CHAN_RAFT:
            core.step(decode_message(body))
        elif node.app is not None:
            node.app.receive(src, body)
        return node

    def _send_raft(self, msg: Message) -> None:
        self.raft_sent_by_type[msg.type] += 1
        payload = bytes((CHAN_RAFT,)) + encode_message(msg)
        if msg.type in REQUEST_TYPES:
            self.raft_requests_sent += 1
            self.raft_requests_by_node[msg.src] += 1
        elif self.long_reordering:
            rng = self.fault_rng
            if rng.randrange(1000) < LONG_REORDER_PERMILLE:
                hold = LONG_REORDER_BASE_MS + rng.randrange(
                    1 + rng.randrange(LONG_REORDER_SPREAD_MS)
                )
                self._send(msg.src, msg.dst, payload, self.loop.now + hold)
                return
        self._send(msg.src, msg.dst, payload)

    def send_client(self, src: str, dst: str, body: bytes) -> None:
        """Send a client-channel frame (request or reply) through the network."""
        self._send(src, dst, bytes((CHAN_CLIENT,)) + body)

    def _send(self, src: str, dst: str, payload: bytes, at: int | None = None) -> None:
        """Put `payload` on the wire now (or at `at`, for a reply the sender holds back)."""
        if self._cut and (src, dst) in self._cut:
            return  # partitioned: the packet never makes it onto the wire
        self.net.send(src, dst, payload, self.loop.now if at is None else at)

    def add_endpoint(self, endpoint_id: str, handler: Callable[[str, bytes], None]) -> None:
        """Attach a non-Raft endpoint (a clerk) that receives client frames."""
        self.net.add_node(endpoint_id)
        self._endpoints[endpoint_id] = handler
        if self.faults is RELIABLE:
            self._fix_latencies()

    # -- node lifecycle -----------------------------------------------------------------------

    def start(self, node_id: str) -> None:
        """Boot a crashed (or new) node from its disk and start its ticker at a random phase."""
        node = self.nodes[node_id]
        node.start()
        incarnation = node.incarnation
        tick_ms = self.params.tick_ms
        phase = self.rng.randrange(tick_ms)

        def tick() -> None:
            if node.incarnation != incarnation or node.core is None:
                return
            node.tick()
            self.loop.call_later(tick_ms, tick)

        self.loop.call_later(phase + 1, tick)

    def crash(self, node_id: str, *, torn_tail: bool = False) -> int:
        """Power-fail a node; returns the number of unsynced writes its disk lost."""
        node = self.nodes[node_id]
        if node.core is None:
            return 0
        return node.crash(self.fault_rng if torn_tail else None)

    def restart(self, node_id: str, *, torn_tail: bool = False) -> None:
        self.crash(node_id, torn_tail=torn_tail)
        self.start(node_id)

    def add_node(self, node_id: str, make_app: Callable[[SimNode], App]) -> SimNode:
        """A new, empty machine that joins through a conf change. Like every member it is
        configured with the bootstrap membership, the base that the CONF_CHANGE entries of
        the log apply to (a log replicated from index 1 carries no other base)."""
        self.net.add_node(node_id)
        if self.faults is RELIABLE:
            self._fix_latencies()
        node = SimNode(
            node_id,
            self.params,
            self.bootstrap,
            random.Random(self.rng.getrandbits(64)),
            self._send_raft,
            make_app,
            self.checker,
        )
        self.nodes[node_id] = node
        self.node_ids.append(node_id)
        self.raft_requests_by_node[node_id] = 0
        self.start(node_id)
        return node

    # -- network control ----------------------------------------------------------------------

    def set_faults(self, faults: LinkFaults) -> None:
        """Faults for every link; `RELIABLE` means FIFO links, each with a fixed latency."""
        self.faults = faults
        self.net.set_faults(faults)
        for src, dst in self._latency:
            self.net.set_link_faults(src, dst, None)
        self._latency.clear()
        if faults is RELIABLE:
            self._fix_latencies()

    def _fix_latencies(self) -> None:
        low, high = RELIABLE.delay_min, RELIABLE.delay_max
        ids = self.net.node_ids
        for src in ids:
            for dst in ids:
                if src != dst and (src, dst) not in self._latency:
                    delay = self._latency_rng.randint(low, high)
                    link = LinkFaults(delay_min=delay, delay_max=delay)
                    self._latency[(src, dst)] = link
                    self.net.set_link_faults(src, dst, link)

    def disconnect(self, node_id: str) -> None:
        """6.824's disconnect: the node reaches no one (peers and clients) until `connect`."""
        self.net.disconnect(node_id)

    def connect(self, node_id: str) -> None:
        self.net.connect(node_id)

    def partition(self, groups: Iterable[Iterable[str]]) -> None:
        """6.824's kvraft `partition`: servers talk only within their group; servers in no
        group reach no server. Only server-to-server links are cut: which servers a clerk can
        reach is the clerk's own server list, as in 6.824 (`makeClient(servers)`)."""
        group_of: dict[str, int] = {}
        for number, group in enumerate(groups):
            for node_id in group:
                group_of[node_id] = number
        ids = self.node_ids

        def together(a: str, b: str) -> bool:
            group = group_of.get(a)
            return group is not None and group == group_of.get(b)

        self._cut = {(a, b) for a in ids for b in ids if a != b and not together(a, b)}

    def majorities_ring(self) -> list[str]:
        """Jepsen's majorities ring over the servers: each links to its nearest neighbours on
        both sides, seeing a majority (itself included); no two see the same majority (n >= 4)."""
        ring = list(self.node_ids)
        self.rng.shuffle(ring)
        linked = majorities_ring_links(ring)
        self._cut = {(a, b) for a in ring for b in ring if a != b and (a, b) not in linked}
        return ring

    def heal(self) -> None:
        """Lift every partition and isolation (fault probabilities stay)."""
        self._cut = set()
        self.net.heal()

    # -- introspection ------------------------------------------------------------------------

    def live(self) -> list[SimNode]:
        return [n for n in self.nodes.values() if n.core is not None]

    def leaders(self) -> list[SimNode]:
        return [n for n in self.live() if n.core is not None and n.core.role == Role.LEADER]
