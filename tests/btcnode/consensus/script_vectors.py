"""Shared helpers for Core's script and transaction vectors: flags, asm, test transactions."""

from __future__ import annotations

from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut

# Every flag this node verifies with; the Taproot ones are not implemented.
TAPROOT_FLAGS = (
    ScriptFlags.TAPROOT
    | ScriptFlags.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION
    | ScriptFlags.DISCOURAGE_OP_SUCCESS
    | ScriptFlags.DISCOURAGE_UPGRADABLE_PUBKEYTYPE
)
ALL_FLAGS = 0
for _flag in ScriptFlags:
    ALL_FLAGS |= _flag
ALL_FLAGS &= ~TAPROOT_FLAGS

TAPROOT_PLACEHOLDERS = ("#SCRIPT#", "#CONTROLBLOCK#", "#TAPROOTOUTPUT#")


def parse_flags(text: str) -> int:
    """Core's ParseScriptFlags: comma-separated names; "" and "NONE" are no flags."""
    if text in ("", "NONE"):
        return 0
    flags = 0
    for name in text.split(","):
        flags |= ScriptFlags[name]
    return flags


def trim_flags(flags: int) -> int:
    """Core's TrimFlags: WITNESS needs P2SH, CLEANSTACK needs WITNESS."""
    if not flags & ScriptFlags.P2SH:
        flags &= ~ScriptFlags.WITNESS
    if not flags & ScriptFlags.WITNESS:
        flags &= ~ScriptFlags.CLEANSTACK
    return flags


def fill_flags(flags: int) -> int:
    """Core's FillFlags: CLEANSTACK implies WITNESS, WITNESS implies P2SH."""
    if flags & ScriptFlags.CLEANSTACK:
        flags |= ScriptFlags.WITNESS
    if flags & ScriptFlags.WITNESS:
        flags |= ScriptFlags.P2SH
    return flags


def is_valid_combination(flags: int) -> bool:
    if flags & ScriptFlags.CLEANSTACK and ~flags & (ScriptFlags.P2SH | ScriptFlags.WITNESS):
        return False
    return not (flags & ScriptFlags.WITNESS and not flags & ScriptFlags.P2SH)


def crediting_tx(script_pubkey: bytes, amount: int) -> Tx:
    """Core's BuildCreditingTransaction."""
    txin = TxIn(OutPoint(bytes(32), 0xFFFFFFFF), b"\x00\x00")
    return Tx(1, (txin,), (TxOut(amount, script_pubkey),), 0)


def spending_tx(script_sig: bytes, witness: tuple[bytes, ...], credit: Tx) -> Tx:
    """Core's BuildSpendingTransaction."""
    txin = TxIn(OutPoint(credit.txid, 0), script_sig, 0xFFFFFFFF, witness)
    return Tx(1, (txin,), (TxOut(credit.vout[0].value, b""),), 0)
