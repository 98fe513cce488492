"""What the running node reports, and the flush it owes once it is caught up.

`NodeMonitor.on_node_event` is a node listener: a new tip is logged (height, hash, number of
transactions) once the node is caught up with the best header, and a flush is scheduled
whenever a change leaves it caught up with unflushed blocks (initial sync leaves the coins
in the write-back cache; the first moment nothing is pending, they are made durable).

`NodeMonitor.run` is the periodic side, one tick every `TICK_S`: peers connected (handshake
done) and disconnected (from `PeerControl.peer_info`, diffed by peer id; the peer manager
logs nothing at info level itself), a `syncing` line every
`SYNC_LOG_INTERVAL_S` while behind the best header, a `status` line every
`STATUS_LOG_INTERVAL_S`, and on a terminal a progress bar (blocks against headers) while
at least `PROGRESS_MIN_BEHIND` blocks behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from btcnode.consensus.hashes import hash256_hex
from btcnode.daemon.services import NodeServices
from btcnode.node import BlockConnected, NodeEvent, TipChanged
from btcnode.p2p.control import PeerControl, PeerInfo
from common.runtime import ProgressReporter, log_event, progress

__all__ = ["NodeMonitor", "peer_changes"]

log = logging.getLogger("opentrust.btcnode")

TICK_S = 1.0  # peer changes show within a second
SYNC_LOG_INTERVAL_S = 10.0  # while syncing: progress without a line per block
STATUS_LOG_INTERVAL_S = 300.0  # when idle: proof of life
PROGRESS_MIN_BEHIND = 10  # fewer blocks behind than this is not worth a bar

Schedule = Callable[[Callable[[], None]], object]  # loop.call_soon


def peer_changes(
    before: Mapping[int, PeerInfo], after: Mapping[int, PeerInfo]
) -> tuple[list[PeerInfo], list[PeerInfo]]:
    """(connected, disconnected) peers between two `peer_info` snapshots keyed by id."""
    connected = [after[i] for i in sorted(after.keys() - before.keys())]
    disconnected = [before[i] for i in sorted(before.keys() - after.keys())]
    return connected, disconnected


class NodeMonitor:
    """Logs and progress for one node; see the module docstring."""

    __slots__ = (
        "_bar",
        "_bar_done",
        "_bar_stack",
        "_bar_total",
        "_flush_scheduled",
        "_interactive",
        "_last_status",
        "_last_sync_log",
        "_peers",
        "_schedule",
        "_services",
        "_stream",
        "_tip_txs",
        "peer_control",
    )

    def __init__(
        self, services: NodeServices, schedule: Schedule, stream: TextIO | None = None
    ) -> None:
        self._services = services
        self._schedule = schedule
        self._stream = stream
        self.peer_control: PeerControl | None = None
        self._flush_scheduled = False
        self._tip_txs: dict[bytes, int] = {}
        self._peers: dict[int, PeerInfo] = {}
        self._last_status = 0.0
        self._last_sync_log = 0.0
        self._bar_stack = contextlib.ExitStack()
        self._bar: ProgressReporter | None = None
        self._bar_done = 0
        self._bar_total = 0
        out = stream if stream is not None else sys.stderr
        self._interactive = _isatty(out)

    # -- node events -----------------------------------------------------------------------

    def on_node_event(self, event: NodeEvent) -> None:
        if isinstance(event, BlockConnected):
            self._tip_txs[event.block.hash] = len(event.block.txs)
        elif isinstance(event, TipChanged):
            txs = self._tip_txs.get(event.tip_hash)
            self._tip_txs.clear()
            if self._services.caught_up:
                self._log_tip(event, txs)
                self._schedule_flush()

    def _log_tip(self, event: TipChanged, txs: int | None) -> None:
        log_event(
            log,
            "new tip",
            height=event.tip_height,
            hash=hash256_hex(event.tip_hash),
            txs=txs,
            reorg_depth=event.reorg_depth,
        )

    def _schedule_flush(self) -> None:
        if self._flush_scheduled or not self._services.chainstate.unflushed_blocks:
            return
        self._flush_scheduled = True
        self._schedule(self._flush_if_caught_up)

    def _flush_if_caught_up(self) -> None:
        self._flush_scheduled = False
        services = self._services
        if services.caught_up and services.chainstate.unflushed_blocks:
            services.durable()

    # -- periodic ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, clock: Callable[[], float]) -> None:
        """Tick until `stop` is set, then close the progress bar."""
        try:
            while not stop.is_set():
                self.tick(clock())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), TICK_S)
        finally:
            self._bar_stack.close()

    def tick(self, now: float) -> None:
        self._log_peers()
        chainstate = self._services.chainstate
        height, headers = chainstate.tip_height, chainstate.best_header.height
        if headers > height and now - self._last_sync_log >= SYNC_LOG_INTERVAL_S:
            self._last_sync_log = now
            log_event(log, "syncing", height=height, headers=headers, behind=headers - height)
        if now - self._last_status >= STATUS_LOG_INTERVAL_S:
            self._last_status = now
            self._log_status()
        if self._interactive:
            self._update_bar(height, headers)

    def _log_status(self) -> None:
        chainstate = self._services.chainstate
        log_event(
            log,
            "status",
            height=chainstate.tip_height,
            headers=chainstate.best_header.height,
            peers=len(self._peers),
            mempool_txs=len(self._services.node.mempool),
            unflushed_blocks=chainstate.unflushed_blocks,
        )

    def _log_peers(self) -> None:
        if self.peer_control is None:
            return
        # A peer counts from its completed handshake (its version known) to its disconnect.
        now_peers = {info.id: info for info in self.peer_control.peer_info() if info.version}
        connected, disconnected = peer_changes(self._peers, now_peers)
        self._peers = now_peers
        for info in connected:
            log_event(
                log,
                "peer connected",
                peer=info.id,
                addr=info.addr,
                inbound=info.inbound,
                subver=info.subver,
                height=info.startingheight,
            )
        for info in disconnected:
            log_event(log, "peer disconnected", peer=info.id, addr=info.addr)

    def _update_bar(self, height: int, headers: int) -> None:
        """A bar from the height where the node fell behind up to the best header."""
        behind = headers - height
        if self._bar is not None and (behind <= 0 or headers > self._bar_total):
            self._bar_stack.close()  # done, or more headers came: a new bar to the new best
            self._bar_stack = contextlib.ExitStack()
            self._bar = None
        if self._bar is None and behind >= PROGRESS_MIN_BEHIND:
            bar = progress(headers, "blocks / headers", stream=self._stream)
            self._bar = self._bar_stack.enter_context(bar)
            self._bar_done, self._bar_total = 0, headers
        if self._bar is not None and height > self._bar_done:
            self._bar.advance(height - self._bar_done)
            self._bar_done = height


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False
