"""Verifying that an input may spend an output: Core's VerifyScript and its entry points.

`verify_script_sig` is Core's VerifyScript: the scriptSig, then the scriptPubKey on the same
stack, then P2SH (BIP16) and witness programs (BIP141 version 0: P2WPKH and P2WSH, bare or
P2SH-wrapped), CLEANSTACK and unexpected witnesses. It always runs the full interpreter.

`verify_input` is what the chainstate and the mempool call per input. It recognises the
P2PKH and P2WPKH templates and checks them without the interpreter loop, with exactly the
interpreter's results and errors (a test compares both on valid and broken spends);
anything else goes to `verify_script_sig`. `verify_input_policy` adds Core's mempool
classification: a failure that goes away without the policy-only flags is
"non-mandatory-script-verify-flag", anything else "mandatory-script-verify-flag-failed".

Taproot (BIP341/342) is not implemented. Witness programs of version 1 and above are
"unknown versions": valid, or DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM under policy, as a node
from before Taproot saw them; the pay-to-anchor output (version 1, program 4e73) is valid as
in Core. Passing the TAPROOT flag is a ChainMisuse.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.consensus.errors import ChainMisuse, SerializationError
from btcnode.consensus.hashes import hash160, sha256
from btcnode.consensus.script import flagbits as F
from btcnode.consensus.script._state import MAX_SCRIPT_ELEMENT_SIZE
from btcnode.consensus.script.checker import TransactionSignatureChecker
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.flags import MANDATORY_FLAGS, STANDARD_FLAGS
from btcnode.consensus.script.interpreter import SignatureChecker, eval_script
from btcnode.consensus.script.num import cast_to_bool
from btcnode.consensus.script.ops import (
    is_p2sh,
    is_push_only,
    p2pkh_script,
    push_data,
    witness_program,
)
from btcnode.consensus.script.signature import (
    check_pubkey_encoding,
    check_signature_encoding,
    verify_ecdsa,
)
from btcnode.consensus.sighash import (
    PrecomputedTxData,
    SigVersion,
    legacy_digest,
    signature_hash_witness_v0,
)
from btcnode.consensus.tx import Tx, TxOut

WITNESS_V0_KEYHASH_SIZE = 20  # BIP141 P2WPKH program
WITNESS_V0_SCRIPTHASH_SIZE = 32  # BIP141 P2WSH program
PAY_TO_ANCHOR_PROGRAM = b"\x4e\x73"  # Core's IsPayToAnchor: witness v1, not P2SH-wrapped

# Flags whose failure the mempool reports as non-mandatory (Core's
# STANDARD_NOT_MANDATORY_VERIFY_FLAGS).
STANDARD_NOT_MANDATORY_FLAGS = int(STANDARD_FLAGS & ~MANDATORY_FLAGS)


def check_flags(flags: int) -> None:
    """Refuse flag sets the interpreter cannot honour (Core asserts on the combinations)."""
    if flags & ~F.KNOWN or flags < 0:
        raise ChainMisuse(f"unknown script verification flags {flags & ~F.KNOWN:#x}")
    if flags & F.TAPROOT:
        raise ChainMisuse("Taproot (BIP341/342) is not supported: do not pass ScriptFlags.TAPROOT")
    if flags & F.WITNESS and not flags & F.P2SH:
        raise ChainMisuse("ScriptFlags.WITNESS requires ScriptFlags.P2SH")
    if flags & F.CLEANSTACK and not (flags & F.P2SH and flags & F.WITNESS):
        raise ChainMisuse("ScriptFlags.CLEANSTACK requires ScriptFlags.P2SH and WITNESS")


# -- Core's VerifyScript ---------------------------------------------------------------------


def _require_true(stack: list[bytes]) -> None:
    if not stack:
        raise ScriptError(ScriptErr.EVAL_FALSE, debug="empty stack")
    if not cast_to_bool(stack[-1]):
        raise ScriptError(ScriptErr.EVAL_FALSE, debug=f"top of stack {stack[-1].hex()}")


def execute_witness_script(
    stack: list[bytes], script: bytes, flags: int, checker: SignatureChecker
) -> None:
    """Core's ExecuteWitnessScript for witness v0: element size, run, implicit clean stack."""
    for item in stack:
        if len(item) > MAX_SCRIPT_ELEMENT_SIZE:
            raise ScriptError(ScriptErr.PUSH_SIZE, debug=f"witness item of {len(item)} bytes")
    eval_script(stack, script, flags, checker, SigVersion.WITNESS_V0)
    if len(stack) != 1:
        raise ScriptError(ScriptErr.CLEANSTACK, debug=f"{len(stack)} items left")
    _require_true(stack)


