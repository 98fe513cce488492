"""A simulated KV server per node: client frames in, Raft proposals out, replies after apply.

Client frames (after the cluster's channel byte) are msgpack arrays:
- request `[REQUEST, req_id, read_mode, command]`: `command` is `encode_command(KvCommand)`;
  `read_mode` says how a GET is served: READ_LOG (proposed and applied like a write) or
  READ_INDEX (a ReadIndex round, then a local read once the applied index reaches it).
- reply `[REPLY, req_id, status, leader_hint, result]`: `status` OK carries
  `encode_result(KvResult)`; WRONG_LEADER carries b"" and the leader this server knows, if any.

A reply for a proposal goes out only when the entry at the proposal's exact (index, term) is
applied; if another entry lands at that index, or this server stops being leader of that term,
or a snapshot covers the index, every request waiting on it gets WRONG_LEADER, and the clerk
retries with the same session (client_id, seq), so the retry is applied at most once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from common.kv import (
    KvDecodeError,
    KvOp,
    KvResult,
    KvStateMachine,
    KvStatus,
    decode_command,
    encode_result,
)
from common.raft.errors import NotLeader, ProposalDropped
from common.raft.types import Entry, EntryType, ReadState, Role, Snapshot
from tests.sim.node import SimNode

__all__ = [
    "OK",
    "READ_INDEX",
    "READ_LOG",
    "REPLY",
    "REQUEST",
    "WRONG_LEADER",
    "KvServer",
    "Reply",
    "decode_frame",
    "encode_reply",
    "encode_request",
]

REQUEST, REPLY = 0, 1  # frame kinds
READ_LOG, READ_INDEX = 0, 1  # how a GET is served
OK, WRONG_LEADER = 0, 1  # reply statuses


@dataclass(frozen=True, slots=True)
class Reply:
    req_id: int
    status: int
    leader_hint: str
    result: bytes


def encode_request(req_id: int, read_mode: int, command: bytes) -> bytes:
    return bytes(msgpack.packb([REQUEST, req_id, read_mode, command]))


def encode_reply(reply: Reply) -> bytes:
    fields = [REPLY, reply.req_id, reply.status, reply.leader_hint, reply.result]
    return bytes(msgpack.packb(fields))


def decode_frame(body: bytes) -> list[Any]:
    frame = msgpack.unpackb(body)
    if not isinstance(frame, list) or not frame or frame[0] not in (REQUEST, REPLY):
        raise ValueError(f"not a client frame: {frame!r}")
    return frame


@dataclass(slots=True)
class _Waiting:
    client: str
    req_id: int
    term: int


@dataclass(slots=True)
class _WaitingRead:
    client: str
    req_id: int
    term: int
    key: str
    index: int = 0  # the read index once confirmed; 0 while the round is in flight


class KvServer:
    """The app of one node incarnation in the KV tests (state is lost on crash)."""

    def __init__(
        self, node: SimNode, send_client: Callable[[str, str, bytes], None], max_raft_state: int
    ) -> None:
        self.node = node
        self.send_client = send_client
        self.max_raft_state = max_raft_state  # -1: never snapshot (6.824's maxraftstate)
        self.sm = KvStateMachine()
        self.waiting: dict[int, _Waiting] = {}  # log index -> request waiting on it
        self.reads: dict[bytes, _WaitingRead] = {}  # ReadIndex context -> request
        self.next_ctx = 0

    # -- client side --------------------------------------------------------------------------

    def receive(self, src: str, body: bytes) -> None:
        """One client frame; the cluster drains the node's Ready after the frames due now."""
        frame = decode_frame(body)
        if frame[0] != REQUEST:
            return
        _, req_id, read_mode, command = frame
        core = self.node.core
        assert core is not None
        if core.role != Role.LEADER:
            self._reply(src, req_id, WRONG_LEADER, b"")
            return
        try:
            cmd = decode_command(command)
        except KvDecodeError:
            self._reply(src, req_id, OK, encode_result(KvResult(KvStatus.BAD_COMMAND)))
            return
        try:
            if cmd.op == KvOp.GET and read_mode == READ_INDEX:
                self.next_ctx += 1
                ctx = self.next_ctx.to_bytes(8, "big")
                core.read_index(ctx)
                self.reads[ctx] = _WaitingRead(src, req_id, core.term, cmd.key)
            else:
                index, term = core.propose(command)
                self.waiting[index] = _Waiting(src, req_id, term)
        except (NotLeader, ProposalDropped):
            self._reply(src, req_id, WRONG_LEADER, b"")

    def _reply(self, client: str, req_id: int, status: int, result: bytes) -> None:
        core = self.node.core
        hint = core.leader_id if core is not None and status == WRONG_LEADER else ""
        self.send_client(
            self.node.node_id, client, encode_reply(Reply(req_id, status, hint, result))
        )

    # -- the App protocol ---------------------------------------------------------------------

    def restore(self, snapshot: Snapshot) -> None:
        self.sm.restore(snapshot.data)
        for index in [i for i in self.waiting if i <= snapshot.meta.index]:
            w = self.waiting.pop(index)  # the result is unknown here; the retry will get it
            self._reply(w.client, w.req_id, WRONG_LEADER, b"")

    def apply(self, entry: Entry) -> None:
        if entry.type == EntryType.NORMAL:
            result = self.sm.apply(entry.index, entry.data)
        else:
            self.sm.mark_applied(entry.index)
            result = None
        w = self.waiting.pop(entry.index, None)
        if w is None:
            return
        if result is not None and w.term == entry.term:
            self._reply(w.client, w.req_id, OK, encode_result(result))
        else:  # another leader's entry took this index
            self._reply(w.client, w.req_id, WRONG_LEADER, b"")

    def read_states(self, states: tuple[ReadState, ...]) -> None:
        for state in states:
            read = self.reads.get(state.context)
            if read is not None:
                read.index = state.index

    def after_advance(self, node: SimNode) -> None:
        core = node.core
        assert core is not None
        if (self.waiting or self.reads) and (core.role != Role.LEADER):
            self._fail_all()
            return
        if self.reads:
            self._serve_reads(core.applied_index, core.term)
        if self.waiting:
            stale = [i for i, w in self.waiting.items() if w.term != core.term]
            for index in stale:
                w = self.waiting.pop(index)
                self._reply(w.client, w.req_id, WRONG_LEADER, b"")

    def _serve_reads(self, applied: int, term: int) -> None:
        for ctx, read in list(self.reads.items()):
            if read.term != term:
                del self.reads[ctx]
                self._reply(read.client, read.req_id, WRONG_LEADER, b"")
            elif read.index and read.index <= applied:
                del self.reads[ctx]
                value = self.sm.get(read.key)
                if value is None:
                    result = KvResult(KvStatus.NOT_FOUND, index=read.index)
                else:
                    result = KvResult(KvStatus.OK, value, read.index)
                self._reply(read.client, read.req_id, OK, encode_result(result))

    def _fail_all(self) -> None:
        waiting, self.waiting = self.waiting, {}
        reads, self.reads = self.reads, {}
        for w in waiting.values():
            self._reply(w.client, w.req_id, WRONG_LEADER, b"")
        for r in reads.values():
            self._reply(r.client, r.req_id, WRONG_LEADER, b"")

    def snapshot_due(self, node: SimNode) -> bytes | None:
        """6.824's maxraftstate: snapshot once the persisted Raft state reaches the bound."""
        if self.max_raft_state < 0:
            return None
        core = node.core
        if core is None or core.applied_index <= core.snapshot_index:
            return None
        if node.raft_state_bytes() < self.max_raft_state:
            return None
        return self.sm.snapshot()
