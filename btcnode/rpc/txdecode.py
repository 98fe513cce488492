"""Core's DecodeHexTx (core_read.cpp): hex to a transaction, trying both serializations.

A hex string may decode both with the BIP144 extended serialization and with the legacy
one (where `00 01` reads as zero inputs and one output). Core keeps the attempts that
consume every byte; if both do, the one whose scripts pass CheckTxScriptsSanity (sizes
within MAX_SCRIPT_SIZE, every opcode known) wins, else the extended one.
"""

from __future__ import annotations

import re

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.script.opcodes import MAX_OPCODE
from btcnode.consensus.script.ops import MAX_SCRIPT_SIZE, ScriptParseError, iter_ops
from btcnode.consensus.tx import Tx

__all__ = ["decode_hex_tx", "has_valid_ops"]

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def has_valid_ops(script: bytes) -> bool:
    """Core's CScript::HasValidOps: parses and uses no opcode above OP_NOP10."""
    try:
        return all(opcode <= MAX_OPCODE for opcode, _, _ in iter_ops(script))
    except ScriptParseError:
        return False


def _scripts_sane(tx: Tx) -> bool:
    """Core's CheckTxScriptsSanity."""
    if not tx.is_coinbase():
        for txin in tx.vin:
            if len(txin.script_sig) > MAX_SCRIPT_SIZE or not has_valid_ops(txin.script_sig):
                return False
    return all(
        len(out.script_pubkey) <= MAX_SCRIPT_SIZE and has_valid_ops(out.script_pubkey)
        for out in tx.vout
    )


def _attempt(raw: bytes, allow_witness: bool) -> Tx | None:
    try:
        return Tx.deserialize(raw, allow_witness=allow_witness)
    except (SerializationError, ValueError):
        return None


def decode_hex_tx(text: str, *, try_no_witness: bool = True, try_witness: bool = True) -> Tx | None:
    """The transaction `text` encodes, or None (Core's DecodeHexTx)."""
    if not _HEX.fullmatch(text):
        return None
    raw = bytes.fromhex(text)
    extended = _attempt(raw, True) if try_witness else None
    legacy = _attempt(raw, False) if try_no_witness else None
    if extended is None or legacy is None:
        return extended or legacy
    if _scripts_sane(legacy) and not _scripts_sane(extended):
        return legacy
    return extended