def verify_witness_program(
    witness: Sequence[bytes],
    version: int,
    program: bytes,
    flags: int,
    checker: SignatureChecker,
    *,
    is_p2sh: bool,
) -> None:
    """Core's VerifyWitnessProgram without Taproot (BIP141)."""
    stack = list(witness)
    if version == 0:
        if len(program) == WITNESS_V0_SCRIPTHASH_SIZE:
            if not stack:
                raise ScriptError(ScriptErr.WITNESS_PROGRAM_WITNESS_EMPTY)
            script = stack.pop()
            if sha256(script) != program:
                raise ScriptError(ScriptErr.WITNESS_PROGRAM_MISMATCH, debug="witness script")
            return execute_witness_script(stack, script, flags, checker)
        if len(program) == WITNESS_V0_KEYHASH_SIZE:
            if len(stack) != 2:
                raise ScriptError(
                    ScriptErr.WITNESS_PROGRAM_MISMATCH, debug=f"{len(stack)} witness items"
                )
            return execute_witness_script(stack, p2pkh_script(program), flags, checker)
        raise ScriptError(
            ScriptErr.WITNESS_PROGRAM_WRONG_LENGTH, debug=f"{len(program)}-byte program"
        )
    if version == 1 and not is_p2sh and program == PAY_TO_ANCHOR_PROGRAM:
        return None
    if flags & F.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM:
        raise ScriptError(
            ScriptErr.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM, debug=f"witness version {version}"
        )
    return None  # unknown versions are anyone-can-spend until a soft fork defines them


def verify_script_sig(
    script_sig: bytes,
    script_pubkey: bytes,
    witness: Sequence[bytes],
    flags: int,
    checker: SignatureChecker,
) -> None:
    """Core's VerifyScript: raises ScriptError unless `script_sig` (and `witness`) unlock."""
    flags = int(flags)
    if flags & F.SIGPUSHONLY and not is_push_only(script_sig):
        raise ScriptError(ScriptErr.SIG_PUSHONLY)
    # CVE-2010-5141: evaluated one after the other on one stack, never concatenated.
    stack: list[bytes] = []
    eval_script(stack, script_sig, flags, checker, SigVersion.BASE)
    stack_copy = list(stack) if flags & F.P2SH else []
    eval_script(stack, script_pubkey, flags, checker, SigVersion.BASE)
    _require_true(stack)
    had_witness = False
    program = witness_program(script_pubkey) if flags & F.WITNESS else None
    if program is not None:
        had_witness = True
        if script_sig:
            raise ScriptError(ScriptErr.WITNESS_MALLEATED)  # must be exactly empty
        verify_witness_program(witness, *program, flags, checker, is_p2sh=False)
        stack = stack[:1]  # a witness program leaves no clean stack to check
    if flags & F.P2SH and is_p2sh(script_pubkey):
        had_witness, stack = _verify_p2sh(script_sig, stack_copy, witness, flags, checker)
    if flags & F.CLEANSTACK and len(stack) != 1:
        raise ScriptError(ScriptErr.CLEANSTACK, debug=f"{len(stack)} items left")
    if flags & F.WITNESS and not had_witness and witness:
        raise ScriptError(ScriptErr.WITNESS_UNEXPECTED)


