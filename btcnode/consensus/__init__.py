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
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.flags import MANDATORY_FLAGS, STANDARD_FLAGS, ScriptFlags
from btcnode.consensus.script.verify import (
    verify_input,
    verify_input_policy,
    verify_script,
)
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
    "MANDATORY_FLAGS",
    "SIGHASH_ALL",
    "SIGHASH_ANYONECANPAY",
    "SIGHASH_NONE",
    "SIGHASH_SINGLE",
    "STANDARD_FLAGS",
    "BlockResult",
    "BlockValidationError",
    "ChainError",
    "ChainMisuse",
    "OutPoint",
    "PrecomputedTxData",
    "ScriptErr",
    "ScriptError",
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
    "verify_input",
    "verify_input_policy",
    "verify_script",
]
