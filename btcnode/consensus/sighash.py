"""Signature hashes: the legacy algorithm and BIP143 (witness version 0).

`signature_hash_legacy` is Core's SignatureHash for SigVersion::BASE, bug for bug: the
scriptCode has its OP_CODESEPARATORs removed, SIGHASH_SINGLE without a matching output
signs the number one (`LEGACY_SINGLE_BUG_HASH`), and the hash type is serialized as the
signed 32-bit integer it was given. `signature_hash_witness_v0` is BIP143.

`PrecomputedTxData` holds what every input of one transaction shares (hashPrevouts,
hashSequence, hashOutputs and the serialized pieces of the legacy preimage), computed on
first use, so that signing or verifying many inputs of a transaction hashes each part once.
Hashes are 32 bytes in internal byte order (display order is reversed).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Sequence

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import sha256d
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import next_op
from btcnode.consensus.serialize import ser_compact_size, ser_var_bytes
from btcnode.consensus.tx import Tx, TxOut

SIGHASH_ALL = 1
SIGHASH_NONE = 2
SIGHASH_SINGLE = 3
SIGHASH_ANYONECANPAY = 0x80
SIGHASH_OUTPUT_MASK = 0x1F  # Core compares only the low five bits with NONE and SINGLE

# interpreter.cpp SignatureHash: "nIn out of range" / SIGHASH_SINGLE without a matching
# output returns uint256 one, little-endian: 01 00 .. 00.
LEGACY_SINGLE_BUG_HASH = b"\x01" + bytes(31)
ZERO_HASH = bytes(32)

_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_OUTPOINT = struct.Struct("<32sI")
_NULL_TXOUT = _I64.pack(-1) + b"\x00"  # CTxOut() in SIGHASH_SINGLE: value -1, empty script


class SigVersion(enum.Enum):
    """Which signature hash a script's CHECKSIGs use (Core's SigVersion, without Taproot)."""

    BASE = 0
    WITNESS_V0 = 1


class PrecomputedTxData:
    """Per-transaction parts of the signature hashes, each computed once on first use.

    Core's PrecomputedTransactionData. `spent_outputs` (one per input, in order) is kept for
    callers that verify with it; the BIP143 hashes do not depend on it.
    """

    __slots__ = (
        "_bip143_all_frame",
        "_hash_outputs",
        "_hash_prevouts",
        "_hash_sequence",
        "_legacy_inputs",
        "_legacy_outputs",
        "spent_outputs",
        "tx",
    )

    def __init__(self, tx: Tx, spent_outputs: Sequence[TxOut] = ()) -> None:
        if spent_outputs and len(spent_outputs) != len(tx.vin):
            raise ChainMisuse(
                f"{len(spent_outputs)} spent outputs for a transaction with {len(tx.vin)} inputs"
            )
        self.tx = tx
        self.spent_outputs: tuple[TxOut, ...] = tuple(spent_outputs)
        self._hash_prevouts: bytes | None = None
        self._bip143_all_frame: tuple[bytes, bytes] | None = None
        self._hash_sequence: bytes | None = None
        self._hash_outputs: bytes | None = None
        self._legacy_inputs: list[tuple[bytes, bytes]] | None = None
        self._legacy_outputs: bytes | None = None

    # -- BIP143 -----------------------------------------------------------------------------

    @property
    def hash_prevouts(self) -> bytes:
        if self._hash_prevouts is None:
            self._hash_prevouts = sha256d(b"".join([op for op, _ in self.legacy_inputs]))
        return self._hash_prevouts

    @property
    def hash_sequence(self) -> bytes:
        if self._hash_sequence is None:
            self._hash_sequence = sha256d(b"".join([seq for _, seq in self.legacy_inputs]))
        return self._hash_sequence

    @property
    def hash_outputs(self) -> bytes:
        if self._hash_outputs is None:
            self._hash_outputs = sha256d(self.legacy_outputs)
        return self._hash_outputs

    @property
    def bip143_all_frame(self) -> tuple[bytes, bytes]:
        """The SIGHASH_ALL preimage around the input's own fields: (nVersion, hashPrevouts,
        hashSequence) and (hashOutputs, nLockTime, nHashType)."""
        if self._bip143_all_frame is None:
            tx = self.tx
            self._bip143_all_frame = (
                _I32.pack(tx.version) + self.hash_prevouts + self.hash_sequence,
                self.hash_outputs + _U32.pack(tx.lock_time) + b"\x01\x00\x00\x00",
            )
        return self._bip143_all_frame

    # -- legacy preimage pieces -------------------------------------------------------------

    @property
    def legacy_inputs(self) -> list[tuple[bytes, bytes]]:
        """(serialized outpoint, serialized sequence) per input."""
        if self._legacy_inputs is None:
            pack_outpoint, pack_u32 = _OUTPOINT.pack, _U32.pack
            self._legacy_inputs = [
                (pack_outpoint(txin.prevout.txid, txin.prevout.n), pack_u32(txin.sequence))
                for txin in self.tx.vin
            ]
        return self._legacy_inputs

    @property
    def legacy_outputs(self) -> bytes:
        """Every output serialized, without the count."""
        if self._legacy_outputs is None:
            pack_i64 = _I64.pack
            parts: list[bytes] = []
            for txout in self.tx.vout:
                script = txout.script_pubkey
                size = len(script)
                length = bytes((size,)) if size < 0xFD else ser_compact_size(size)
                parts += (pack_i64(txout.value), length, script)
            self._legacy_outputs = b"".join(parts)
        return self._legacy_outputs


def serialize_script_code(script_code: bytes) -> bytes:
    """The scriptCode as the legacy preimage holds it: OP_CODESEPARATORs removed.

    As CTransactionSignatureSerializer::SerializeScriptCode: the length counts every byte but
    the separators; ops are copied until one fails to parse, and of that op only the bytes
    Core's iterator had consumed are written (a script that ends in a truncated push is
    serialized shorter than its length says; such a script always fails to execute).
    """
    parts: list[bytes] = []
    separators = 0
    begin = pos = 0
    end = len(script_code)
    while pos < end:
        opcode, pos, parsed = next_op(script_code, pos)
        if not parsed:
            break
        if opcode == Op.OP_CODESEPARATOR:
            separators += 1
            parts.append(script_code[begin : pos - 1])
            begin = pos
    parts.append(script_code[begin:pos])
    return ser_compact_size(end - separators) + b"".join(parts)


def signature_hash_legacy(
    script_code: bytes,
    tx: Tx,
    n_in: int,
    hash_type: int,
    txdata: PrecomputedTxData | None = None,
) -> bytes:
    """Core's SignatureHash for SigVersion::BASE; `hash_type` is a signed 32-bit integer."""
    if n_in >= len(tx.vin):
        return LEGACY_SINGLE_BUG_HASH  # Core: "nIn out of range"
    return legacy_digest(serialize_script_code(script_code), tx, n_in, hash_type, txdata)