def _verify_p2sh(
    script_sig: bytes,
    stack: list[bytes],
    witness: Sequence[bytes],
    flags: int,
    checker: SignatureChecker,
) -> tuple[bool, list[bytes]]:
    """BIP16: run the redeem script (the scriptSig's last push) on the rest of its stack."""
    if not is_push_only(script_sig):
        raise ScriptError(ScriptErr.SIG_PUSHONLY, debug="P2SH scriptSig")
    # Not empty: HASH160 <hash> EQUAL succeeded on this stack.
    redeem_script = stack.pop()
    eval_script(stack, redeem_script, flags, checker, SigVersion.BASE)
    _require_true(stack)
    program = witness_program(redeem_script) if flags & F.WITNESS else None
    if program is None:
        return False, stack
    if script_sig != push_data(redeem_script):
        raise ScriptError(ScriptErr.WITNESS_MALLEATED_P2SH)  # exactly one push of the script
    verify_witness_program(witness, *program, flags, checker, is_p2sh=True)
    return True, stack[:1]


# -- template fast paths ----------------------------------------------------------------------


def _p2pkh_parts(script_sig: bytes) -> tuple[bytes, bytes] | None:
    """(sig, pubkey) when the scriptSig is two direct pushes the fast path can take."""
    if len(script_sig) < 2:
        return None
    sig_len = script_sig[0]
    if not 9 <= sig_len <= 73 or sig_len == 20 or len(script_sig) < sig_len + 2:
        # 20 bytes could equal the key hash push, which FindAndDelete would remove.
        return None
    key_len = script_sig[sig_len + 1]
    if key_len not in (33, 65) or len(script_sig) != sig_len + 2 + key_len:
        return None
    return script_sig[1 : sig_len + 1], script_sig[sig_len + 2 :]


def _finish_checksig(ok: bool, sig: bytes, flags: int) -> None:
    if not ok:
        if sig and flags & F.NULLFAIL:
            raise ScriptError(ScriptErr.NULLFAIL, debug=f"signature {sig.hex()}")
        raise ScriptError(ScriptErr.EVAL_FALSE, debug="signature does not verify")


def _verify_p2pkh(
    tx: Tx, n_in: int, parts: tuple[bytes, bytes], script_pubkey: bytes, flags: int,
    txdata: PrecomputedTxData,
) -> None:  # fmt: skip
    """P2PKH with a two-push scriptSig, as the interpreter would run it."""
    sig, pubkey = parts
    if hash160(pubkey) != script_pubkey[3:23]:
        raise ScriptError(ScriptErr.EQUALVERIFY, debug="public key hash")
    check_signature_encoding(sig, flags)
    check_pubkey_encoding(pubkey, flags, False)
    digest = legacy_digest(b"\x19" + script_pubkey, tx, n_in, sig[-1], txdata)
    _finish_checksig(verify_ecdsa(sig[:-1], pubkey, digest), sig, flags)
    if flags & F.WITNESS and tx.vin[n_in].witness:
        raise ScriptError(ScriptErr.WITNESS_UNEXPECTED)


def _verify_p2wpkh(
    tx: Tx, n_in: int, program: bytes, amount: int, flags: int, txdata: PrecomputedTxData
) -> None:
    """A bare P2WPKH spend (empty scriptSig), as the interpreter would run it."""
    if not cast_to_bool(program):
        raise ScriptError(ScriptErr.EVAL_FALSE, debug="all-zero witness program")
    witness = tx.vin[n_in].witness
    if len(witness) != 2:
        raise ScriptError(ScriptErr.WITNESS_PROGRAM_MISMATCH, debug=f"{len(witness)} items")
    sig, pubkey = witness
    if len(sig) > MAX_SCRIPT_ELEMENT_SIZE or len(pubkey) > MAX_SCRIPT_ELEMENT_SIZE:
        raise ScriptError(ScriptErr.PUSH_SIZE, debug="witness item over 520 bytes")
    if hash160(pubkey) != program:
        raise ScriptError(ScriptErr.EQUALVERIFY, debug="public key hash")
    check_signature_encoding(sig, flags)
    check_pubkey_encoding(pubkey, flags, True)
    ok = False
    if sig:
        script_code = p2pkh_script(program)  # BIP143: the P2WPKH scriptCode
        digest = signature_hash_witness_v0(script_code, tx, n_in, amount, sig[-1], txdata)
        ok = verify_ecdsa(sig[:-1], pubkey, digest)
    _finish_checksig(ok, sig, flags)


