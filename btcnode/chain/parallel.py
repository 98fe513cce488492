"""`ParallelScriptChecker`: a block's script checks spread over a persistent process pool.

A driver, not a core: it starts processes. The pool lives as long as the checker (start it
once per node, `close()` it at shutdown). A session's transactions are cut into chunks of
about `chunk_inputs` inputs; each chunk goes to a worker as soon as it is complete, as one
compact message (raw transactions and the outputs they spend, `_chunks`), so the workers
verify while the caller is still busy with the rest of the block. Nothing is pickled.

Sending never waits: the sockets get large buffers and each worker at most
`MAX_INFLIGHT_BYTES` of unanswered chunks; chunks over that wait in the parent. When the
session finishes, the parent checks the chunks nobody has from the back of the block, then
takes back (claims) chunks a worker has queued but not started, again from the back, and
only then waits. So every core works until the block is done.

A caller with its own next step ready (initial sync decoding the next block) can hand it to
`meanwhile`: the next session runs it while the workers check, instead of after.

The verdict is the serial checker's: the error raised is that of the first failing input
in block order. Chunks after a known failure are cancelled (claimed, so workers skip them);
chunks before it are always checked. A worker that dies or fails internally is replaced
and its chunks are checked in the parent, so a verdict is always reached.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from btcnode.chain._chunks import (
    CLAIM_SLOTS,
    CRASHED,
    FAILED,
    PARENT,
    SKIPPED,
    UNCLAIMED,
    decode_failure,
    encode_chunk,
    worker_main,
)
from btcnode.chain.scriptcheck import ScriptCheckSession, check_tx
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.script.errors import ScriptError
from btcnode.consensus.tx import Tx, TxOut
from common.closing import CloseOnExit

# About 3 ms of checking per chunk: the cores end a block within a chunk of each other,
# and a message costs well under 1% of the work it carries.
DEFAULT_CHUNK_INPUTS = 64
# Unanswered chunk bytes per worker: a 2,000-transaction block (about 600 kB of messages)
# goes out at once; sends stay below the socket buffer, so they never block.
MAX_INFLIGHT_BYTES = 1 << 20
SOCKET_BUFFER_BYTES = 4 << 20  # asked of the kernel; Linux's default wmem_max allows it
# Workers replaced after dying, over the checker's life; past this the pool shrinks instead
# (a worker that cannot start, e.g. a main module without a `__main__` guard under "spawn",
# must not be restarted forever).
MAX_WORKER_RESTARTS = 8
SHUTDOWN_GRACE_SECONDS = 5.0


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    inflight_bytes: int = 0
    pending: deque[tuple[int, int]] = field(default_factory=deque)  # (chunk, bytes) sent


@dataclass(slots=True)
class _Chunk:
    """Consecutive transactions of a block, checked as one unit."""

    first_position: int
    sequence: int
    txs: list[Tx] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    spent: list[Sequence[TxOut]] = field(default_factory=list)
    inputs: int = 0
    sent: bool = False
    done: bool = False

    def check_here(self, flags: int) -> None:
        for k, tx in enumerate(self.txs):
            check_tx(self.first_position + k, self.spent[k], flags, raw=self.raws[k], tx=tx)


class _ParallelSession:
    """One block's checks; see the module docstring for who checks which chunk."""

    __slots__ = ("_checker", "_current", "_failures", "_flags", "_unsent", "chunks")

    def __init__(self, checker: ParallelScriptChecker, flags: int) -> None:
        self._checker = checker
        self._flags = flags
        self.chunks: list[_Chunk] = []
        self._current: _Chunk | None = None
        self._unsent: deque[int] = deque()  # complete chunks still in the parent, in order
        self._failures: dict[int, ScriptError] = {}

    def limit(self) -> int:
        """Chunks at or past this one need no check: a failure came before them."""
        return min(self._failures, default=len(self.chunks))

    def add(
        self, position: int, tx: Tx, spent_outputs: Sequence[TxOut], raw: bytes | None = None
    ) -> None:
        chunk = self._current
        if chunk is None:
            chunk = self._current = _Chunk(position, self._checker.next_sequence())
        chunk.txs.append(tx)
        chunk.raws.append(raw if raw is not None else tx.serialize())
        chunk.spent.append(spent_outputs)
        chunk.inputs += len(spent_outputs)
        if chunk.inputs >= self._checker.chunk_inputs:
            self._seal()
            self._checker.pump(self, block=False)

    def _seal(self) -> None:
        if self._current is not None:
            self._unsent.append(len(self.chunks))
            self.chunks.append(self._current)
            self._current = None

    def take_unsent(self, *, from_back: bool) -> int | None:
        while self._unsent:
            number = self._unsent.pop() if from_back else self._unsent.popleft()
            if number < self.limit():
                return number
        return None

    def message(self, number: int) -> bytes:
        chunk = self.chunks[number]
        chunk.sent = True
        return encode_chunk(
            chunk.sequence, chunk.first_position, self._flags, chunk.raws, chunk.spent
        )

    def settle(self, number: int, reply: bytes | None) -> None:
        """A worker's answer for chunk `number`; None when it must be checked here."""
        chunk = self.chunks[number]
        if chunk.done or reply == SKIPPED:
            return  # checked here already (stolen), or cancelled
        if reply is None or reply[:1] == CRASHED:
            self.check_here(number)
        elif reply[:1] == FAILED:
            chunk.done = True
            self._failures[number] = decode_failure(reply)
        else:
            chunk.done = True

    def check_here(self, number: int) -> None:
        chunk = self.chunks[number]
        if chunk.done or number >= self.limit():
            return
        chunk.done = True
        try:
            chunk.check_here(self._flags)
        except ScriptError as err:
            self._failures[number] = err
            self._checker.cancel(self, number + 1)

    def finish(self) -> None:
        self._seal()
        try:
            self._checker.pump(self, block=False)
            self._checker.run_meanwhile()  # the caller's own work, while the workers check
            while True:
                self._checker.pump(self, block=False)
                number = self.take_unsent(from_back=True)
                if number is None:
                    number = self._checker.steal(self)
                if number is None:
                    break
                self.check_here(number)
        finally:
            self._checker.drain(self)
        if self._failures:
            raise self._failures[min(self._failures)]

    def abandon(self) -> None:
        self._seal()
        self._unsent.clear()
        self._checker.cancel(self, 0)
        self._checker.drain(self)


