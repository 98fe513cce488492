"""The Bitcoin consensus library: byte-exact serialization, script, proof of work, checks.

Pure and synchronous: no I/O, no clock (times are passed in), no randomness.
"""

from btcnode.consensus.errors import (
    BlockResult,
    BlockValidationError,
    ChainError,
    ChainMisuse,
    SerializationError,
    TxResult,
    TxValidationError,
    ValidationError,
)
from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.sighash import (
    SIGHASH_ALL,
    SIGHASH_ANYONECANPAY,
    SIGHASH_NONE,
    SIGHASH_SINGLE,
    PrecomputedTxData,
    SigVersion,
    signature_hash,
    signature_hash_legacy,
    signature_hash_witness_v0,
)
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut

__all__ = [
    "SIGHASH_ALL",
    "SIGHASH_ANYONECANPAY",
    "SIGHASH_NONE",
    "SIGHASH_SINGLE",
    "BlockResult",
    "BlockValidationError",
    "ChainError",
    "ChainMisuse",
    "OutPoint",
    "PrecomputedTxData",
    "ScriptFlags",
    "SerializationError",
    "SigVersion",
    "Tx",
    "TxIn",
    "TxOut",
    "TxResult",
    "TxValidationError",
    "ValidationError",
    "signature_hash",
    "signature_hash_legacy",
    "signature_hash_witness_v0",
]
