"""Accept-only fast paths for the two spends that fill blocks: P2PKH and P2WPKH, SIGHASH_ALL.

`unproven_inputs(raw_tx, spent_outputs, flags)` works on the serialized transaction: it finds
the byte ranges of the inputs, outputs and witnesses once, builds each signature hash from
those slices (legacy preimage or BIP143), and verifies with libsecp256k1. It returns the
inputs it could not prove valid; the caller runs the full interpreter on those. It never
declares an input invalid, so the verdict (and the first failing input) is always the
interpreter's.

An input is proven only when every step of the interpreter is known to succeed:
- P2PKH: scriptPubKey is the 25-byte template; scriptSig is exactly `<sig> <33-byte
  compressed pubkey>` as two direct pushes; no witness; the pushed signature does not occur
  in the scriptPubKey (so FindAndDelete leaves the scriptCode as is); HASH160(pubkey) matches.
- P2WPKH (only with the WITNESS flag): scriptPubKey is `OP_0 <20 bytes>`; empty scriptSig;
  a witness of exactly `<sig> <33-byte compressed pubkey>`; HASH160(pubkey) matches.
- Both: the signature is strict DER (BIP66) with hash type SIGHASH_ALL, and libsecp256k1's
  verify (which accepts only low-S signatures, a subset of what consensus accepts) passes.
Such an input passes every flag a block or the mempool checks (DERSIG, LOW_S, STRICTENC,
NULLFAIL, MINIMALDATA, CLEANSTACK, WITNESS_PUBKEYTYPE, CONST_SCRIPTCODE). Anything else,
including a transaction that does not parse here, is left to the interpreter.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from btcnode.consensus.hashes import hash160, sha256d
from btcnode.consensus.script.flagbits import WITNESS
from btcnode.consensus.script.signature import (
    MAX_DER_SIG_BYTES,
    MIN_DER_SIG_BYTES,
    is_valid_signature_encoding,
    verify_strict_der,
)
from btcnode.consensus.serialize import read_compact_at, ser_compact_size
from btcnode.consensus.tx import TxOut

_SIGHASH_ALL_BYTE = 0x01
_SIGHASH_ALL_U32 = b"\x01\x00\x00\x00"
_P2PKH_HEAD, _P2PKH_TAIL = b"\x76\xa9\x14", b"\x88\xac"
_P2WPKH_HEAD = b"\x00\x14"
_COMPRESSED_PUBKEY_BYTES = 33
_I64 = struct.Struct("<q")


class _RawTx:
    """Byte ranges of one serialized transaction; parsing failures raise IndexError/ValueError."""

    __slots__ = ("_bip143", "inputs", "outputs", "raw", "witnesses")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        segwit = raw[4] == 0 and raw[5] == 1
        pos = 6 if segwit else 4
        count = raw[pos]
        count, pos = (count, pos + 1) if count < 0xFD else read_compact_at(raw, pos)
        inputs = []
        for _ in range(count):
            script_start = pos + 37
            size = raw[script_start - 1]
            if size >= 0xFD:
                size, script_start = read_compact_at(raw, script_start - 1)
            pos = script_start + size
            inputs.append((script_start - 37, script_start, pos))
            pos += 4
        self.inputs = inputs
        outputs_start = pos
        count = raw[pos]
        count, pos = (count, pos + 1) if count < 0xFD else read_compact_at(raw, pos)
        for _ in range(count):
            size = raw[pos + 8]
            pos = pos + 9 + size if size < 0xFD else sum(read_compact_at(raw, pos + 8))
        self.outputs = (outputs_start, pos)  # the output count and every output
        self.witnesses: list[list[bytes]] = []
        if segwit:
            pos = self._read_witnesses(pos)
        if pos + 4 != len(raw):
            raise ValueError("trailing or missing bytes")
        self._bip143: tuple[bytes, bytes, bytes] | None = None

    def _read_witnesses(self, pos: int) -> int:
        raw = self.raw
        for _ in self.inputs:
            count, pos = read_compact_at(raw, pos)
            items = []
            for _ in range(count):
                size, pos = read_compact_at(raw, pos)
                items.append(raw[pos : pos + size])
                pos += size
            self.witnesses.append(items)
        return pos

    def witness(self, n_in: int) -> list[bytes]:
        return self.witnesses[n_in] if self.witnesses else []

    def legacy_sighash_all(self, n_in: int, script_code: bytes) -> bytes:
        raw = self.raw
        parts = [raw[:4], ser_compact_size(len(self.inputs))]
        for i, (start, _, script_end) in enumerate(self.inputs):
            parts.append(raw[start : start + 36])
            parts.append(script_code if i == n_in else b"\x00")
            parts.append(raw[script_end : script_end + 4])
        parts.append(raw[self.outputs[0] : self.outputs[1]])
        parts.append(raw[-4:])
        parts.append(_SIGHASH_ALL_U32)
        return sha256d(b"".join(parts))

    def bip143_sighash_all(self, n_in: int, script_code: bytes, amount: int) -> bytes:
        raw = self.raw
        if self._bip143 is None:
            prevouts = b"".join(raw[start : start + 36] for start, _, _ in self.inputs)
            sequences = b"".join(raw[end : end + 4] for _, _, end in self.inputs)
            _, outputs_count_end = read_compact_at(raw, self.outputs[0])
            outputs = raw[outputs_count_end : self.outputs[1]]
            self._bip143 = (sha256d(prevouts), sha256d(sequences), sha256d(outputs))
        hash_prevouts, hash_sequence, hash_outputs = self._bip143
        start, _, script_end = self.inputs[n_in]
        preimage = b"".join(
            (
                raw[:4],
                hash_prevouts,
                hash_sequence,
                raw[start : start + 36],
                script_code,
                _I64.pack(amount),
                raw[script_end : script_end + 4],
                hash_outputs,
                raw[-4:],
                _SIGHASH_ALL_U32,
            )
        )
        return sha256d(preimage)


def _signature_ok(sig: bytes) -> bool:
    """Strict DER (which bounds the length first) with hash type SIGHASH_ALL."""
    return is_valid_signature_encoding(sig) and sig[-1] == _SIGHASH_ALL_BYTE


def _pubkey_ok(pubkey: bytes) -> bool:
    return len(pubkey) == _COMPRESSED_PUBKEY_BYTES and pubkey[0] in (2, 3)


def _verify(sig: bytes, pubkey: bytes, digest: bytes) -> bool:
    """libsecp256k1's verify of the DER signature `sig` (hash type byte last) on `digest`."""
    return verify_strict_der(sig[:-1], pubkey, digest)