class ParallelScriptChecker(CloseOnExit):
    """A `ScriptChecker` on `workers` processes plus the calling one.

    `workers` defaults to one less than the number of cores: the parent checks too.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        chunk_inputs: int = DEFAULT_CHUNK_INPUTS,
        start_method: str = "spawn",
    ) -> None:
        if workers is None:
            workers = max(1, (os.cpu_count() or 1) - 1)
        if workers < 0 or chunk_inputs < 1:
            raise ChainMisuse(f"bad pool shape: {workers} workers, {chunk_inputs} inputs/chunk")
        self.chunk_inputs = chunk_inputs
        self._context: Any = multiprocessing.get_context(start_method)
        self._claims: MutableSequence[int] = self._context.RawArray("B", CLAIM_SLOTS)
        self._sequence = 0
        self._workers: list[_Worker] = []
        self._closed = False
        self._restarts = 0
        self._session: _ParallelSession | None = None
        self._meanwhile: Callable[[], object] | None = None
        for _ in range(workers):
            self._workers.append(self._start_worker())

    @property
    def workers(self) -> int:
        return len(self._workers)

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        for end, option in ((parent_end, socket.SO_SNDBUF), (child_end, socket.SO_RCVBUF)):
            _grow_buffer(end, option)
        process = self._context.Process(
            target=worker_main, args=(child_end, self._claims), name="script-check", daemon=True
        )
        with _sigint_ignored():
            process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def begin(self, flags: int) -> ScriptCheckSession:
        if self._closed:
            raise ChainMisuse("the parallel script checker is closed")
        if self._session is not None:
            raise ChainMisuse("a script check session is already open on this checker")
        self._session = _ParallelSession(self, flags)
        return self._session

    @contextlib.contextmanager
    def meanwhile(self, work: Callable[[], object]) -> Iterator[None]:
        """Run `work` once, inside the block, while the workers check a session's chunks.

        For a caller with its own next step ready (initial sync decoding the next block):
        the first session that finishes inside the block runs `work` after sending its last
        chunks and before checking anything itself, so the caller's step overlaps the script
        checks instead of following them. If no session finishes (nothing to connect),
        `work` runs when the block exits normally; after an exception it does not run. The
        verdict of every session is unchanged: `work` only changes who is busy when.
        """
        if self._meanwhile is not None:
            raise ChainMisuse("a meanwhile block is already open on this checker")
        self._meanwhile = work
        try:
            yield
        except BaseException:
            self._meanwhile = None
            raise
        self.run_meanwhile()

    def run_meanwhile(self) -> None:
        """Run the pending `meanwhile` work, if any (once)."""
        work, self._meanwhile = self._meanwhile, None
        if work is not None:
            work()

    # -- the session's side of the pool -------------------------------------------------------

    def pump(self, session: _ParallelSession, *, block: bool) -> None:
        """Take the answers that are in (waiting for one if `block`), then send what fits."""
        busy = {worker.conn: worker for worker in self._workers if worker.pending}
        if busy:
            for conn in wait(list(busy), timeout=None if block else 0):
                worker = busy[conn]  # type: ignore[index]
                try:
                    reply = worker.conn.recv_bytes()
                except (EOFError, OSError):
                    self._replace(worker, session)
                    continue
                number, size = worker.pending.popleft()
                worker.inflight_bytes -= size
                session.settle(number, reply)
        self._send(session)

    def _send(self, session: _ParallelSession) -> None:
        while self._workers:
            worker = min(self._workers, key=lambda w: w.inflight_bytes)
            if worker.inflight_bytes >= MAX_INFLIGHT_BYTES:
                return
            number = session.take_unsent(from_back=False)
            if number is None:
                return
            message = session.message(number)
            self._claims[session.chunks[number].sequence % CLAIM_SLOTS] = UNCLAIMED
            worker.pending.append((number, len(message)))
            worker.inflight_bytes += len(message)
            try:
                worker.conn.send_bytes(message)
            except OSError:
                self._replace(worker, session)

    def steal(self, session: _ParallelSession) -> int | None:
        """The highest chunk a worker has queued but not started, now claimed by the parent.

        Each worker takes its chunks in order, so only the unclaimed tail of its queue can
        be taken back.
        """
        best: int | None = None
        for worker in self._workers:
            for number, _ in reversed(worker.pending):
                chunk = session.chunks[number]
                if chunk.done or number >= session.limit():
                    continue  # taken back already, or past a failure
                if self._claims[chunk.sequence % CLAIM_SLOTS] == UNCLAIMED:
                    best = number if best is None else max(best, number)
                break
        if best is not None:
            self._claims[session.chunks[best].sequence % CLAIM_SLOTS] = PARENT
        return best

    def cancel(self, session: _ParallelSession, start: int) -> None:
        """Claim the chunks from `start` on, so workers skip those they have not begun."""
        for worker in self._workers:
            for number, _ in worker.pending:
                if number >= start:
                    slot = session.chunks[number].sequence % CLAIM_SLOTS
                    if self._claims[slot] == UNCLAIMED:
                        self._claims[slot] = PARENT

    def drain(self, session: _ParallelSession) -> None:
        """Wait for every answer still owed to `session`; the session is over."""
        try:
            while any(worker.pending for worker in self._workers):
                self.pump(session, block=True)
        finally:
            self._session = None

    def _replace(self, worker: _Worker, session: _ParallelSession) -> None:
        """A worker died: check its chunks here and start a new one in its place (or, past
        `MAX_WORKER_RESTARTS`, carry on without it)."""
        lost = [number for number, _ in worker.pending]
        worker.pending.clear()
        worker.inflight_bytes = 0
        worker.conn.close()
        worker.process.join(timeout=SHUTDOWN_GRACE_SECONDS)
        if self._restarts < MAX_WORKER_RESTARTS:
            self._restarts += 1
            fresh = self._start_worker()
            worker.process, worker.conn = fresh.process, fresh.conn
        else:
            self._workers.remove(worker)
        for number in lost:
            session.settle(number, None)

    def close(self) -> None:
        """Stop the workers; idempotent."""
        if self._closed:
            return
        self._closed = True
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send_bytes(b"")
        for worker in self._workers:
            worker.process.join(timeout=SHUTDOWN_GRACE_SECONDS)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join()
            worker.conn.close()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a worker starts: the child inherits the ignored disposition, so
    a Ctrl-C sent to the process group while it is still importing (before `worker_main`
    ignores SIGINT itself) does not print a traceback. Only the main thread can set it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _grow_buffer(conn: Connection, option: int) -> None:
    """Ask for a `SOCKET_BUFFER_BYTES` socket buffer (best effort: the kernel may cap it)."""
    with contextlib.suppress(OSError):
        sock = socket.socket(fileno=conn.fileno())
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER_BYTES)
        finally:
            sock.detach()
