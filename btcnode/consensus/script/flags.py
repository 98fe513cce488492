"""Script verification flags, with Bitcoin Core's SCRIPT_VERIFY_* bit values.

The values are part of the public interface (`verify_script(..., flags)` takes the same
integers as libbitcoinconsensus), so they must never be renumbered.
"""

from __future__ import annotations

import enum


class ScriptFlags(enum.IntFlag):
    NONE = 0
    P2SH = 1 << 0  # BIP16
    STRICTENC = 1 << 1
    DERSIG = 1 << 2  # BIP66
    LOW_S = 1 << 3
    NULLDUMMY = 1 << 4  # BIP147
    SIGPUSHONLY = 1 << 5
    MINIMALDATA = 1 << 6
    DISCOURAGE_UPGRADABLE_NOPS = 1 << 7
    CLEANSTACK = 1 << 8
    CHECKLOCKTIMEVERIFY = 1 << 9  # BIP65
    CHECKSEQUENCEVERIFY = 1 << 10  # BIP112
    WITNESS = 1 << 11  # BIP141
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 1 << 12
    MINIMALIF = 1 << 13
    NULLFAIL = 1 << 14
    WITNESS_PUBKEYTYPE = 1 << 15
    CONST_SCRIPTCODE = 1 << 16
    TAPROOT = 1 << 17  # BIP341/342: not implemented, refused by verify_script
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 1 << 18
    DISCOURAGE_OP_SUCCESS = 1 << 19
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 1 << 20


# The flags a block connected after every soft fork of regtest is checked with
# (Core's GetBlockScriptFlags without Taproot, which this node does not implement).
MANDATORY_FLAGS = (
    ScriptFlags.P2SH
    | ScriptFlags.DERSIG
    | ScriptFlags.NULLDUMMY
    | ScriptFlags.CHECKLOCKTIMEVERIFY
    | ScriptFlags.CHECKSEQUENCEVERIFY
    | ScriptFlags.WITNESS
)

# Core's STANDARD_SCRIPT_VERIFY_FLAGS without the Taproot ones: what the mempool checks.
STANDARD_FLAGS = (
    MANDATORY_FLAGS
    | ScriptFlags.STRICTENC
    | ScriptFlags.MINIMALDATA
    | ScriptFlags.DISCOURAGE_UPGRADABLE_NOPS
    | ScriptFlags.CLEANSTACK
    | ScriptFlags.MINIMALIF
    | ScriptFlags.NULLFAIL
    | ScriptFlags.LOW_S
    | ScriptFlags.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM
    | ScriptFlags.WITNESS_PUBKEYTYPE
    | ScriptFlags.CONST_SCRIPTCODE
)