def _prove_p2pkh(tx: _RawTx, n_in: int, script_pubkey: bytes) -> bool:
    if tx.witness(n_in):
        return False
    raw = tx.raw
    _, script_start, script_end = tx.inputs[n_in]
    sig_len = raw[script_start]
    sig_end = script_start + 1 + sig_len
    if not (
        MIN_DER_SIG_BYTES <= sig_len <= MAX_DER_SIG_BYTES
        and script_end - sig_end == 1 + _COMPRESSED_PUBKEY_BYTES
        and raw[sig_end] == _COMPRESSED_PUBKEY_BYTES
    ):
        return False
    sig, pubkey = raw[script_start + 1 : sig_end], raw[sig_end + 1 : script_end]
    if not (_pubkey_ok(pubkey) and _signature_ok(sig)):
        return False
    if raw[script_start:sig_end] in script_pubkey or hash160(pubkey) != script_pubkey[3:23]:
        return False
    digest = tx.legacy_sighash_all(n_in, b"\x19" + script_pubkey)
    return _verify(sig, pubkey, digest)


def _prove_p2wpkh(tx: _RawTx, n_in: int, script_pubkey: bytes, amount: int) -> bool:
    _, script_start, script_end = tx.inputs[n_in]
    witness = tx.witness(n_in)
    if script_end != script_start or len(witness) != 2:
        return False
    sig, pubkey = witness
    if not (_pubkey_ok(pubkey) and _signature_ok(sig)):
        return False
    key_hash = script_pubkey[2:]
    if hash160(pubkey) != key_hash:
        return False
    script_code = b"\x19" + _P2PKH_HEAD + key_hash + _P2PKH_TAIL
    return _verify(sig, pubkey, tx.bip143_sighash_all(n_in, script_code, amount))


def unproven_inputs(raw_tx: bytes, spent_outputs: Sequence[TxOut], flags: int) -> list[int]:
    """Indices of the inputs of `raw_tx` this fast path could not prove valid, ascending."""
    try:
        tx = _RawTx(raw_tx)
        if len(tx.inputs) != len(spent_outputs):
            return list(range(len(spent_outputs)))
        witness_on = int(flags) & WITNESS
        left = []
        for n_in, spent in enumerate(spent_outputs):
            script = spent.script_pubkey
            if len(script) == 25 and script[:3] == _P2PKH_HEAD and script[23:] == _P2PKH_TAIL:
                proven = _prove_p2pkh(tx, n_in, script)
            elif witness_on and len(script) == 22 and script[:2] == _P2WPKH_HEAD:
                proven = _prove_p2wpkh(tx, n_in, script, spent.value)
            else:
                proven = False
            if not proven:
                left.append(n_in)
        return left
    except (IndexError, ValueError):
        return list(range(len(spent_outputs)))
