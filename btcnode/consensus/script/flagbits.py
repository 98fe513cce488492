"""The ScriptFlags bits as plain ints, for the per-op and per-input hot paths.

`int & ScriptFlags.X` runs the enum module's Python code (about 2 µs); a plain int mask is a
single machine operation. Entry points convert their `flags` argument with `int()` once.
"""

from __future__ import annotations

from btcnode.consensus.script.flags import ScriptFlags

P2SH = int(ScriptFlags.P2SH)
STRICTENC = int(ScriptFlags.STRICTENC)
DERSIG = int(ScriptFlags.DERSIG)
LOW_S = int(ScriptFlags.LOW_S)
NULLDUMMY = int(ScriptFlags.NULLDUMMY)
SIGPUSHONLY = int(ScriptFlags.SIGPUSHONLY)
MINIMALDATA = int(ScriptFlags.MINIMALDATA)
DISCOURAGE_UPGRADABLE_NOPS = int(ScriptFlags.DISCOURAGE_UPGRADABLE_NOPS)
CLEANSTACK = int(ScriptFlags.CLEANSTACK)
CHECKLOCKTIMEVERIFY = int(ScriptFlags.CHECKLOCKTIMEVERIFY)
CHECKSEQUENCEVERIFY = int(ScriptFlags.CHECKSEQUENCEVERIFY)
WITNESS = int(ScriptFlags.WITNESS)
DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = int(ScriptFlags.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM)
MINIMALIF = int(ScriptFlags.MINIMALIF)
NULLFAIL = int(ScriptFlags.NULLFAIL)
WITNESS_PUBKEYTYPE = int(ScriptFlags.WITNESS_PUBKEYTYPE)
CONST_SCRIPTCODE = int(ScriptFlags.CONST_SCRIPTCODE)
TAPROOT = int(ScriptFlags.TAPROOT)

STRICT_DER = DERSIG | LOW_S | STRICTENC  # any of these requires BIP66 encoding
KNOWN = sum(int(flag) for flag in ScriptFlags)
