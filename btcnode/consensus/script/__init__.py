"""The script system: opcodes, parsing, flags, sigop counting and the interpreter."""

from btcnode.consensus.script.flags import MANDATORY_FLAGS, STANDARD_FLAGS, ScriptFlags
from btcnode.consensus.script.opcodes import Op

__all__ = ["MANDATORY_FLAGS", "STANDARD_FLAGS", "Op", "ScriptFlags"]