def _verify_spend(tx: Tx, n_in: int, spent: TxOut, flags: int, txdata: PrecomputedTxData) -> None:
    txin = tx.vin[n_in]
    script_pubkey = spent.script_pubkey
    if (
        len(script_pubkey) == 25
        and script_pubkey[:3] == b"\x76\xa9\x14"
        and (script_pubkey[23:] == b"\x88\xac")
    ):
        parts = _p2pkh_parts(txin.script_sig)
        if parts is not None:
            return _verify_p2pkh(tx, n_in, parts, script_pubkey, flags, txdata)
    elif (
        len(script_pubkey) == 22
        and script_pubkey[:2] == b"\x00\x14"
        and flags & F.WITNESS
        and not txin.script_sig
    ):
        return _verify_p2wpkh(tx, n_in, script_pubkey[2:], spent.value, flags, txdata)
    checker = TransactionSignatureChecker(tx, n_in, spent.value, txdata)
    return verify_script_sig(txin.script_sig, script_pubkey, txin.witness, flags, checker)


# -- entry points -----------------------------------------------------------------------------


def verify_input(
    tx: Tx,
    n_in: int,
    spent_outputs: Sequence[TxOut],
    flags: int,
    txdata: PrecomputedTxData | None = None,
) -> None:
    """Check input `n_in` of `tx` against the output it spends (`spent_outputs[n_in]`).

    `spent_outputs` has one entry per input. Pass one `PrecomputedTxData(tx)` for all inputs
    of a transaction. Raises ScriptError (with `input_index`) on failure, ChainMisuse on a
    bad call.
    """
    if not 0 <= n_in < len(tx.vin):
        raise ChainMisuse(f"input index {n_in} out of range for {len(tx.vin)} inputs")
    if len(spent_outputs) != len(tx.vin):
        raise ChainMisuse(f"{len(spent_outputs)} spent outputs for {len(tx.vin)} inputs")
    flags = int(flags)
    check_flags(flags)
    if txdata is None:
        txdata = PrecomputedTxData(tx, spent_outputs)
    elif txdata.tx is not tx:
        raise ChainMisuse("txdata was precomputed for another transaction")
    try:
        _verify_spend(tx, n_in, spent_outputs[n_in], flags, txdata)
    except ScriptError as err:
        raise err.with_context(input_index=n_in) from None


def verify_input_policy(
    tx: Tx,
    n_in: int,
    spent_outputs: Sequence[TxOut],
    flags: int,
    txdata: PrecomputedTxData | None = None,
) -> None:
    """`verify_input` with Core's mempool classification of failures (CheckInputScripts).

    When the input fails under `flags` but passes without the policy-only flags, the
    ScriptError is non-mandatory (TxResult.NOT_STANDARD); otherwise it stays mandatory.
    Either way it names the error of the check under `flags`.
    """
    flags = int(flags)
    try:
        verify_input(tx, n_in, spent_outputs, flags, txdata)
    except ScriptError as err:
        if flags & STANDARD_NOT_MANDATORY_FLAGS:
            try:
                verify_input(tx, n_in, spent_outputs, flags & ~STANDARD_NOT_MANDATORY_FLAGS, txdata)
            except ScriptError:
                raise err from None
            raise err.with_context(mandatory=False) from None
        raise


def verify_script(script_pubkey: bytes, amount: int, tx_to: bytes, n_in: int, flags: int) -> None:
    """libbitcoinconsensus's bitcoinconsensus_verify_script_with_amount, raising on failure.

    `tx_to` is the serialized spending transaction. ScriptError names Core's script error;
    ChainMisuse reports what libbitcoinconsensus reported as its own errors (undecodable
    transaction, input index out of range, invalid flags) and the TAPROOT flag.
    """
    try:
        tx = Tx.deserialize(tx_to)
    except SerializationError as err:
        raise ChainMisuse(f"tx_to does not decode: {err.debug}") from err
    if not 0 <= n_in < len(tx.vin):
        raise ChainMisuse(f"input index {n_in} out of range for {len(tx.vin)} inputs")
    flags = int(flags)
    check_flags(flags)
    try:
        _verify_spend(tx, n_in, TxOut(amount, script_pubkey), flags, PrecomputedTxData(tx))
    except ScriptError as err:
        raise err.with_context(input_index=n_in) from None
