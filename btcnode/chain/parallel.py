"""`ParallelScriptChecker`: a block's script checks spread over a persistent process pool.

A driver, not a core: it starts processes. The pool lives as long as the checker (start it
once per node, `close()` it at shutdown). Work is split into chunks of consecutive
transactions of about `chunk_inputs` inputs. Each worker gets a chunk as one compact message
(the transactions' raw bytes and the outputs they spend: value and script), runs
`scriptcheck.check_tx_range` on it (fast path, then the interpreter on what is left, one
`PrecomputedTxData` per transaction) and answers with an empty message or the first failing
input. Nothing is pickled.

The parent keeps every worker `PREFETCH_CHUNKS` chunks ahead, handing them out from the
front of the block, and verifies chunks itself from the back of the block while it waits,
so all cores stay busy until the last chunk. The verdict is the serial checker's: the error
raised is the one of the first failing input in block order (chunks after a known failure
are skipped, chunks before it are always checked). A worker that dies or fails internally
is replaced and its chunks are checked in the parent, so a verdict is always reached.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import struct
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from btcnode.chain.scriptcheck import ScriptCheckSession, check_block_scripts, check_tx
from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.serialize import ser_compact_size
from btcnode.consensus.tx import Tx, TxOut
from common.closing import CloseOnExit

# About 5 ms of checking per chunk: small enough to balance the cores to within a chunk at
# the end of a block, large enough that a message costs under 1% of the work it carries.
DEFAULT_CHUNK_INPUTS = 64
PREFETCH_CHUNKS = 2  # chunks queued per worker, so it never waits for the parent to send
# Workers replaced after dying, over the checker's life; past this the pool shrinks instead
# (a worker that cannot start, e.g. a main module without a `__main__` guard under "spawn",
# must not be restarted forever).
MAX_WORKER_RESTARTS = 8
SHUTDOWN_GRACE_SECONDS = 5.0

_HEAD = struct.Struct("<III")  # first position in the block, flags, transaction count
_I64 = struct.Struct("<q")
_OK = b""
_FAILED, _CRASHED = b"E", b"X"


def encode_chunk(
    first_position: int, flags: int, raw_txs: Sequence[bytes], spent: Sequence[Sequence[TxOut]]
) -> bytes:
    """One worker message: header, tx sizes, input counts, raw txs, spent (value, script)."""
    parts = [
        _HEAD.pack(first_position, flags, len(raw_txs)),
        array("I", [len(raw) for raw in raw_txs]).tobytes(),
        array("I", [len(outs) for outs in spent]).tobytes(),
        *raw_txs,
    ]
    for outs in spent:
        for out in outs:
            parts.append(_I64.pack(out.value))
            parts.append(ser_compact_size(len(out.script_pubkey)))
            parts.append(out.script_pubkey)
    return b"".join(parts)


def decode_chunk(message: bytes) -> tuple[int, int, list[bytes], list[list[TxOut]]]:
    """The inverse of `encode_chunk` (messages come from the parent only)."""
    first_position, flags, count = _HEAD.unpack_from(message)
    pos = _HEAD.size
    sizes = array("I", message[pos : pos + 4 * count])
    pos += 4 * count
    input_counts = array("I", message[pos : pos + 4 * count])
    pos += 4 * count
    raw_txs = []
    for size in sizes:
        raw_txs.append(message[pos : pos + size])
        pos += size
    spent = []
    for inputs in input_counts:
        outs = []
        for _ in range(inputs):
            (value,) = _I64.unpack_from(message, pos)
            script_len, pos = _read_compact(message, pos + 8)
            outs.append(TxOut(value, message[pos : pos + script_len]))
            pos += script_len
        spent.append(outs)
    return first_position, flags, raw_txs, spent


def _read_compact(buf: bytes, pos: int) -> tuple[int, int]:
    first = buf[pos]
    if first < 0xFD:
        return first, pos + 1
    width = 2 if first == 0xFD else 4 if first == 0xFE else 8
    return int.from_bytes(buf[pos + 1 : pos + 1 + width], "little"), pos + 1 + width


def encode_failure(err: ScriptError) -> bytes:
    mandatory = "1" if err.mandatory else "0"
    fields = (str(err.input_index), mandatory, err.error.name, err.evidence)
    return _FAILED + "\x00".join(fields).encode()


def decode_failure(message: bytes) -> ScriptError:
    index, mandatory, name, evidence = message[1:].decode().split("\x00", 3)
    input_index = None if index == "None" else int(index)
    return ScriptError(
        ScriptErr[name], input_index=input_index, mandatory=mandatory == "1", debug=evidence
    )


def run_chunk(message: bytes) -> bytes:
    """What a worker does with one message: the empty reply, or the first failure."""
    first_position, flags, raw_txs, spent = decode_chunk(message)
    try:
        for k, raw in enumerate(raw_txs):
            check_tx(first_position + k, spent[k], flags, raw=raw)
    except ScriptError as err:
        return encode_failure(err)
    return _OK


def _worker_main(conn: Connection) -> None:
    """A worker's loop: one chunk in, one answer out, until the parent says stop or goes."""
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not message:
            return
        try:
            reply = run_chunk(message)
        except Exception as exc:  # a bug, not a verdict: the parent re-checks the chunk
            reply = _CRASHED + repr(exc).encode()
        conn.send_bytes(reply)


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    pending: deque[int] = field(default_factory=deque)  # chunk numbers sent, in order


