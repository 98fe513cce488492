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
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut

__all__ = [
    "BlockResult",
    "BlockValidationError",
    "ChainError",
    "ChainMisuse",
    "OutPoint",
    "ScriptFlags",
    "SerializationError",
    "Tx",
    "TxIn",
    "TxOut",
    "TxResult",
    "TxValidationError",
    "ValidationError",
]
