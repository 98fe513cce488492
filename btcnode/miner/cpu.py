"""The multi-core CPU miner: grinds a template's nonces in worker processes until one meets the
target, the caller signals stop (a new tip arrived), or the allowed extra nonces run out.

Each round takes one extra nonce of the template (a new coinbase, a new merkle root) and splits
the nonce space between the workers, one contiguous range each. A worker hashes the header's
first 64 bytes once (the SHA-256 midstate) and per nonce only copies that state and feeds the
last 16 bytes, then hashes the digest again. Workers look at the stop and found signals every
`check_every` hashes, so a stop costs at most that many hashes per worker. The outcome is a
`MiningOutcome`, never None; the found block is checked in the parent before it is returned.

This is the I/O layer around `btcnode.miner.template` (processes, clocks); the template and
selection code stay free of both.
"""

from __future__ import annotations

import enum
import multiprocessing
import os
import queue
import time
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainError, ChainMisuse
from btcnode.consensus.pow_target import bits_to_target
from btcnode.miner._grind import DEFAULT_CHECK_EVERY, NONCE_SPACE, scan_nonces
from btcnode.miner.template import MAX_EXTRA_NONCE, BlockTemplate

JOIN_TIMEOUT_S = 10.0  # a worker that has not exited this long after a stop is killed


class MiningOutcome(enum.Enum):
    FOUND = "found"  # `block` meets its target
    STOPPED = "stopped"  # the stop signal was set before a solution turned up
    EXHAUSTED = "exhausted"  # every nonce of every allowed extra nonce was tried


@dataclass(frozen=True, slots=True)
class MiningResult:
    outcome: MiningOutcome
    block: Block | None  # the solved block when FOUND, else None
    hashes: int  # headers hashed by all workers together
    seconds: float
    extra_nonce: int  # the extra nonce of the last round tried

    @property
    def hash_rate(self) -> float:
        """Headers hashed per second, all workers together."""
        return self.hashes / self.seconds if self.seconds > 0 else 0.0


def nonce_ranges(space: int, workers: int) -> list[tuple[int, int]]:
    """`[start, stop)` slices covering `range(space)`, as equal as integers allow."""
    if workers < 1 or space < 1:
        raise ChainMisuse(f"cannot split {space} nonces between {workers} workers")
    edges = [space * i // workers for i in range(workers + 1)]
    return [(edges[i], edges[i + 1]) for i in range(workers) if edges[i] < edges[i + 1]]


def _worker(
    header76: bytes,
    target: int,
    bounds: tuple[int, int],
    signals: tuple[Event, Event],
    check_every: int,
    results: Queue[tuple[int | None, int]],
) -> None:
    found, hashes = scan_nonces(header76, target, bounds[0], bounds[1], signals, check_every)
    if found is not None:
        signals[1].set()
    results.put((found, hashes))


class StopSignal:
    """A flag the miner's workers watch; set it from any thread or process to stop a search."""

    def __init__(self, event: Event) -> None:
        self._event = event

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> Event:
        return self._event


class CpuMiner:
    """Mines templates with `processes` worker processes (default: one per core)."""

    def __init__(
        self,
        processes: int | None = None,
        *,
        check_every: int = DEFAULT_CHECK_EVERY,
        nonce_space: int = NONCE_SPACE,
        context: BaseContext | None = None,
    ) -> None:
        if not 1 <= nonce_space <= NONCE_SPACE:
            raise ChainMisuse(f"nonce space {nonce_space} outside 1..2**32")
        if check_every < 1:
            raise ChainMisuse(f"check_every must be positive, got {check_every}")
        self.processes = processes if processes is not None else os.cpu_count() or 1
        if self.processes < 1:
            raise ChainMisuse(f"need at least one process, got {self.processes}")
        self.check_every = check_every
        self.nonce_space = nonce_space
        self._ctx = context if context is not None else multiprocessing.get_context()

    def stop_signal(self) -> StopSignal:
        """A fresh stop signal for one `mine` call (make it before a new tip can arrive)."""
        return StopSignal(self._ctx.Event())

    def mine(
        self,
        template: BlockTemplate,
        *,
        stop: StopSignal | None = None,
        first_extra_nonce: int = 0,
        last_extra_nonce: int = MAX_EXTRA_NONCE,
    ) -> MiningResult:
        """Search extra nonces `first..last` in turn, each over the whole nonce space."""
        target = bits_to_target(template.bits)
        if target == 0:
            raise ChainMisuse(f"bits {template.bits:#x} encode no reachable target")
        stop = stop if stop is not None else self.stop_signal()
        started = time.perf_counter()
        hashes, extra = 0, first_extra_nonce
        for extra in range(first_extra_nonce, last_extra_nonce + 1):
            if stop.is_set():
                break
            header76 = template.header(extra).serialize()[:76]
            nonce, done = self._round(header76, target, stop)
            hashes += done
            if nonce is not None:
                block = template.block(extra, nonce)
                if int.from_bytes(block.hash, "little") > target:
                    raise ChainError(f"worker reported nonce {nonce}, which misses the target")
                return self._result(MiningOutcome.FOUND, block, hashes, started, extra)
        outcome = MiningOutcome.STOPPED if stop.is_set() else MiningOutcome.EXHAUSTED
        return self._result(outcome, None, hashes, started, extra)

    @staticmethod
    def _result(
        outcome: MiningOutcome, block: Block | None, hashes: int, started: float, extra: int
    ) -> MiningResult:
        return MiningResult(outcome, block, hashes, time.perf_counter() - started, extra)

    def _round(self, header76: bytes, target: int, stop: StopSignal) -> tuple[int | None, int]:
        """One extra nonce: every worker scans its slice; (a found nonce or None, hashes)."""
        found = self._ctx.Event()
        results: Queue[tuple[int | None, int]] = self._ctx.Queue()
        signals = (stop.event, found)
        procs = [
            self._ctx.Process(  # type: ignore[attr-defined]
                target=_worker,
                args=(header76, target, bounds, signals, self.check_every, results),
                daemon=True,
            )
            for bounds in nonce_ranges(self.nonce_space, self.processes)
        ]
        for proc in procs:
            proc.start()
        try:
            reports = _collect(results, procs)
        finally:
            for proc in procs:
                proc.join(JOIN_TIMEOUT_S)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
        nonces = [nonce for nonce, _ in reports if nonce is not None]
        return (min(nonces) if nonces else None), sum(done for _, done in reports)


def _collect(
    results: Queue[tuple[int | None, int]], procs: list[multiprocessing.process.BaseProcess]
) -> list[tuple[int | None, int]]:
    """One report per worker; a worker that died without reporting is an error."""
    reports: list[tuple[int | None, int]] = []
    while len(reports) < len(procs):
        try:
            reports.append(results.get(timeout=0.2))
        except queue.Empty:
            if not any(proc.is_alive() for proc in procs) and results.empty():
                codes = [proc.exitcode for proc in procs]
                raise ChainError(
                    f"a mining worker exited without a report (codes {codes})"
                ) from None
    return reports
