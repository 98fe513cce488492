"""Chain validation off the event loop: batches of chains to worker processes.

`ctlog.x509.validate_chain` costs a few hundred microseconds of CPU per chain (two ECDSA
signature checks and certificate parsing), which `cryptography` does without releasing the
GIL. With `validation_workers > 0` a replica runs it in that many worker processes, so the
event loop (HTTP, Raft, apply, SCT signing) keeps its core. Chains are sent in batches: when
a worker is free everything waiting goes out at once, so IPC is paid per batch, not per chain.
With 0 workers, validation runs inline. Either way the answer is the same function's.

Bounds: at most `MAX_PENDING_VALIDATIONS` chains wait or are being validated (beyond, the
request gets 503 at once); a batch holds at most `MAX_VALIDATION_BATCH` chains; each worker
has at most `BATCHES_PER_WORKER` batches in flight. A worker that dies fails its batch with
503 and the pool is replaced by inline validation, logged once; a worker whose replica dies
(even by SIGKILL) exits within `PARENT_CHECK_S`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from ctlog.errors import InputError, LogUnavailable
from ctlog.x509 import RootSet, ValidatedChain, VerifiedLinks, validate_chain

log = logging.getLogger("opentrust.ctlog.validation")

MAX_VALIDATION_BATCH = 16  # chains per worker call: small batches keep chains flowing through
MAX_PENDING_VALIDATIONS = 4096  # chains queued or in a worker; beyond, 503 at once
BATCHES_PER_WORKER = 4  # batches queued at a worker, so it never waits for the next one
START_METHOD = "spawn"  # never fork a process that runs threads and an event loop
PARENT_CHECK_S = 0.2  # how soon a worker notices that its replica is gone


@dataclass(frozen=True, slots=True)
class ChainPolicy:
    """What a log accepts beyond a valid chain to its roots (RFC 6962 §3.1 leaves it open)."""

    not_after_start_ms: int | None = None
    not_after_end_ms: int | None = None
    allow_expired: bool = False


Request = tuple[tuple[bytes, ...], int, bool]  # chain, now_ms, precert
Outcome = ValidatedChain | tuple[str, int]  # the validated chain, or (reason, HTTP status)


def validate_batch(
    roots: RootSet,
    policy: ChainPolicy,
    requests: Sequence[Request],
    links: VerifiedLinks | None = None,
) -> list[Outcome]:
    """Validate each chain; a refusal becomes its one-line reason and status."""
    outcomes: list[Outcome] = []
    for chain, now_ms, precert in requests:
        try:
            outcomes.append(
                validate_chain(
                    chain,
                    roots,
                    now_ms=now_ms,
                    precert=precert,
                    not_after_start_ms=policy.not_after_start_ms,
                    not_after_end_ms=policy.not_after_end_ms,
                    allow_expired=policy.allow_expired,
                    links=links,
                )
            )
        except InputError as exc:
            outcomes.append((str(exc), exc.http_status))
    return outcomes


_worker_state: tuple[RootSet, ChainPolicy, VerifiedLinks] | None = None


def _init_worker(root_ders: list[bytes], policy: ChainPolicy, parent_pid: int) -> None:
    global _worker_state
    _worker_state = (RootSet.from_ders(root_ders), policy, VerifiedLinks())
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    """A worker must not outlive its replica, even one killed with SIGKILL."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _worker_batch(requests: list[Request]) -> list[Outcome]:
    if _worker_state is None:
        raise RuntimeError("validation worker was not initialised")
    roots, policy, links = _worker_state
    return validate_batch(roots, policy, requests, links)


def _unwrap(outcome: Outcome) -> ValidatedChain:
    if isinstance(outcome, ValidatedChain):
        return outcome
    reason, status = outcome
    raise InputError(reason, http_status=status)


class ChainValidator:
    """Validates submitted chains inline or in `workers` processes."""

    def __init__(self, roots: RootSet, policy: ChainPolicy, workers: int) -> None:
        self.roots = roots
        self.policy = policy
        self.workers = workers
        self._links = VerifiedLinks()  # for inline validation; each worker keeps its own
        self._executor: ProcessPoolExecutor | None = None
        self._queue: list[tuple[Request, asyncio.Future[Outcome]]] = []
        self._pending = 0
        self._in_flight = 0

    async def start(self) -> None:
        if self.workers < 1:
            return
        self._executor = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context(START_METHOD),
            initializer=_init_worker,
            initargs=(self.roots.ders(), self.policy, os.getpid()),
        )
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, _worker_batch, []) for _ in range(self.workers))
        )

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    async def validate(
        self, chain: Sequence[bytes], *, now_ms: int, precert: bool
    ) -> ValidatedChain:
        """The validated chain; `InputError` (400) with the reason if it is refused."""
        request: Request = (tuple(chain), now_ms, precert)
        if self._executor is None:
            return _unwrap(validate_batch(self.roots, self.policy, [request], self._links)[0])
        if self._pending >= MAX_PENDING_VALIDATIONS:
            raise LogUnavailable(f"{self._pending} chains are being validated; retry shortly")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        self._pending += 1
        try:
            self._dispatch()
            return _unwrap(await future)
        finally:
            self._pending -= 1

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue and self._in_flight < BATCHES_PER_WORKER * self.workers:
            batch = self._queue[:MAX_VALIDATION_BATCH]
            del self._queue[:MAX_VALIDATION_BATCH]
            if self._executor is None:
                self._finish_inline(batch)
                continue
            self._in_flight += 1
            requests = [request for request, _ in batch]
            work = loop.run_in_executor(self._executor, _worker_batch, requests)
            work.add_done_callback(functools.partial(self._finish, batch))

    def _finish(
        self,
        batch: list[tuple[Request, asyncio.Future[Outcome]]],
        done: asyncio.Future[list[Outcome]],
    ) -> None:
        self._in_flight -= 1
        try:
            outcomes = done.result()
        except Exception as exc:  # BrokenProcessPool or a pickling failure: never a refusal
            log.error("chain validation worker failed (%s); validating inline from now on", exc)
            broken, self._executor = self._executor, None
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            outcomes = [("the chain validator failed; retry", 503)] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
        self._dispatch()

    def _finish_inline(self, batch: list[tuple[Request, asyncio.Future[Outcome]]]) -> None:
        requests = [request for request, _ in batch]
        outcomes = validate_batch(self.roots, self.policy, requests, self._links)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


__all__ = [
    "MAX_PENDING_VALIDATIONS",
    "MAX_VALIDATION_BATCH",
    "ChainPolicy",
    "ChainValidator",
    "validate_batch",
]
