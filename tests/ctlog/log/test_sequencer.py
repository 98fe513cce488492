"""The sequencer against a stand-in Raft node: batch bounds, group commit, failures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from common.raft import ProposalDropped
from common.store import MemoryStore
from ctlog.keys import LogSigningKey
from ctlog.log.codec import decode_command
from ctlog.log.entry import LoggedEntry
from ctlog.log.forwarding import RetryElsewhere
from ctlog.log.machine import LogStateMachine
from ctlog.log.pool import PoolLimits
from ctlog.log.sequencer import Sequencer
from tests.ctlog.log.helpers import x509_entry

NOW = 1_000
LIMITS = PoolLimits(max_entries=100, max_bytes=1 << 20, max_age_ms=60_000, max_skew_ms=1_000)


class StandInNode:
    """Commits every proposal after `delay_s`, applying it to a real state machine."""

    node_id = "n1"

    def __init__(self, delay_s: float = 0.01) -> None:
        self.is_leader = True
        self.machine = LogStateMachine(MemoryStore(), LogSigningKey.generate().public)
        self.batch_sizes: list[int] = []
        self.delay_s = delay_s
        self.fail_next = False
        self._index = 0

    async def propose(self, data: bytes, timeout: float) -> object:
        command = decode_command(data)
        self.batch_sizes.append(len(command.entries))  # type: ignore[union-attr]
        await asyncio.sleep(self.delay_s)
        if self.fail_next:
            self.fail_next = False
            raise ProposalDropped("leadership changed")
        self._index += 1
        return self.machine.apply(self._index, data)


@contextlib.asynccontextmanager
async def running(node: StandInNode, max_batch: int = 4) -> AsyncIterator[Sequencer]:
    """A sequencer over `node` with its loop running; stopped on exit."""
    sequencer = Sequencer(node, LIMITS, max_batch=max_batch, interval_ms=1000, now_ms=lambda: NOW)  # type: ignore[arg-type]
    task = asyncio.create_task(sequencer.run())
    try:
        yield sequencer
    finally:
        task.cancel()
        await sequencer.stop()


async def test_batches_are_bounded_and_grow_while_one_is_in_flight() -> None:
    node = StandInNode()
    async with running(node) as sequencer:
        first = asyncio.ensure_future(sequencer.submit(x509_entry(0, NOW), 5.0))
        await asyncio.sleep(0.001)  # the idle log sends the first entry out alone
        rest = [sequencer.submit(x509_entry(n, NOW), 5.0) for n in range(1, 10)]
        results = [await first, *await asyncio.gather(*rest)]
    assert [r.leaf_index for r in results] == list(range(10))
    assert node.batch_sizes[0] == 1
    assert sum(node.batch_sizes) == 10 and max(node.batch_sizes) == 4
    assert len(node.batch_sizes) == 4  # 1, then 4 + 4 + 1 gathered while others were in flight


async def test_a_dropped_batch_tells_its_waiters_to_retry() -> None:
    node = StandInNode()
    node.fail_next = True
    async with running(node) as sequencer:
        with pytest.raises(RetryElsewhere, match="not committed: leadership changed"):
            await sequencer.submit(x509_entry(1, NOW), 5.0)
        assert await sequencer.submit(x509_entry(1, NOW), 5.0) == LoggedEntry(0, NOW)
    assert sequencer.stats["failed_batches"] == 1


async def test_only_a_leader_sequences() -> None:
    node = StandInNode()
    node.is_leader = False
    async with running(node) as sequencer:
        with pytest.raises(RetryElsewhere, match="n1 is not the leader"):
            await sequencer.submit(x509_entry(1, NOW), 5.0)
    assert node.batch_sizes == []


async def test_entries_pooled_before_leadership_is_lost_are_failed() -> None:
    node = StandInNode(delay_s=0.05)
    async with running(node, max_batch=1) as sequencer:
        first = asyncio.ensure_future(sequencer.submit(x509_entry(1, NOW), 5.0))
        await asyncio.sleep(0.01)  # the first batch is in flight, the next ones wait
        waiting = [
            asyncio.ensure_future(sequencer.submit(x509_entry(n, NOW), 5.0)) for n in (2, 3, 4)
        ]
        await asyncio.sleep(0)
        node.is_leader = False
        assert await first == LoggedEntry(0, NOW)
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert any(isinstance(o, RetryElsewhere) for o in outcomes), outcomes
