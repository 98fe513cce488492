"""ReadIndex: linearizable reads without writing to the log (Raft thesis §6.4).

1. The leader waits until it has committed an entry of its current term (its NOOP), so its
   commit index is at least that of any earlier leader (`waiting`).
2. It records its commit index as the read index of the request (`pending`).
3. It confirms it is still leader with a heartbeat round carrying the request's context; all
   requests queued before a context that a quorum acknowledged are confirmed with it, so
   concurrent requests share one round.
4. Each confirmed request becomes a `ReadState(index, context)` in the next Ready; the driver
   serves the read once its applied index reaches `index`.
Requests are dropped when leadership is lost (`reset`); drivers time them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.raft.codec import MAX_READ_CONTEXT_BYTES
from common.raft.errors import NotLeader, RaftUsageError
from common.raft.types import ReadState, Role

if TYPE_CHECKING:
    from common.raft._state import NodeState


class ReadRequest:
    __slots__ = ("acks", "context", "index")

    def __init__(self, index: int, context: bytes, acks: set[str]) -> None:
        self.index = index
        self.context = context
        self.acks = acks


class ReadOnly:
    __slots__ = ("pending", "unsent", "waiting")

    def __init__(self) -> None:
        self.waiting: list[bytes] = []  # until the leader commits an entry of its term
        self.pending: dict[bytes, ReadRequest] = {}  # in arrival order
        self.unsent = False  # a request arrived since the last heartbeat round went out

    def reset(self) -> None:
        self.waiting.clear()
        self.pending.clear()
        self.unsent = False

    def last_context(self) -> bytes:
        """Context for the next heartbeat round: the newest request confirms all older ones."""
        return next(reversed(self.pending)) if self.pending else b""

    def release_through(self, context: bytes) -> list[ReadRequest]:
        released = []
        while self.pending:
            ctx, request = next(iter(self.pending.items()))
            del self.pending[ctx]
            released.append(request)
            if ctx == context:
                break
        return released


def request_read(node: NodeState, context: bytes) -> None:
    if node.role is not Role.LEADER:
        raise NotLeader(node.id, node.leader_id, node.term)
    if not context or len(context) > MAX_READ_CONTEXT_BYTES:
        raise RaftUsageError(f"read context must be 1..{MAX_READ_CONTEXT_BYTES} bytes")
    ro = node.read_only
    if context in ro.pending or context in ro.waiting:
        return  # the same context is answered once
    if node.log.term(node.log.committed) != node.term:
        ro.waiting.append(context)  # thesis §6.4 step 1
        return
    _start_read(node, context)


def _start_read(node: NodeState, context: bytes) -> None:
    voters = node.conf.voters
    if voters == {node.id}:
        node.read_states.append(ReadState(node.log.committed, context))
        return
    acks = {node.id} & voters
    node.read_only.pending[context] = ReadRequest(node.log.committed, context, acks)
    node.read_only.unsent = True


def release_waiting(node: NodeState) -> None:
    """The leader committed an entry of its term: start the reads that waited for it."""
    ro = node.read_only
    if ro.waiting and node.log.term(node.log.committed) == node.term:
        waiting, ro.waiting = ro.waiting, []
        for context in waiting:
            _start_read(node, context)


def handle_read_ack(node: NodeState, src: str, context: bytes) -> None:
    """A follower answered the heartbeat round `context` (thesis §6.4 step 3)."""
    request = node.read_only.pending.get(context)
    voters = node.conf.voters
    if request is None or src not in voters:
        return
    request.acks.add(src)
    if len(request.acks & voters) >= node.quorum():
        for done in node.read_only.release_through(context):
            node.read_states.append(ReadState(done.index, done.context))
