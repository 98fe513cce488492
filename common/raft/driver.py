"""The asyncio driver of one Raft node: the only place where the sans-I/O core meets I/O.

One task (`_run`) owns the core. Everything else — the transport reader, the ticker, client
coroutines calling `propose`/`read_barrier` — only queues inputs and wakes it. Each round it
steps every queued input into the core, then carries out the core's Ready exactly as the
`Ready` docstring orders it. Stable storage is written in a worker thread; inputs that arrive
meanwhile are stepped in the next round, so one synced batch carries many proposals and
acknowledgements (group commit).

One permitted reordering (Raft thesis §10.2.1): a leader may send APPEND and HEARTBEAT
messages before its own log write completes, because it counts itself towards a commit only
after `advance()`. Votes, vote requests and every acknowledgement still wait for the write.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from common.net import MessageTooLarge, Transport
from common.raft.codec import DecodeError, decode_message, encode_message
from common.raft.core import RaftCore
from common.raft.errors import NotLeader, ProposalDropped, RaftError
from common.raft.params import RaftParams
from common.raft.storage import RaftStorage
from common.raft.types import ConfChange, ConfState, EntryType, Message, MessageType, Ready, Role

log = logging.getLogger("opentrust.raft")

MAX_PENDING_PROPOSALS = 8192  # beyond this, callers get ProposalDropped instead of queueing forever
MAX_PENDING_READS = 8192  # the same bound for linearizable reads waiting on a ReadIndex round
DEFAULT_SNAPSHOT_ENTRIES = 10_000  # applied entries between snapshots: bounds log and restart time
_EARLY_SEND = frozenset({MessageType.APPEND, MessageType.HEARTBEAT})


class StateMachine(Protocol):
    """What the driver needs from an application: deterministic apply, snapshot, restore."""

    def apply(self, index: int, data: bytes) -> object: ...

    def snapshot(self) -> bytes: ...

    def restore(self, data: bytes) -> None: ...


@dataclass(slots=True)
class _Waiter:
    term: int
    future: asyncio.Future[object]


class RaftNode:
    """A running Raft member: owns the core, its storage, its transport and its state machine."""

    def __init__(
        self,
        node_id: str,
        params: RaftParams,
        storage: RaftStorage,
        transport: Transport,
        state_machine: StateMachine,
        *,
        bootstrap_conf: ConfState | None,
        snapshot_entries: int = DEFAULT_SNAPSHOT_ENTRIES,
        rng: random.Random | None = None,
    ) -> None:
        self.node_id = node_id
        self.params = params
        self._storage = storage
        self._transport = transport
        self._sm = state_machine
        self._snapshot_entries = snapshot_entries
        state = storage.load(bootstrap_conf)
        if state.snapshot is not None:
            state_machine.restore(state.snapshot.data)
        self.core = RaftCore(node_id, params, state, rng or random.Random())
        self._inbox: list[Message] = []
        self._ticks = 0
        self._proposals: list[tuple[bytes, EntryType, ConfChange | None, _Waiter]] = []
        self._waiters: dict[int, _Waiter] = {}
        self._read_queue: list[asyncio.Future[object]] = []
        self._read_batches: dict[bytes, list[asyncio.Future[object]]] = {}
        self._confirmed_reads: list[tuple[int, list[asyncio.Future[object]]]] = []
        self._read_ctx = itertools.count(1)
        self._transfers: list[tuple[str, asyncio.Future[object]]] = []
        self._transfers_waiting: list[asyncio.Future[object]] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self._was_leader = False
        self.on_role_change: Callable[[Role, str, int], None] | None = None
        self.stats = {
            "rounds": 0,
            "bad_messages": 0,
            "spoofed_messages": 0,
            "oversize_messages": 0,
            "writes": 0,
        }

    # ----- lifecycle -----
    async def start(self) -> None:
        await self._transport.start()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(), name=f"raft-{self.node_id}-run"),
            loop.create_task(self._receive(), name=f"raft-{self.node_id}-recv"),
            loop.create_task(self._tick(), name=f"raft-{self.node_id}-tick"),
        ]

    async def stop(self) -> None:
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._transport.close()
        self._storage.flush()
        self._fail_all(ProposalDropped(f"node {self.node_id} is shutting down"))

    # ----- client API -----
    async def propose(self, data: bytes, timeout: float) -> object:
        """Replicate `data`; return the state machine's result once it is applied here."""
        return await self._enqueue(data, EntryType.NORMAL, None, timeout)

    async def change_membership(self, change: ConfChange, timeout: float) -> object:
        """Propose a single-server membership change; return once it is committed and applied."""
        return await self._enqueue(b"", EntryType.CONF_CHANGE, change, timeout)

    async def read_barrier(self, timeout: float) -> None:
        """Return once a linearizable read of the local state machine is safe (ReadIndex)."""
        if self.core.role != Role.LEADER:
            raise NotLeader(self.node_id, self.core.leader_id, self.core.term)
        if len(self._read_queue) >= MAX_PENDING_READS:
            raise ProposalDropped(f"too many reads waiting (limit {MAX_PENDING_READS})")
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._read_queue.append(future)
        self._wake.set()
        await asyncio.wait_for(future, timeout)

    async def transfer_leadership(self, target: str, timeout: float) -> None:
        """Hand leadership to `target` and wait until this node is no longer leader."""
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._transfers.append((target, future))
        self._wake.set()
        await asyncio.wait_for(future, timeout)

    @property
    def is_leader(self) -> bool:
        return self.core.role == Role.LEADER

    def status(self) -> dict[str, object]:
        status = {**self.core.status(), "driver": dict(self.stats)}
        transport_stats = getattr(self._transport, "stats", None)
        if callable(transport_stats):
            status["transport"] = transport_stats()
        return status

    async def _enqueue(
        self, data: bytes, kind: EntryType, change: ConfChange | None, timeout: float
    ) -> object:
        if self.core.role != Role.LEADER:
            raise NotLeader(self.node_id, self.core.leader_id, self.core.term)
        if len(self._proposals) + len(self._waiters) >= MAX_PENDING_PROPOSALS:
            raise ProposalDropped(f"too many proposals waiting (limit {MAX_PENDING_PROPOSALS})")
        waiter = _Waiter(0, asyncio.get_running_loop().create_future())
        self._proposals.append((data, kind, change, waiter))
        self._wake.set()
        return await asyncio.wait_for(waiter.future, timeout)

    # ----- input tasks -----
    async def _receive(self) -> None:
        while True:
            envelope = await self._transport.recv()
            try:
                msg = decode_message(envelope.payload)
            except DecodeError as exc:
                self.stats["bad_messages"] += 1
                log.warning("dropped malformed message from %s: %s", envelope.src, exc)
                continue
            if msg.src != envelope.src or msg.dst != self.node_id:
                self.stats["spoofed_messages"] += 1
                log.warning(
                    "dropped message claiming src=%s dst=%s from %s", msg.src, msg.dst, envelope.src
                )
                continue
            self._inbox.append(msg)
            self._wake.set()

    async def _tick(self) -> None:
        interval = self.params.tick_ms / 1000
        while True:
            await asyncio.sleep(interval)
            self._ticks += 1
            self._wake.set()

    # ----- the round -----
    async def _run(self) -> None:
        while not self._stopped:
            await self._wake.wait()
            self._wake.clear()
            self._step_inputs()
            while self.core.has_ready():
                await self._handle_ready(self.core.ready())
                self._step_inputs()
            self._maybe_compact()

    def _step_inputs(self) -> None:
        inbox, self._inbox = self._inbox, []
        for msg in inbox:
            self.core.step(msg)
        ticks, self._ticks = self._ticks, 0
        for _ in range(ticks):
            self.core.tick()
        self._step_proposals()
        self._step_reads()
        self._step_transfers()

    def _step_proposals(self) -> None:
        proposals, self._proposals = self._proposals, []
        for data, kind, change, waiter in proposals:
            if waiter.future.done():  # the caller timed out or was cancelled while queued
                continue
            try:
                if kind == EntryType.CONF_CHANGE and change is not None:
                    index, term = self.core.propose_conf_change(change)
                else:
                    index, term = self.core.propose(data)
            except RaftError as exc:
                waiter.future.set_exception(exc)
                continue
            waiter.term = term
            self._waiters[index] = waiter

    def _step_reads(self) -> None:
        if not self._read_queue:
            return
        batch, self._read_queue = self._read_queue, []
        context = next(self._read_ctx).to_bytes(8, "big")
        try:
            self.core.read_index(context)
        except RaftError as exc:
            for future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self._read_batches[context] = batch

    def _step_transfers(self) -> None:
        transfers, self._transfers = self._transfers, []
        for target, future in transfers:
            try:
                self.core.transfer_leadership(target)
            except RaftError as exc:
                if not future.done():
                    future.set_exception(exc)
                continue
            self._transfers_waiting.append(future)

    async def _handle_ready(self, ready: Ready) -> None:
        self.stats["rounds"] += 1
        leader = self.core.role == Role.LEADER
        early: list[Message] = []
        late: list[Message] = []
        for msg in ready.messages:
            (early if leader and msg.type in _EARLY_SEND else late).append(msg)
        self._send(early)
        if leader and (ready.must_sync or ready.local_snapshot is not None):
            # Off the loop: the appends sent above leave while the leader syncs, and
            # proposals arriving meanwhile gather for the next batch.
            wrote = await asyncio.to_thread(self._storage.save, ready)
        else:
            # A follower must sync before it acknowledges anything, so there is nothing to
            # overlap: a thread hop would only add latency. Messages arriving during the
            # write wait in socket buffers and are stepped together next round.
            wrote = self._storage.save(ready)
        self.stats["writes"] += wrote
        self._send(late)
        if ready.snapshot is not None:
            self._sm.restore(ready.snapshot.data)
            self._fail_through(ready.snapshot.meta.index)
        for entry in ready.committed_entries:
            result: object = None
            if entry.type == EntryType.NORMAL:
                result = self._sm.apply(entry.index, entry.data)
            self._resolve(entry.index, entry.term, result)
        for read_state in ready.read_states:
            batch = self._read_batches.pop(read_state.context, None)
            if batch:
                self._confirmed_reads.append((read_state.index, batch))
        self.core.advance(ready)
        self._serve_reads()
        if ready.soft_state is not None:
            self._on_soft_state(ready.soft_state.role, ready.soft_state.leader_id)

    def _send(self, messages: list[Message]) -> None:
        for msg in messages:
            try:
                self._transport.send(msg.dst, encode_message(msg))
            except MessageTooLarge as exc:  # a bound mismatch, not peer trouble: Raft resends
                self.stats["oversize_messages"] += 1
                log.error("message %s to %s not sent: %s", msg.type.name, msg.dst, exc)

    def _resolve(self, index: int, term: int, result: object) -> None:
        waiter = self._waiters.pop(index, None)
        if waiter is None or waiter.future.done():
            return
        if waiter.term == term:
            waiter.future.set_result(result)
        else:
            waiter.future.set_exception(
                ProposalDropped(f"entry {index} was replaced by one from term {term}")
            )

    def _fail_through(self, index: int) -> None:
        for waiting_index in [i for i in self._waiters if i <= index]:
            waiter = self._waiters.pop(waiting_index)
            if not waiter.future.done():
                waiter.future.set_exception(
                    ProposalDropped(f"entry {waiting_index} was covered by an installed snapshot")
                )

    def _serve_reads(self) -> None:
        applied = self.core.applied_index
        still_waiting = []
        for index, batch in self._confirmed_reads:
            if index > applied:
                still_waiting.append((index, batch))
                continue
            for future in batch:
                if not future.done():
                    future.set_result(None)
        self._confirmed_reads = still_waiting

    def _on_soft_state(self, role: Role, leader_id: str) -> None:
        is_leader = role == Role.LEADER
        if self._was_leader and not is_leader:
            error = NotLeader(self.node_id, leader_id, self.core.term)
            self._fail_reads(error)
            self._fail_proposals(
                ProposalDropped(
                    f"node {self.node_id} lost leadership; the command may still commit, "
                    "retry with the same session"
                )
            )
            for future in self._transfers_waiting:
                if not future.done():
                    future.set_result(None)
            self._transfers_waiting = []
        self._was_leader = is_leader
        if self.on_role_change is not None:
            self.on_role_change(role, leader_id, self.core.term)

    def _fail_reads(self, error: Exception) -> None:
        pending = [*self._read_queue, *itertools.chain.from_iterable(self._read_batches.values())]
        pending += [f for _, batch in self._confirmed_reads for f in batch]
        self._read_queue, self._read_batches, self._confirmed_reads = [], {}, []
        for future in pending:
            if not future.done():
                future.set_exception(error)

    def _fail_proposals(self, error: Exception) -> None:
        waiters = [w for *_, w in self._proposals] + list(self._waiters.values())
        self._proposals, self._waiters = [], {}
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(error)

    def _fail_all(self, error: Exception) -> None:
        self._fail_reads(error)
        self._fail_proposals(error)
        for future in self._transfers_waiting:
            if not future.done():
                future.set_exception(error)
        self._transfers_waiting = []

    def _maybe_compact(self) -> None:
        applied = self.core.applied_index
        if applied - self.core.snapshot_index >= self._snapshot_entries:
            self.core.compact(applied, self._sm.snapshot())
            self._wake.set()  # the compaction itself produces a Ready to persist


__all__ = ["DEFAULT_SNAPSHOT_ENTRIES", "RaftNode", "StateMachine"]
