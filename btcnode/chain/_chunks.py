"""The worker side of the parallel script checker: chunk messages, claims, the worker loop.

A chunk is consecutive transactions of one block. Its message (parent to worker) is
    u64 sequence | u32 first position | u32 flags | u32 count
    | count x u32 tx size | count x u32 input count | raw txs | spent outputs
where each spent output is i64 value | CompactSize script length | script. The reply is
empty (every input valid), b"E" + the first failure's fields, b"S" (skipped: the chunk was
claimed by the parent), or b"X" + a description (the worker failed; the parent re-checks).

Claims: one byte per chunk in shared memory, at `sequence % CLAIM_SLOTS`, set to UNCLAIMED
by the parent before sending. The worker takes a chunk by writing WORKER, the parent steals
(or cancels) one by writing PARENT; whoever finds the byte already set leaves the chunk. A
race where both read UNCLAIMED only makes both check the chunk, with the same result.
"""

from __future__ import annotations

import signal
import struct
from array import array
from collections.abc import MutableSequence, Sequence
from multiprocessing.connection import Connection

from btcnode.chain.scriptcheck import check_tx
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.serialize import read_compact_at, ser_compact_size
from btcnode.consensus.tx import TxOut

# Claim bytes in the ring; a session never has this many chunks in flight (a 4 MB block
# holds at most about 25,000 inputs, a few hundred chunks).
CLAIM_SLOTS = 1 << 16
UNCLAIMED, WORKER, PARENT = 0, 1, 2

OK = b""
FAILED, SKIPPED, CRASHED = b"E", b"S", b"X"

_HEAD = struct.Struct("<QIII")
_I64 = struct.Struct("<q")


def encode_chunk(
    sequence: int,
    first_position: int,
    flags: int,
    raw_txs: Sequence[bytes],
    spent: Sequence[Sequence[TxOut]],
) -> bytes:
    parts = [
        _HEAD.pack(sequence, first_position, flags, len(raw_txs)),
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


def chunk_sequence(message: bytes) -> int:
    return int(_HEAD.unpack_from(message)[0])


def decode_chunk(message: bytes) -> tuple[int, int, int, list[bytes], list[list[TxOut]]]:
    """The inverse of `encode_chunk` (messages come from the parent only)."""
    sequence, first_position, flags, count = _HEAD.unpack_from(message)
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
            script_len, pos = read_compact_at(message, pos + 8)
            outs.append(TxOut(value, message[pos : pos + script_len]))
            pos += script_len
        spent.append(outs)
    return sequence, first_position, flags, raw_txs, spent


def encode_failure(err: ScriptError) -> bytes:
    mandatory = "1" if err.mandatory else "0"
    fields = (str(err.input_index), mandatory, err.error.name, err.evidence)
    return FAILED + "\x00".join(fields).encode()


def decode_failure(message: bytes) -> ScriptError:
    index, mandatory, name, evidence = message[1:].decode().split("\x00", 3)
    input_index = None if index == "None" else int(index)
    return ScriptError(
        ScriptErr[name], input_index=input_index, mandatory=mandatory == "1", debug=evidence
    )


def run_chunk(message: bytes, claims: MutableSequence[int]) -> bytes:
    """What a worker does with one message: claim it, check it, report."""
    slot = chunk_sequence(message) % CLAIM_SLOTS
    if claims[slot] != UNCLAIMED:
        return SKIPPED
    claims[slot] = WORKER
    _, first_position, flags, raw_txs, spent = decode_chunk(message)
    try:
        for k, raw in enumerate(raw_txs):
            check_tx(first_position + k, spent[k], flags, raw=raw)
    except ScriptError as err:
        return encode_failure(err)
    return OK


def worker_main(conn: Connection, claims: MutableSequence[int]) -> None:
    """A worker's loop: one chunk in, one answer out, until the parent says stop or goes.

    Ctrl-C on a terminal signals the whole process group; only the parent acts on it (it
    stops its workers in order), so a worker ignores SIGINT, also one started as a
    replacement long after the parent's own handlers were set."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not message:
            return
        try:
            reply = run_chunk(message, claims)
        except Exception as exc:  # a bug, not a verdict: the parent re-checks the chunk
            reply = CRASHED + repr(exc).encode()
        conn.send_bytes(reply)
