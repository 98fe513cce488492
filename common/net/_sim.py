"""`SimNetwork`: a deterministic, simulated message network for tests and the Raft simulator.

Invariants:
- Every random choice comes from the `rng` given to the constructor, in a fixed order per
  `send` call; with the same seed and the same calls the deliveries are identical.
- Time is the caller's clock: `send(..., now)` schedules, `deliver_due(now)` returns what is
  due, ordered by (due time, send sequence). No wall clock, no asyncio.
- A message is lost if its link is cut when it is sent or when it is due; `drop` loses it,
  `duplicate` schedules a second copy with its own delay, `reorder` adds an extra delay of
  1..long_delay_max so later messages overtake it.
- Link state is a topology (everyone, `partition` groups, or the `majorities_ring` pairs)
  overlaid with a set of `isolate`d nodes; `connect` lifts only the isolation, `heal` both.
  A node always reaches itself. Links are symmetric; fault overrides may be per direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from heapq import heappop, heappush

from common.errors import UsageError
from common.net._types import RandomSource


@dataclass(frozen=True, slots=True)
class LinkFaults:
    """Fault probabilities and delays for messages on a link (times in the caller's units)."""

    drop: float = 0.0  # probability a message is lost
    duplicate: float = 0.0  # probability it is delivered twice
    reorder: float = 0.0  # probability it gets an extra delay of 1..long_delay_max
    delay_min: int = 1
    delay_max: int = 5
    long_delay_max: int = 200

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise UsageError(f"LinkFaults.{name} must be in [0, 1], got {value!r}")
        for name in ("delay_min", "delay_max", "long_delay_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(f"LinkFaults.{name} must be an int >= 0, got {value!r}")
        if self.delay_min > self.delay_max:
            raise UsageError(f"LinkFaults delay_min {self.delay_min} > delay_max {self.delay_max}")
        if self.long_delay_max < 1:
            raise UsageError("LinkFaults.long_delay_max must be >= 1")


NO_FAULTS = LinkFaults()


def majorities_ring_links(ring: Sequence[str]) -> set[tuple[str, str]]:
    """The directed links of Jepsen's "majorities ring" over `ring`, taken in ring order: each
    node is linked both ways to its nearest neighbours on both sides, enough for it to see a
    majority (itself included)."""
    n = len(ring)
    reach = (n // 2 + 1) // 2  # neighbours per side: 2 * reach + 1 >= majority
    links: set[tuple[str, str]] = set()
    for i, node in enumerate(ring):
        for step in range(1, reach + 1):
            other = ring[(i + step) % n]
            if other != node:
                links.update(((node, other), (other, node)))
    return links


Sink = Callable[[str, bytes], None]  # called as sink(src, payload) by `pump`


class SimNetwork:
    """Simulated network between named nodes; see the module docstring for the invariants."""

    def __init__(
        self, node_ids: Iterable[str], rng: RandomSource, faults: LinkFaults = NO_FAULTS
    ) -> None:
        self._rng = rng
        self._faults = faults
        self._link_faults: dict[tuple[str, str], LinkFaults] = {}
        self._nodes: dict[str, None] = {}  # insertion-ordered set
        self._sent_by: dict[str, int] = {}
        self._isolated: set[str] = set()
        self._allowed: set[tuple[str, str]] | None = None  # None: every pair may talk
        self._all_up = True  # fast path: no isolation and no topology
        self._queue: list[tuple[int, int, str, str, bytes]] = []
        self._seq = 0
        self._sinks: dict[str, Sink] = {}
        self.messages_sent = 0  # counted at send, even if later dropped
        self.bytes_sent = 0
        self.messages_dropped = 0  # lost to cut links or the drop probability
        self.messages_duplicated = 0  # extra copies scheduled
        self.messages_delivered = 0  # returned by deliver_due
        for node_id in node_ids:
            self.add_node(node_id)

    # -- membership -------------------------------------------------------------------------

    def add_node(self, node_id: str) -> None:
        """Add a node. Under a partition or ring it is in no group and reaches no one until
        `heal` (or a new `partition` naming it)."""
        if not isinstance(node_id, str) or not node_id:
            raise UsageError(f"node id must be a non-empty string, got {node_id!r}")
        if node_id in self._nodes:
            raise UsageError(f"node {node_id!r} is already on the network")
        self._nodes[node_id] = None
        self._sent_by[node_id] = 0

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(self._nodes)

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    # -- traffic ----------------------------------------------------------------------------

    def send(self, src: str, dst: str, payload: bytes, now: int) -> None:
        """Schedule `payload` from `src` to `dst` according to faults and link state."""
        if src not in self._nodes or dst not in self._nodes:
            raise UsageError(f"send {src!r} -> {dst!r}: both nodes must be on the network")
        self.messages_sent += 1
        self.bytes_sent += len(payload)
        self._sent_by[src] += 1
        if not self._all_up and not self._linked(src, dst):
            self.messages_dropped += 1
            return
        faults = self._faults
        if self._link_faults:
            faults = self._link_faults.get((src, dst), faults)
        rand = self._rng.random
        if faults.drop and rand() < faults.drop:
            self.messages_dropped += 1
            return
        self._schedule(src, dst, payload, now, faults)
        if faults.duplicate and rand() < faults.duplicate:
            self.messages_duplicated += 1
            self._schedule(src, dst, payload, now, faults)

    def _schedule(self, src: str, dst: str, payload: bytes, now: int, faults: LinkFaults) -> None:
        rand = self._rng.random
        delay = faults.delay_min
        span = faults.delay_max - delay
        if span:
            delay += int(rand() * (span + 1))
        if faults.reorder and rand() < faults.reorder:
            delay += 1 + int(rand() * faults.long_delay_max)
        self._seq += 1
        heappush(self._queue, (now + delay, self._seq, src, dst, payload))

    def deliver_due(self, now: int) -> list[tuple[str, str, bytes]]:
        """(src, dst, payload) of every message due at or before `now`, in (due, seq) order;
        messages whose link is cut at this moment are dropped."""
        queue = self._queue
        out: list[tuple[str, str, bytes]] = []
        while queue and queue[0][0] <= now:
            _, _, src, dst, payload = heappop(queue)
            if self._all_up or self._linked(src, dst):
                out.append((src, dst, payload))
            else:
                self.messages_dropped += 1
        self.messages_delivered += len(out)
        return out

    def next_due(self) -> int | None:
        """When the earliest scheduled message is due, or None if nothing is in flight."""
        return self._queue[0][0] if self._queue else None

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    # -- sinks (for transports built on top) ------------------------------------------------

    def attach(self, node_id: str, sink: Sink) -> None:
        """Have `pump` hand messages for `node_id` to `sink(src, payload)`."""
        self._require(node_id)
        self._sinks[node_id] = sink

    def detach(self, node_id: str) -> None:
        self._sinks.pop(node_id, None)

    def pump(self, now: int) -> int:
        """Deliver everything due to the attached sinks; messages for a node without a sink
        (a crashed node) are discarded. Returns how many reached a sink."""
        routed = 0
        for src, dst, payload in self.deliver_due(now):
            sink = self._sinks.get(dst)
            if sink is not None:
                sink(src, payload)
                routed += 1
        return routed

    # -- faults -----------------------------------------------------------------------------

    def set_faults(self, faults: LinkFaults) -> None:
        self._faults = faults

    def set_link_faults(self, src: str, dst: str, faults: LinkFaults | None) -> None:
        """Override the faults of the directed link src -> dst; None clears the override."""
        self._require(src)
        self._require(dst)
        if faults is None:
            self._link_faults.pop((src, dst), None)
        else:
            self._link_faults[(src, dst)] = faults

    # -- counters ---------------------------------------------------------------------------

    def per_node_sent(self, node: str) -> int:
        self._require(node)
        return self._sent_by[node]

    def reset_counters(self) -> None:
        self.messages_sent = self.bytes_sent = 0
        self.messages_dropped = self.messages_duplicated = self.messages_delivered = 0
        for node in self._sent_by:
            self._sent_by[node] = 0

    # -- link state -------------------------------------------------------------------------

    def can_talk(self, a: str, b: str) -> bool:
        self._require(a)
        self._require(b)
        return self._all_up or self._linked(a, b)

    def _linked(self, a: str, b: str) -> bool:
        if a == b:
            return True
        if a in self._isolated or b in self._isolated:
            return False
        return self._allowed is None or (a, b) in self._allowed

    def isolate(self, node: str) -> None:
        """Cut `node` from every other node, both directions, until `connect` or `heal`."""
        self._require(node)
        self._isolated.add(node)
        self._all_up = False

    def disconnect(self, node: str) -> None:
        """Same as `isolate` (the name used by the ported 6.824 tests)."""
        self.isolate(node)

    def connect(self, node: str) -> None:
        """Undo `isolate(node)`: it reaches every connected node its topology allows."""
        self._require(node)
        self._isolated.discard(node)
        self._refresh()

    def partition(self, groups: Sequence[Iterable[str]]) -> None:
        """Only nodes in the same group can talk; unlisted nodes reach no one. Isolation stays."""
        seen: set[str] = set()
        allowed: set[tuple[str, str]] = set()
        for group in groups:
            members = list(group)
            for node in members:
                self._require(node)
                if node in seen:
                    raise UsageError(f"node {node!r} is in more than one partition group")
                seen.add(node)
            allowed.update((a, b) for a in members for b in members if a != b)
        self._allowed = allowed
        self._all_up = False

    def majorities_ring(self) -> None:
        """Jepsen's "majorities ring": nodes in a shuffled ring, each linked to its nearest
        neighbours on both sides, so each sees a majority (itself included) and, with four or
        more nodes, no two see the same one. With fewer than four every node sees everyone."""
        ring = list(self._nodes)
        self._rng.shuffle(ring)
        self._allowed = majorities_ring_links(ring)
        self._all_up = False

    def heal(self) -> None:
        """Bring every link up; fault probabilities and per-link overrides stay."""
        self._isolated.clear()
        self._allowed = None
        self._all_up = True

    def _refresh(self) -> None:
        self._all_up = not self._isolated and self._allowed is None

    def _require(self, node: str) -> None:
        if node not in self._nodes:
            raise UsageError(f"node {node!r} is not on the network")