def legacy_digest(
    script_part: bytes,
    tx: Tx,
    n_in: int,
    hash_type: int,
    txdata: PrecomputedTxData | None = None,
) -> bytes:
    """The legacy signature hash given the scriptCode already serialized (with its length).

    For callers that know their scriptCode has no OP_CODESEPARATOR and parses (the P2PKH
    template): `ser_var_bytes(script)` is then its serialization. 0 <= n_in < len(tx.vin).
    """
    base_type = hash_type & SIGHASH_OUTPUT_MASK
    if base_type == SIGHASH_SINGLE and n_in >= len(tx.vout):
        return LEGACY_SINGLE_BUG_HASH  # the SIGHASH_SINGLE bug, kept by consensus
    if txdata is None or txdata.tx is not tx:
        txdata = PrecomputedTxData(tx)
    blank_sequences = base_type in (SIGHASH_NONE, SIGHASH_SINGLE)
    parts = [_I32.pack(tx.version)]
    inputs = txdata.legacy_inputs
    if hash_type & SIGHASH_ANYONECANPAY:
        parts += [b"\x01", inputs[n_in][0], script_part, inputs[n_in][1]]
    else:
        parts.append(ser_compact_size(len(inputs)))
        for i, (outpoint, sequence) in enumerate(inputs):
            if i == n_in:
                parts += [outpoint, script_part, sequence]
            else:
                parts += [outpoint, b"\x00", b"\x00\x00\x00\x00" if blank_sequences else sequence]
    parts.append(_legacy_outputs_part(tx, n_in, base_type, txdata))
    parts.append(_U32.pack(tx.lock_time))
    parts.append(_I32.pack(hash_type))
    return sha256d(b"".join(parts))


