"""One replica of a log group: Raft node, state machine, sequencer, publisher, forwarder.

Write path (RFC 6962 §4.1 add-chain, as Trillian and Sunlight split it): any replica
validates a chain and timestamps the entry (`PreparedEntry`); `submit` answers at once when
the entry is already logged here, else hands it to the leader's pool (locally, or through
`Forwarder` from a follower) and retries at whoever leads next until `SUBMIT_TIMEOUT_MS`.
The leader's `Sequencer` turns the pool into BATCH commands; the answer (leaf index and
timestamp) comes only after the batch is committed and applied, so an SCT signed from it
is backed by a majority's disk. The leader's publisher signs a tree head over its applied
tree every `sth_interval_ms` when the tree grew and proposes it as an STH command; every
replica serves the last applied one.

The log group never compacts its Raft log (`NEVER_COMPACT`): every entry is also in the log
store, and a snapshot could not carry a log's entries to a lagging follower (see
`LogStateMachine.snapshot`). The Raft log therefore grows with the log (docs/ctlog/log.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from common.net import Transport
from common.raft import NotLeader, ProposalDropped
from common.raft.driver import RaftNode
from common.raft.storage import RaftStorage
from common.runtime import log_event
from common.store import Store
from ctlog.errors import LogUnavailable, UsageError
from ctlog.keys import LogSigningKey
from ctlog.log.codec import encode_sth
from ctlog.log.config import SUBMIT_TIMEOUT_MS, LogConfig
from ctlog.log.entry import LoggedEntry, PreparedEntry
from ctlog.log.forwarding import Forwarder, RetryElsewhere
from ctlog.log.machine import LogStateMachine, SthApplied
from ctlog.log.pool import PoolLimits
from ctlog.log.publisher import next_tree_head
from ctlog.log.sequencer import MAX_BATCH_BYTES, Sequencer
from ctlog.sth import SignedTreeHead
from ctlog.x509 import RootSet

log = logging.getLogger("opentrust.ctlog")

NEVER_COMPACT = 1 << 62  # snapshot_entries for the log group: see the module docstring
MAX_PENDING_SUBMISSIONS = 8192  # submissions in progress on one replica; beyond, 503 at once
RETRY_PAUSE_S = 0.02  # first pause before retrying at a new leader; doubles up to the max
RETRY_PAUSE_MAX_S = 0.5
STH_PROPOSE_TIMEOUT_S = 5.0  # a tree head not committed in this time is signed anew next round
MAX_CLOCK_SKEW_MS = 5_000  # replicas' clocks further apart than this are refused as broken
MAX_STH_AGE_MS = 3_600_000  # a quiet log still publishes a fresh tree head every hour


class LogReplica:
    """The log of one replica, for the HTTP layer: submissions in, applied state out."""

    def __init__(
        self,
        config: LogConfig,
        node_id: str,
        *,
        raft_store: Store,
        log_store: Store,
        transport: Transport,
        key: LogSigningKey,
        roots: RootSet,
        secret: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.node_id = node_id
        self.key = key
        self.roots = roots
        self._clock = clock
        section = config.log
        self.machine = LogStateMachine(log_store, key.public)
        self.node = RaftNode(
            node_id,
            config.raft.params(),
            RaftStorage(raft_store),
            transport,
            self.machine,
            bootstrap_conf=config.bootstrap_conf(),
            snapshot_entries=NEVER_COMPACT,
        )
        limits = PoolLimits(
            max_entries=section.max_pool,
            max_bytes=section.max_pool * MAX_BATCH_BYTES // max(1, section.max_batch),
            max_age_ms=section.max_merge_delay_ms - section.sth_interval_ms - SUBMIT_TIMEOUT_MS,
            max_skew_ms=MAX_CLOCK_SKEW_MS,
        )
        self.sequencer = Sequencer(
            self.node,
            limits,
            max_batch=section.max_batch,
            interval_ms=section.sequence_interval_ms,
            now_ms=self.now_ms,
        )
        self.forwarder = Forwarder(secret)
        self._refresh_ms = min(section.max_merge_delay_ms // 2, MAX_STH_AGE_MS)
        self._pending = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = {"submitted": 0, "deduplicated": 0, "forwarded": 0, "sths_signed": 0}

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def start(self) -> None:
        self.node.on_role_change = lambda role, leader, term: log_event(
            log, "role", node=self.node_id, role=role.name.lower(), leader=leader, term=term
        )
        await self.forwarder.start()
        await self.node.start()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.sequencer.run(), name=f"ctlog-{self.node_id}-sequencer"),
            loop.create_task(self._publish_loop(), name=f"ctlog-{self.node_id}-publisher"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sequencer.stop()
        await self.node.stop()
        await self.forwarder.close()

    # ----- write path -----
    async def submit(self, entry: PreparedEntry) -> LoggedEntry:
        """Log `entry` or find it logged; `LogUnavailable` if no leader did in time."""
        logged = self.machine.logged(entry.identity)
        if logged is not None:
            self.stats["deduplicated"] += 1
            return logged
        if self._pending >= MAX_PENDING_SUBMISSIONS:
            raise LogUnavailable(f"{self._pending} submissions are in progress; retry shortly")
        self._pending += 1
        try:
            return await self._submit_until_deadline(entry)
        finally:
            self._pending -= 1

    async def sequence_here(self, entry: PreparedEntry) -> LoggedEntry:
        """A forwarded entry: log it if this replica leads, else `RetryElsewhere`."""
        logged = self.machine.logged(entry.identity)
        if logged is not None:
            return logged
        return await self.sequencer.submit(entry, SUBMIT_TIMEOUT_MS / 1000)

    async def _submit_until_deadline(self, entry: PreparedEntry) -> LoggedEntry:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SUBMIT_TIMEOUT_MS / 1000
        pause = RETRY_PAUSE_S
        while True:
            try:
                logged = await self._attempt(entry, max(0.01, deadline - loop.time()))
                self.stats["submitted"] += 1
                return logged
            except RetryElsewhere as exc:
                error = exc
            if deadline - loop.time() < pause:
                raise LogUnavailable(
                    f"no leader logged the entry within {SUBMIT_TIMEOUT_MS / 1000:g} s: {error}"
                )
            await asyncio.sleep(pause)
            pause = min(2 * pause, RETRY_PAUSE_MAX_S)

    async def _attempt(self, entry: PreparedEntry, timeout: float) -> LoggedEntry:
        if self.node.is_leader:
            return await self.sequencer.submit(entry, timeout)
        leader = self.node.core.leader_id
        if not leader or leader == self.node_id:
            raise RetryElsewhere("no leader is known (an election is in progress)")
        self.stats["forwarded"] += 1
        return await self.forwarder.forward(self.config.replica(leader).url, entry, timeout)

    # ----- tree heads -----
    async def _publish_loop(self) -> None:
        interval = self.config.log.sth_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            if self.node.is_leader:
                await self.publish_once()

    async def publish_once(self) -> SignedTreeHead | None:
        """Sign and propose a tree head if one is due; return it once it is published."""
        machine = self.machine
        last = machine.latest_sth
        try:
            head = next_tree_head(
                tree_size=machine.tree_size,
                root_hash=machine.merkle.root(),
                max_entry_timestamp=machine.max_timestamp,
                last=None if last is None else last.tree_head,
                now_ms=self.now_ms(),
                refresh_ms=self._refresh_ms,
            )
        except UsageError as exc:  # cannot happen while the machine's invariants hold
            log.error("no tree head signed: %s", exc)
            return None
        if head is None:
            return None
        sth = SignedTreeHead.sign(head, self.key)
        self.stats["sths_signed"] += 1
        try:
            result = await self.node.propose(encode_sth(sth), STH_PROPOSE_TIMEOUT_S)
        except (NotLeader, ProposalDropped, TimeoutError) as exc:
            log_event(log, "tree head not committed", level=logging.WARNING, reason=str(exc))
            return None
        if not isinstance(result, SthApplied) or not result.accepted:
            log_event(log, "tree head refused", level=logging.WARNING, result=repr(result))
            return None
        log_event(log, "tree head", tree_size=head.tree_size, timestamp=head.timestamp)
        return sth

    # ----- status -----
    def status(self) -> dict[str, object]:
        sth = self.machine.latest_sth
        return {
            **self.node.status(),
            "log": {
                "name": self.config.log.name,
                "tree_size": self.machine.tree_size,
                "published_tree_size": None if sth is None else sth.tree_size,
                "published_timestamp": None if sth is None else sth.timestamp,
                "applied_index": self.machine.applied_index,
                "pool": len(self.sequencer.pool),
                "pending_submissions": self._pending,
                **self.stats,
                **self.sequencer.stats,
            },
        }


__all__ = ["MAX_PENDING_SUBMISSIONS", "NEVER_COMPACT", "LogReplica"]