@dataclass(slots=True)
class _Chunk:
    """Consecutive transactions of a block, checked as one unit."""

    first_position: int
    txs: list[Tx] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    spent: list[Sequence[TxOut]] = field(default_factory=list)
    inputs: int = 0

    def encode(self, flags: int) -> bytes:
        return encode_chunk(self.first_position, flags, self.raws, self.spent)

    def check_here(self, flags: int) -> None:
        for k, tx in enumerate(self.txs):
            check_tx(self.first_position + k, self.spent[k], flags, raw=self.raws[k], tx=tx)


class _ParallelSession:
    """One block's checks: chunks go to workers from the front, to the parent from the back."""

    __slots__ = ("_back", "_checker", "_chunks", "_current", "_failures", "_flags", "_front")

    def __init__(self, checker: ParallelScriptChecker, flags: int) -> None:
        self._checker = checker
        self._flags = flags
        self._chunks: list[_Chunk] = []
        self._current: _Chunk | None = None
        self._front = 0  # the next chunk a worker gets
        self._back = -1  # set by finish(): chunks from here on were taken by the parent
        self._failures: dict[int, ScriptError] = {}

    @property
    def _limit(self) -> int:
        """Chunks at or past this one need no check: a failure came before them."""
        return min(self._failures, default=len(self._chunks))

    def _open_end(self) -> int:
        end = len(self._chunks) if self._back < 0 else self._back
        return min(end, self._limit)

    def add(
        self, position: int, tx: Tx, spent_outputs: Sequence[TxOut], raw: bytes | None = None
    ) -> None:
        chunk = self._current
        if chunk is None:
            chunk = self._current = _Chunk(position)
        chunk.txs.append(tx)
        chunk.raws.append(raw if raw is not None else tx.serialize())
        chunk.spent.append(spent_outputs)
        chunk.inputs += len(spent_outputs)
        if chunk.inputs >= self._checker.chunk_inputs:
            self._seal()
            self._checker.pump(self, block=False)

    def _seal(self) -> None:
        if self._current is not None:
            self._chunks.append(self._current)
            self._current = None

    def next_for_worker(self) -> tuple[int, bytes] | None:
        """The next chunk to send (its number and message), if any is left."""
        if self._front >= self._open_end():
            return None
        number = self._front
        self._front += 1
        return number, self._chunks[number].encode(self._flags)

    def settle(self, number: int, reply: bytes | None) -> None:
        """A worker's answer for chunk `number`; None when it must be checked here."""
        if reply is None or (reply != _OK and reply[:1] != _FAILED):
            self.check_here(number)
        elif reply[:1] == _FAILED:
            self._failures[number] = decode_failure(reply)

    def check_here(self, number: int) -> None:
        if number >= self._limit:
            return
        try:
            self._chunks[number].check_here(self._flags)
        except ScriptError as err:
            self._failures[number] = err

    def finish(self) -> None:
        self._seal()
        self._back = len(self._chunks)
        try:
            while True:
                self._checker.pump(self, block=False)
                if self._front >= self._open_end():
                    break
                self._back -= 1
                self.check_here(self._back)
        finally:
            self._checker.drain(self)
        if self._failures:
            raise self._failures[min(self._failures)]

    def abandon(self) -> None:
        self._seal()
        self._back = self._front
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
        self._context = multiprocessing.get_context(start_method)
        self._workers: list[_Worker] = []
        self._closed = False
        self._restarts = 0
        self._session: _ParallelSession | None = None
        for _ in range(workers):
            self._workers.append(self._start_worker())

    @property
    def workers(self) -> int:
        return len(self._workers)

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(child_end,), name="script-check", daemon=True
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def begin(self, flags: int) -> ScriptCheckSession:
        if self._closed:
            raise ChainMisuse("the parallel script checker is closed")
        if self._session is not None:
            raise ChainMisuse("a script check session is already open on this checker")
        self._session = _ParallelSession(self, flags)
        return self._session

    def check_block(
        self,
        block: Block,
        spent_outputs: Sequence[Sequence[TxOut]],
        flags: int,
        *,
        tx_bytes: Sequence[bytes] | None = None,
    ) -> None:
        """`check_block_scripts` with this checker."""
        check_block_scripts(self, block, spent_outputs, flags, tx_bytes=tx_bytes)

    # -- the session's side of the pool -------------------------------------------------------

    def pump(self, session: _ParallelSession, *, block: bool) -> None:
        """Take the answers that are in (waiting for one if `block`), then refill workers."""
        busy = {worker.conn: worker for worker in self._workers if worker.pending}
        if busy:
            for conn in wait(list(busy), timeout=None if block else 0):
                worker = busy[conn]  # type: ignore[index]
                try:
                    reply = worker.conn.recv_bytes()
                except (EOFError, OSError):
                    self._replace(worker, session)
                    continue
                session.settle(worker.pending.popleft(), reply)
        for worker in list(self._workers):
            self._fill(worker, session)

    def drain(self, session: _ParallelSession) -> None:
        """Wait for every answer still owed to `session`; the session is over."""
        try:
            while any(worker.pending for worker in self._workers):
                self.pump(session, block=True)
        finally:
            self._session = None

    def _fill(self, worker: _Worker, session: _ParallelSession) -> None:
        while len(worker.pending) < PREFETCH_CHUNKS:
            job = session.next_for_worker()
            if job is None:
                return
            number, message = job
            worker.pending.append(number)
            try:
                worker.conn.send_bytes(message)
            except OSError:
                self._replace(worker, session)
                return

    def _replace(self, worker: _Worker, session: _ParallelSession) -> None:
        """A worker died: check its chunks here and start a new one in its place (or, past
        `MAX_WORKER_RESTARTS`, carry on without it)."""
        lost = list(worker.pending)
        worker.pending.clear()
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
