"""The script system: opcodes, parsing, flags, sigop counting and the interpreter.

`verify_input` (per input, with template fast paths) and `verify_script` (the
libbitcoinconsensus shape) are the entry points; `eval_script` runs one script.
"""

from btcnode.consensus.script.asm import AsmParseError, parse_asm
from btcnode.consensus.script.checker import TransactionSignatureChecker
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.flags import MANDATORY_FLAGS, STANDARD_FLAGS, ScriptFlags
from btcnode.consensus.script.interpreter import SignatureChecker, eval_script
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.verify import (
    STANDARD_NOT_MANDATORY_FLAGS,
    check_flags,
    verify_input,
    verify_input_policy,
    verify_script,
    verify_script_sig,
)

__all__ = [
    "MANDATORY_FLAGS",
    "STANDARD_FLAGS",
    "STANDARD_NOT_MANDATORY_FLAGS",
    "AsmParseError",
    "Op",
    "ScriptErr",
    "ScriptError",
    "ScriptFlags",
    "SignatureChecker",
    "TransactionSignatureChecker",
    "check_flags",
    "eval_script",
    "parse_asm",
    "verify_input",
    "verify_input_policy",
    "verify_script",
    "verify_script_sig",
]
