"""Simulated KV clerks and the history they record.

A `Clerk` is a network endpoint with a client session (`client_id`, `seq`). Each operation is a
generator process (`yield from clerk.put(...)`): it sends the request to the server it believes
leads, and on a timeout or a WRONG_LEADER reply tries the hinted leader or the next server,
always with the same `seq`, until a reply comes back. Like 6.824's clerks it never gives up;
`servers` is the set of servers it can reach (6.824's `makeClient(servers)`) and may change.

Every call and return is stamped with the simulated clock into a `History`: operations for the
linearizability checker (`ret=None` while pending or never answered), and acknowledged writes
for the acked-write checker.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from common.kv import KvCommand, KvOp, KvResult, KvStatus, decode_result, encode_command
from tests.lincheck import Operation
from tests.sim.checkers import AckedWrite
from tests.sim.cluster import SimCluster
from tests.sim.kv_service import READ_LOG, REPLY, WRONG_LEADER, Reply, decode_frame, encode_request
from tests.sim.loop import TIMEOUT, Future

__all__ = ["RPC_TIMEOUT_MS", "Clerk", "ClerkError", "History"]

RPC_TIMEOUT_MS = 500  # no reply by then: the server is cut off or the entry lost; try another
BACKOFF_MS = 50  # after every server refused in turn (an election is on), wait this long


class ClerkError(AssertionError):
    """A server answered something a correct server never answers to this clerk."""


@dataclass(slots=True)
class _Pending:
    client: str
    op: str
    key: str
    input: bytes | None
    input2: bytes | None
    call: int
    output: Any = None
    ret: int | None = None


@dataclass(slots=True)
class History:
    """Client operations in call order, plus the writes whose acknowledgement was seen."""

    records: list[_Pending] = field(default_factory=list)
    acked: list[AckedWrite] = field(default_factory=list)

    def operations(self) -> list[Operation]:
        return [
            Operation(
                client=r.client,
                op=r.op,
                key=r.key,
                input=r.input,
                input2=r.input2,
                output=r.output,
                call=r.call,
                ret=r.ret,
            )
            for r in self.records
        ]

    def pending(self) -> list[_Pending]:
        return [r for r in self.records if r.ret is None]


class Clerk:
    """One client of the KV service; at most one operation in flight."""

    def __init__(
        self,
        cluster: SimCluster,
        client_id: str,
        servers: list[str],
        history: History | None,
        *,
        read_mode: int = READ_LOG,
    ) -> None:
        self.cluster = cluster
        self.client_id = client_id
        self.servers = list(servers)
        self.history = history
        self.read_mode = read_mode
        self.seq = 0
        self.leader = 0  # index into `servers` of the presumed leader
        self.req_id = 0
        self.waiting: dict[int, Future] = {}
        self.busy = False
        cluster.add_endpoint(client_id, self._on_frame)

    def _on_frame(self, src: str, body: bytes) -> None:
        frame = decode_frame(body)
        if frame[0] != REPLY:
            return
        reply = Reply(*frame[1:])
        fut = self.waiting.pop(reply.req_id, None)
        if fut is not None:
            fut.set(reply)

    # -- operations (generator processes) -----------------------------------------------------

    def get(self, key: str) -> Generator[Any, Any, bytes]:
        """The value of `key`, b"" when absent (as 6.824's Get returns "")."""
        result = yield from self.call(KvCommand(KvOp.GET, key))
        return result.value or b""

    def read(self, key: str) -> Generator[Any, Any, bytes | None]:
        """The value of `key`, None when absent."""
        result = yield from self.call(KvCommand(KvOp.GET, key))
        return result.value

    def put(self, key: str, value: bytes) -> Generator[Any, Any, None]:
        yield from self.call(KvCommand(KvOp.PUT, key, value))

    def append(self, key: str, value: bytes) -> Generator[Any, Any, None]:
        yield from self.call(KvCommand(KvOp.APPEND, key, value))

    def delete(self, key: str) -> Generator[Any, Any, None]:
        yield from self.call(KvCommand(KvOp.DELETE, key))

    def cas(self, key: str, expected: bytes | None, value: bytes) -> Generator[Any, Any, bool]:
        result = yield from self.call(KvCommand(KvOp.CAS, key, value, expected))
        return result.status == KvStatus.OK

    def call(self, cmd: KvCommand) -> Generator[Any, Any, KvResult]:
        """Run one command to completion under this clerk's session; returns its result."""
        if self.busy:
            raise ClerkError(f"{self.client_id}: one operation at a time")
        self.busy = True
        self.seq += 1
        session_cmd = KvCommand(
            cmd.op, cmd.key, cmd.value, cmd.expected, client_id=self.client_id, seq=self.seq
        )
        data = encode_command(session_cmd)
        record = self._record_call(session_cmd)
        refusals = 0
        while True:
            reply = yield from self._request(data, session_cmd.op)
            if reply is TIMEOUT or reply.status == WRONG_LEADER:
                refusals += 1
                self._next_server(None if reply is TIMEOUT else reply.leader_hint)
                if refusals % max(1, len(self.servers)) == 0:
                    yield BACKOFF_MS
                continue
            result = decode_result(reply.result)
            if result.status in (KvStatus.STALE_REQUEST, KvStatus.BAD_COMMAND):
                raise ClerkError(f"{self.client_id} seq {self.seq}: server answered {result!r}")
            self._record_return(record, session_cmd, data, result)
            self.busy = False
            return result

    def _request(self, data: bytes, op: KvOp) -> Generator[Any, Any, Any]:
        server = self.servers[self.leader % len(self.servers)]
        self.req_id += 1
        fut = Future()
        self.waiting[self.req_id] = fut
        self.cluster.send_client(
            self.client_id, server, encode_request(self.req_id, self.read_mode, data)
        )
        reply = yield self.cluster.loop.with_timeout(fut, RPC_TIMEOUT_MS)
        self.waiting.pop(self.req_id, None)
        return reply

    def _next_server(self, hint: str | None) -> None:
        if hint and hint in self.servers:
            self.leader = self.servers.index(hint)
        else:
            self.leader += 1

    # -- history ------------------------------------------------------------------------------

    def _record_call(self, cmd: KvCommand) -> _Pending | None:
        if self.history is None:
            return None
        input1: bytes | None = None
        input2: bytes | None = None
        if cmd.op in (KvOp.PUT, KvOp.APPEND):
            input1 = cmd.value
        elif cmd.op == KvOp.CAS:
            input1, input2 = cmd.expected, cmd.value  # lincheck: expected, then the new value
        record = _Pending(
            self.client_id, cmd.op.name.lower(), cmd.key, input1, input2, self.cluster.now
        )
        self.history.records.append(record)
        return record

    def _record_return(
        self, record: _Pending | None, cmd: KvCommand, data: bytes, result: KvResult
    ) -> None:
        if self.history is None or record is None:
            return
        record.ret = self.cluster.now
        if cmd.op == KvOp.GET:
            record.output = result.value
        elif cmd.op == KvOp.CAS:
            record.output = result.status == KvStatus.OK
        if cmd.op != KvOp.GET:
            self.history.acked.append(AckedWrite(self.client_id, cmd.seq, result.index, data))
