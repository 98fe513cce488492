"""The leader's sequencer: pool → one Raft proposal per batch → answers to the waiters.

A batch is cut from the pool (at most `max_batch` entries and `MAX_BATCH_BYTES`) when a
proposal slot is free and entries wait: at once when the log is idle, as soon as a batch in
flight is applied (group commit: under load batches grow with the load instead of waiting
for a timer), and at the latest every `sequence_interval_ms`. Each batch is one BATCH
command; once it is committed and applied here, each waiter gets its entry's `LoggedEntry`.
Only a leader sequences: a replica that is not (or stops being) the leader fails everything
waiting with `RetryElsewhere`, and so does a proposal that is dropped or times out; the
submitter then retries the same entry, which dedup makes safe even if it did commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from common.raft import NotLeader, ProposalDropped
from common.raft.driver import RaftNode
from ctlog.errors import LogUnavailable
from ctlog.log.codec import encode_batch
from ctlog.log.entry import LoggedEntry, PreparedEntry
from ctlog.log.forwarding import RetryElsewhere
from ctlog.log.machine import BatchApplied
from ctlog.log.pool import Pool, PoolLimits

log = logging.getLogger("opentrust.ctlog.sequencer")

MAX_BATCH_BYTES = 512 * 1024  # one batch command stays well inside one Raft APPEND (1 MiB)
MAX_INFLIGHT_BATCHES = 2  # proposals not yet applied; beyond, the pool fills and pushes back
PROPOSE_TIMEOUT_S = 5.0  # a batch not applied in this time is failed; its entries are retried

Waiter = asyncio.Future[LoggedEntry]


class Sequencer:
    """Owns the pool of one replica and, while it leads, turns it into Raft proposals."""

    def __init__(
        self,
        node: RaftNode,
        limits: PoolLimits,
        *,
        max_batch: int,
        interval_ms: int,
        now_ms: Callable[[], int],
    ) -> None:
        self._node = node
        self.pool: Pool[Waiter] = Pool(limits)
        self._max_batch = max_batch
        self._interval_s = interval_ms / 1000
        self._now_ms = now_ms
        self._wake = asyncio.Event()
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = {"batches": 0, "entries": 0, "failed_batches": 0}

    async def submit(self, entry: PreparedEntry, timeout: float) -> LoggedEntry:
        """Pool `entry` on this leader and wait until it is logged."""
        if not self._node.is_leader:
            raise RetryElsewhere(f"replica {self._node.node_id} is not the leader")
        future: Waiter = asyncio.get_running_loop().create_future()
        self.pool.add(entry, future, now_ms=self._now_ms())
        if len(self.pool) >= self._max_batch or self._inflight < MAX_INFLIGHT_BATCHES:
            self._wake.set()
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise LogUnavailable(f"the entry was not sequenced within {timeout:g} s") from None

    async def run(self) -> None:
        """The sequencing loop; runs until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            self._wake.clear()
            if not self._node.is_leader:
                self._fail(self.pool.take_all(), "this replica is not the leader")
                continue
            while len(self.pool) and self._inflight < MAX_INFLIGHT_BATCHES:
                batch = self.pool.take(self._max_batch, MAX_BATCH_BYTES)
                batch = [(entry, waiter) for entry, waiter in batch if not waiter.done()]
                if batch:
                    self._inflight += 1
                    task = asyncio.create_task(self._propose(batch))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._fail(self.pool.take_all(), "the replica is shutting down")

    async def _propose(self, batch: list[tuple[PreparedEntry, Waiter]]) -> None:
        try:
            data = encode_batch([entry for entry, _ in batch])
            result = await self._node.propose(data, PROPOSE_TIMEOUT_S)
        except (NotLeader, ProposalDropped, TimeoutError) as exc:
            self.stats["failed_batches"] += 1
            self._fail(batch, f"the batch was not committed: {exc or 'timeout'}")
            return
        except Exception as exc:  # a bug: answer the waiters rather than leave them hanging
            log.exception("proposing a batch failed")
            self._fail(batch, f"the batch failed: {type(exc).__name__}")
            return
        finally:
            self._inflight -= 1
            if len(self.pool):
                self._wake.set()  # group commit: what gathered meanwhile goes out now
        if not isinstance(result, BatchApplied) or len(result.entries) != len(batch):
            log.error("a batch was applied as %r", result)
            self._fail(batch, f"the batch was applied as {type(result).__name__}")
            return
        self.stats["batches"] += 1
        self.stats["entries"] += len(batch)
        for (_, waiter), logged in zip(batch, result.entries, strict=True):
            if not waiter.done():
                waiter.set_result(logged)

    @staticmethod
    def _fail(batch: list[tuple[PreparedEntry, Waiter]], reason: str) -> None:
        for _, waiter in batch:
            if not waiter.done():
                waiter.set_exception(RetryElsewhere(reason))


__all__ = ["MAX_BATCH_BYTES", "MAX_INFLIGHT_BATCHES", "Sequencer"]