def _legacy_outputs_part(tx: Tx, n_in: int, base_type: int, txdata: PrecomputedTxData) -> bytes:
    if base_type == SIGHASH_NONE:
        return b"\x00"
    if base_type == SIGHASH_SINGLE:
        return ser_compact_size(n_in + 1) + _NULL_TXOUT * n_in + tx.vout[n_in].serialize()
    return ser_compact_size(len(tx.vout)) + txdata.legacy_outputs


def signature_hash_witness_v0(
    script_code: bytes,
    tx: Tx,
    n_in: int,
    amount: int,
    hash_type: int,
    txdata: PrecomputedTxData | None = None,
) -> bytes:
    """BIP143: the signature hash of input `n_in` spending `amount` satoshis."""
    return sha256d(witness_v0_preimage(script_code, tx, n_in, amount, hash_type, txdata))


def witness_v0_preimage(
    script_code: bytes,
    tx: Tx,
    n_in: int,
    amount: int,
    hash_type: int,
    txdata: PrecomputedTxData | None = None,
) -> bytes:
    """The BIP143 serialization whose SHA-256d is the signature hash."""
    if not 0 <= n_in < len(tx.vin):
        raise ChainMisuse(f"input index {n_in} out of range for {len(tx.vin)} inputs")
    if txdata is None or txdata.tx is not tx:
        txdata = PrecomputedTxData(tx)
    outpoint, sequence = txdata.legacy_inputs[n_in]
    if hash_type == SIGHASH_ALL:  # nearly every signature: the frame is shared by all inputs
        head, tail = txdata.bip143_all_frame
        return b"".join(
            (head, outpoint, ser_var_bytes(script_code), _I64.pack(amount), sequence, tail)
        )
    base_type = hash_type & SIGHASH_OUTPUT_MASK
    anyone_can_pay = hash_type & SIGHASH_ANYONECANPAY
    hash_prevouts = ZERO_HASH if anyone_can_pay else txdata.hash_prevouts
    if anyone_can_pay or base_type in (SIGHASH_SINGLE, SIGHASH_NONE):
        hash_sequence = ZERO_HASH
    else:
        hash_sequence = txdata.hash_sequence
    if base_type not in (SIGHASH_SINGLE, SIGHASH_NONE):
        hash_outputs = txdata.hash_outputs
    elif base_type == SIGHASH_SINGLE and n_in < len(tx.vout):
        hash_outputs = sha256d(tx.vout[n_in].serialize())
    else:
        hash_outputs = ZERO_HASH
    return b"".join(
        (
            _I32.pack(tx.version),
            hash_prevouts,
            hash_sequence,
            outpoint,
            ser_var_bytes(script_code),
            _I64.pack(amount),
            sequence,
            hash_outputs,
            _U32.pack(tx.lock_time),
            _U32.pack(hash_type & 0xFFFFFFFF),
        )
    )


def signature_hash(
    script_code: bytes,
    tx: Tx,
    n_in: int,
    hash_type: int,
    amount: int,
    sigversion: SigVersion,
    txdata: PrecomputedTxData | None = None,
) -> bytes:
    """The hash a CHECKSIG in `sigversion` signs (Core's SignatureHash)."""
    if sigversion is SigVersion.WITNESS_V0:
        return signature_hash_witness_v0(script_code, tx, n_in, amount, hash_type, txdata)
    return signature_hash_legacy(script_code, tx, n_in, hash_type, txdata)
