"""Transactions: the legacy and BIP144 segwit serializations, txid and wtxid.

Values are frozen; `Tx.deserialize` bounds every count by the bytes left and refuses trailing
bytes. The txid is SHA-256d of the serialization without witness data, the wtxid of the full
serialization (BIP141); both are computed once and cached. Consensus range checks (amounts,
duplicate inputs, sizes) are not construction errors: they live in `btcnode.consensus.checks`
so that an invalid transaction can still be decoded and reported with Core's reject reason.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.hashes import hash256_hex, sha256d
from btcnode.consensus.serialize import (
    ByteReader,
    ser_compact_size,
    ser_var_bytes,
)

SEQUENCE_FINAL = 0xFFFFFFFF
# Core's CTxIn::MAX_SEQUENCE_NONFINAL: the highest sequence that lets nLockTime apply; it does
# not signal BIP125 replaceability.
MAX_SEQUENCE_NONFINAL = SEQUENCE_FINAL - 1
LOCKTIME_THRESHOLD = 500_000_000  # below: nLockTime is a height; at or above: a Unix time
NULL_TXID = bytes(32)
NULL_INDEX = 0xFFFFFFFF  # the prevout index of a coinbase input
WITNESS_SCALE_FACTOR = 4  # BIP141: weight = 3 * base size + total size
MIN_TX_BYTES = 10  # version + two empty counts + lock time
MIN_TXIN_BYTES = 41  # outpoint + empty script + sequence
MIN_TXOUT_BYTES = 9  # value + empty script

_OUTPOINT = struct.Struct("<32sI")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")


@dataclass(frozen=True, slots=True)
class OutPoint:
    """A reference to output `n` of the transaction `txid` (internal byte order)."""

    txid: bytes
    n: int

    def __post_init__(self) -> None:
        if len(self.txid) != 32:
            raise ValueError(f"txid must be 32 bytes, got {len(self.txid)}")
        if not 0 <= self.n <= 0xFFFFFFFF:
            raise ValueError(f"output index out of range: {self.n}")

    def is_null(self) -> bool:
        return self.n == NULL_INDEX and self.txid == NULL_TXID

    def serialize(self) -> bytes:
        return _OUTPOINT.pack(self.txid, self.n)

    def __repr__(self) -> str:
        return f"OutPoint(bytes.fromhex({self.txid.hex()!r}), {self.n})"

    def __str__(self) -> str:
        return f"{hash256_hex(self.txid)}:{self.n}"


@dataclass(frozen=True, slots=True)
class TxIn:
    prevout: OutPoint
    script_sig: bytes = b""
    sequence: int = SEQUENCE_FINAL
    witness: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.sequence <= 0xFFFFFFFF:
            raise ValueError(f"sequence out of range: {self.sequence}")


@dataclass(frozen=True, slots=True)
class TxOut:
    value: int  # satoshis; range-checked by the consensus checks, not here
    script_pubkey: bytes

    def serialize(self) -> bytes:
        return _I64.pack(self.value) + ser_var_bytes(self.script_pubkey)


@dataclass(frozen=True, slots=True)
class Tx:
    version: int
    vin: tuple[TxIn, ...]
    vout: tuple[TxOut, ...]
    lock_time: int = 0
    _txid: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _wtxid: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _sizes: tuple[int, int] | None = field(default=None, init=False, repr=False, compare=False)
    # Core's GetLegacySigOpCount, filled by `checks.legacy_sigop_count`: a block's checks ask
    # for it twice (CheckBlock and the sigop cost in ConnectBlock).
    _legacy_sigops: int | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not -(2**31) <= self.version < 2**31:
            raise ValueError(f"version out of int32 range: {self.version}")
        if not 0 <= self.lock_time <= 0xFFFFFFFF:
            raise ValueError(f"lock_time out of range: {self.lock_time}")

    # -- identity ---------------------------------------------------------------------------

    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.vin)

    def is_coinbase(self) -> bool:
        return len(self.vin) == 1 and self.vin[0].prevout.is_null()

    @property
    def txid(self) -> bytes:
        if self._txid is None:
            object.__setattr__(self, "_txid", sha256d(self.serialize(with_witness=False)))
        assert self._txid is not None
        return self._txid

    @property
    def wtxid(self) -> bytes:
        if self._wtxid is None:
            if not self.has_witness():
                object.__setattr__(self, "_wtxid", self.txid)
            else:
                object.__setattr__(self, "_wtxid", sha256d(self.serialize()))
        assert self._wtxid is not None
        return self._wtxid

    # -- sizes (BIP141) ---------------------------------------------------------------------

    def _size_pair(self) -> tuple[int, int]:
        if self._sizes is None:
            base = len(self.serialize(with_witness=False))
            total = len(self.serialize()) if self.has_witness() else base
            object.__setattr__(self, "_sizes", (base, total))
        assert self._sizes is not None
        return self._sizes

    @property
    def base_size(self) -> int:
        """Bytes without witness data (Core's GetSerializeSize with TX_NO_WITNESS)."""
        return self._size_pair()[0]

    @property
    def total_size(self) -> int:
        return self._size_pair()[1]

    @property
    def weight(self) -> int:
        base, total = self._size_pair()
        return base * (WITNESS_SCALE_FACTOR - 1) + total

    @property
    def vsize(self) -> int:
        """Virtual size without the sigop adjustment: ceil(weight / 4)."""
        return (self.weight + WITNESS_SCALE_FACTOR - 1) // WITNESS_SCALE_FACTOR

    # -- encoding ---------------------------------------------------------------------------

    def serialize(self, *, with_witness: bool = True) -> bytes:
        witness = with_witness and self.has_witness()
        parts = [_I32.pack(self.version)]
        if witness:
            parts.append(b"\x00\x01")  # BIP144 marker and flag
        parts.append(ser_compact_size(len(self.vin)))
        for txin in self.vin:
            parts.append(_OUTPOINT.pack(txin.prevout.txid, txin.prevout.n))
            parts.append(ser_var_bytes(txin.script_sig))
            parts.append(_U32.pack(txin.sequence))
        parts.append(ser_compact_size(len(self.vout)))
        for txout in self.vout:
            parts.append(_I64.pack(txout.value))
            parts.append(ser_var_bytes(txout.script_pubkey))
        if witness:
            for txin in self.vin:
                parts.append(ser_compact_size(len(txin.witness)))
                parts.extend(ser_var_bytes(item) for item in txin.witness)
        parts.append(_U32.pack(self.lock_time))
        return b"".join(parts)

    @classmethod
    def deserialize(cls, buf: bytes, *, allow_witness: bool = True) -> Tx:
        """Exactly one transaction; trailing bytes are an error."""
        reader = ByteReader(buf)
        tx = cls.read_from(reader, allow_witness=allow_witness)
        reader.finish()
        return tx

    @classmethod
    def read_from(cls, reader: ByteReader, *, allow_witness: bool = True) -> Tx:
        """One transaction from `reader` (Core's UnserializeTransaction).

        Fields are read straight off the buffer with `struct.unpack_from` (a block holds
        thousands of transactions); any read past the end becomes a SerializationError.
        """
        try:
            tx, reader.pos = _decode_tx(reader.buf, reader.pos, allow_witness)
        except (struct.error, IndexError):
            raise SerializationError(
                f"truncated transaction starting at offset {reader.pos}"
            ) from None
        return tx

    def __str__(self) -> str:
        return f"Tx({hash256_hex(self.txid)})"


_RawInput = tuple[bytes, int, bytes, int]  # txid, index, script_sig, sequence


# -- decoded values, built without the dataclass constructors --------------------------------
#
# A frozen dataclass's __init__ writes each field through object.__setattr__ and then runs
# __post_init__'s range checks; a block of 2,000 transactions builds about 12,000 of these
# values. What the decoder reads is in range by construction (u32/i32 fields, 32-byte
# txids), so it writes the slots directly: the same objects, about twice as fast to build.


def _slot_writer(cls: type, name: str) -> Callable[[object, object], None]:
    return cast(Callable[[object, object], None], cls.__dict__[name].__set__)


_new = object.__new__
_OUTPOINT_TXID, _OUTPOINT_N = _slot_writer(OutPoint, "txid"), _slot_writer(OutPoint, "n")
_TXOUT_VALUE = _slot_writer(TxOut, "value")
_TXOUT_SCRIPT = _slot_writer(TxOut, "script_pubkey")
_TXIN_FIELDS = tuple(
    _slot_writer(TxIn, name) for name in ("prevout", "script_sig", "sequence", "witness")
)
_TX_FIELDS = tuple(
    _slot_writer(Tx, name)
    for name in (
        "version",
        "vin",
        "vout",
        "lock_time",
        "_txid",
        "_wtxid",
        "_sizes",
        "_legacy_sigops",
    )
)


def _decoded_txout(value: int, script_pubkey: bytes) -> TxOut:
    out = _new(TxOut)
    _TXOUT_VALUE(out, value)
    _TXOUT_SCRIPT(out, script_pubkey)
    return out


def _decoded_txin(
    txid: bytes, n: int, script_sig: bytes, sequence: int, witness: tuple[bytes, ...]
) -> TxIn:
    prevout = _new(OutPoint)
    _OUTPOINT_TXID(prevout, txid)
    _OUTPOINT_N(prevout, n)
    txin = _new(TxIn)
    set_prevout, set_script_sig, set_sequence, set_witness = _TXIN_FIELDS
    set_prevout(txin, prevout)
    set_script_sig(txin, script_sig)
    set_sequence(txin, sequence)
    set_witness(txin, witness)
    return txin


def _decoded_tx(
    version: int,
    vin: tuple[TxIn, ...],
    vout: tuple[TxOut, ...],
    lock_time: int,
    ids: tuple[bytes, bytes],
    sizes: tuple[int, int],
) -> Tx:
    """A `Tx` with its txid and wtxid (`ids`) and its base and total sizes known."""
    tx = _new(Tx)
    set_version, set_vin, set_vout, set_lock_time, set_txid, set_wtxid, set_sizes, set_sigops = (
        _TX_FIELDS
    )
    set_version(tx, version)
    set_vin(tx, vin)
    set_vout(tx, vout)
    set_lock_time(tx, lock_time)
    set_txid(tx, ids[0])
    set_wtxid(tx, ids[1])
    set_sizes(tx, sizes)
    set_sigops(tx, None)
    return tx


def _decode_tx(buf: bytes, pos: int, allow_witness: bool) -> tuple[Tx, int]:
    start = pos
    (version,) = _I32.unpack_from(buf, pos)
    raw_inputs, pos = _decode_inputs(buf, pos + 4)
    flags = 0
    outputs: tuple[TxOut, ...] = ()
    if not raw_inputs and allow_witness:
        flags = buf[pos]
        pos += 1
        if flags != 0:
            raw_inputs, pos = _decode_inputs(buf, pos)
            outputs, pos = _decode_outputs(buf, pos)
    else:
        outputs, pos = _decode_outputs(buf, pos)
    body_end = pos
    witnesses: list[tuple[bytes, ...]] = []
    if flags & 1 and allow_witness:
        flags ^= 1
        witnesses, pos = _decode_witnesses(buf, pos, len(raw_inputs))
        if not any(witnesses):
            raise SerializationError("Superfluous witness record")
    if flags:
        raise SerializationError("Unknown transaction optional data")
    (lock_time,) = _U32.unpack_from(buf, pos)
    pos += 4
    if witnesses:
        vin = tuple(
            _decoded_txin(txid, n, script_sig, sequence, stack)
            for (txid, n, script_sig, sequence), stack in zip(raw_inputs, witnesses, strict=True)
        )
        stripped = buf[start : start + 4] + buf[start + 6 : body_end] + buf[pos - 4 : pos]
        sizes = (len(stripped), pos - start)
        ids = (sha256d(stripped), sha256d(buf[start:pos]))
    else:
        vin = tuple(_decoded_txin(txid, n, ss, seq, ()) for txid, n, ss, seq in raw_inputs)
        txid = sha256d(buf[start:pos])
        ids = (txid, txid)
        sizes = (pos - start, pos - start)
    return _decoded_tx(version, vin, outputs, lock_time, ids, sizes), pos


def _decode_count(buf: bytes, pos: int, min_item_bytes: int) -> tuple[int, int]:
    """A CompactSize count the rest of `buf` could hold (one byte is the common case)."""
    count = buf[pos]
    if count < 0xFD:
        pos += 1
    else:
        reader = ByteReader(buf, pos)
        count = reader.read_compact_size()
        pos = reader.pos
    if count * min_item_bytes > len(buf) - pos:
        raise SerializationError(
            f"count {count} needs at least {count * min_item_bytes} bytes, {len(buf) - pos} left"
        )
    return count, pos


def _decode_bytes(buf: bytes, pos: int) -> tuple[bytes, int]:
    size = buf[pos]
    if size < 0xFD:
        pos += 1
    else:
        reader = ByteReader(buf, pos)
        size = reader.read_compact_size()
        pos = reader.pos
    end = pos + size
    if end > len(buf):
        raise SerializationError(f"{size} bytes announced at offset {pos}, {len(buf) - pos} left")
    return buf[pos:end], end


def _decode_inputs(buf: bytes, pos: int) -> tuple[list[_RawInput], int]:
    count, pos = _decode_count(buf, pos, MIN_TXIN_BYTES)
    out: list[_RawInput] = []
    for _ in range(count):
        txid, n = _OUTPOINT.unpack_from(buf, pos)
        script_sig, pos = _decode_bytes(buf, pos + 36)
        (sequence,) = _U32.unpack_from(buf, pos)
        pos += 4
        out.append((txid, n, script_sig, sequence))
    return out, pos


def _decode_outputs(buf: bytes, pos: int) -> tuple[tuple[TxOut, ...], int]:
    count, pos = _decode_count(buf, pos, MIN_TXOUT_BYTES)
    out = []
    for _ in range(count):
        (value,) = _I64.unpack_from(buf, pos)
        script, pos = _decode_bytes(buf, pos + 8)
        out.append(_decoded_txout(value, script))
    return tuple(out), pos


def _decode_witnesses(buf: bytes, pos: int, inputs: int) -> tuple[list[tuple[bytes, ...]], int]:
    out = []
    for _ in range(inputs):
        items, pos = _decode_count(buf, pos, 1)
        stack = []
        for _ in range(items):
            item, pos = _decode_bytes(buf, pos)
            stack.append(item)
        out.append(tuple(stack))
    return out, pos
