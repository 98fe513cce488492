"""Script failures with Bitcoin Core's names and messages (script_error.h / script_error.cpp).

`ScriptErr` member names are the names Core's script tests print (`EVAL_FALSE`, `NULLFAIL`,
`SIG_DER`, ...) and their values Core's human messages. `ScriptError` is the exception a
failed script check raises: a `ValidationError` whose reject reason is the one Core's
CheckInputScripts gives, `mandatory-script-verify-flag-failed (<message>)` when the failure
breaks a consensus rule and `non-mandatory-script-verify-flag (<message>)` when only a policy
flag was broken.
"""

from __future__ import annotations

import enum

from btcnode.consensus.errors import TxResult, ValidationError


class ScriptErr(enum.Enum):
    """Why a script failed; the value is Core's ScriptErrorString message."""

    OK = "No error"
    EVAL_FALSE = "Script evaluated without error but finished with a false/empty top stack element"
    OP_RETURN = "OP_RETURN was encountered"
    # Max sizes
    SCRIPT_SIZE = "Script is too big"
    PUSH_SIZE = "Push value size limit exceeded"
    OP_COUNT = "Operation limit exceeded"
    STACK_SIZE = "Stack size limit exceeded"
    SIG_COUNT = "Signature count negative or greater than pubkey count"
    PUBKEY_COUNT = "Pubkey count negative or limit exceeded"
    # Failed verify operations
    VERIFY = "Script failed an OP_VERIFY operation"
    EQUALVERIFY = "Script failed an OP_EQUALVERIFY operation"
    CHECKMULTISIGVERIFY = "Script failed an OP_CHECKMULTISIGVERIFY operation"
    CHECKSIGVERIFY = "Script failed an OP_CHECKSIGVERIFY operation"
    NUMEQUALVERIFY = "Script failed an OP_NUMEQUALVERIFY operation"
    # Logical/format/canonical errors
    BAD_OPCODE = "Opcode missing or not understood"
    DISABLED_OPCODE = "Attempted to use a disabled opcode"
    INVALID_STACK_OPERATION = "Operation not valid with the current stack size"
    INVALID_ALTSTACK_OPERATION = "Operation not valid with the current altstack size"
    UNBALANCED_CONDITIONAL = "Invalid OP_IF construction"
    # CHECKLOCKTIMEVERIFY and CHECKSEQUENCEVERIFY
    NEGATIVE_LOCKTIME = "Negative locktime"
    UNSATISFIED_LOCKTIME = "Locktime requirement not satisfied"
    # Malleability
    SIG_HASHTYPE = "Signature hash type missing or not understood"
    SIG_DER = "Non-canonical DER signature"
    MINIMALDATA = "Data push larger than necessary"
    SIG_PUSHONLY = "Only push operators allowed in signatures"
    SIG_HIGH_S = "Non-canonical signature: S value is unnecessarily high"
    SIG_NULLDUMMY = "Dummy CHECKMULTISIG argument must be zero"
    PUBKEYTYPE = "Public key is neither compressed or uncompressed"
    CLEANSTACK = "Stack size must be exactly one after execution"
    MINIMALIF = "OP_IF/NOTIF argument must be minimal"
    NULLFAIL = "Signature must be zero for failed CHECK(MULTI)SIG operation"
    # Softfork safeness
    DISCOURAGE_UPGRADABLE_NOPS = "NOPx reserved for soft-fork upgrades"
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = "Witness version reserved for soft-fork upgrades"
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = "Taproot version reserved for soft-fork upgrades"
    DISCOURAGE_OP_SUCCESS = "OP_SUCCESSx reserved for soft-fork upgrades"
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = "Public key version reserved for soft-fork upgrades"
    # Segregated witness
    WITNESS_PROGRAM_WRONG_LENGTH = "Witness program has incorrect length"
    WITNESS_PROGRAM_WITNESS_EMPTY = "Witness program was passed an empty witness"
    WITNESS_PROGRAM_MISMATCH = "Witness program hash mismatch"
    WITNESS_MALLEATED = "Witness requires empty scriptSig"
    WITNESS_MALLEATED_P2SH = "Witness requires only-redeemscript scriptSig"
    WITNESS_UNEXPECTED = "Witness provided for non-witness script"
    WITNESS_PUBKEYTYPE = "Using non-compressed keys in segwit"
    # Taproot (named for completeness; this node does not run Taproot)
    SCHNORR_SIG_SIZE = "Invalid Schnorr signature size"
    SCHNORR_SIG_HASHTYPE = "Invalid Schnorr signature hash type"
    SCHNORR_SIG = "Invalid Schnorr signature"
    TAPROOT_WRONG_CONTROL_SIZE = "Invalid Taproot control block size"
    TAPSCRIPT_VALIDATION_WEIGHT = "Too much signature validation relative to witness weight"
    TAPSCRIPT_CHECKMULTISIG = "OP_CHECKMULTISIG(VERIFY) is not available in tapscript"
    TAPSCRIPT_MINIMALIF = "OP_IF/NOTIF argument must be minimal in tapscript"
    TAPSCRIPT_EMPTY_PUBKEY = "Empty public key in tapscript"
    # Constant scriptCode
    OP_CODESEPARATOR = "Using OP_CODESEPARATOR in non-witness script"
    SIG_FINDANDDELETE = "Signature is found in scriptCode"
    # CScriptNum: an operand longer than allowed or not minimally encoded
    SCRIPTNUM = "Script number overflow or non-minimal encoding"
    UNKNOWN_ERROR = "unknown error"

    @property
    def message(self) -> str:
        return str(self.value)


MANDATORY_REASON = "mandatory-script-verify-flag-failed"
NON_MANDATORY_REASON = "non-mandatory-script-verify-flag"


class ScriptError(ValidationError):
    """A script check failed: `error` says why, `input_index` which input (when known).

    `mandatory` is False only when the failure was shown to come from a policy flag alone
    (the input passes with the consensus flags); the reject reason and the result category
    (CONSENSUS or NOT_STANDARD) follow from it, as in Core's CheckInputScripts.
    """

    def __init__(
        self,
        error: ScriptErr,
        *,
        input_index: int | None = None,
        mandatory: bool = True,
        debug: str = "",
    ) -> None:
        prefix = MANDATORY_REASON if mandatory else NON_MANDATORY_REASON
        where = f"input {input_index}" if input_index is not None else ""
        detail = "; ".join(part for part in (where, debug) if part)
        super().__init__(
            f"{prefix} ({error.message})",
            detail,
            result=TxResult.CONSENSUS if mandatory else TxResult.NOT_STANDARD,
        )
        self.error = error
        self.input_index = input_index
        self.mandatory = mandatory
        self.evidence = debug  # what failed, without the input index

    def with_context(
        self, *, input_index: int | None = None, mandatory: bool | None = None
    ) -> ScriptError:
        """The same failure with the input index and/or mandatory classification filled in."""
        return ScriptError(
            self.error,
            input_index=self.input_index if input_index is None else input_index,
            mandatory=self.mandatory if mandatory is None else mandatory,
            debug=self.evidence,
        )

    def __reduce__(self) -> tuple[object, tuple[str, int | None, bool, str]]:
        """Picklable (for process pools) despite the keyword-only constructor."""
        return _rebuild, (self.error.name, self.input_index, self.mandatory, self.evidence)

    def __repr__(self) -> str:
        return (
            f"ScriptError(ScriptErr.{self.error.name}, input_index={self.input_index!r}, "
            f"mandatory={self.mandatory!r}, debug={self.evidence!r})"
        )


def _rebuild(name: str, input_index: int | None, mandatory: bool, evidence: str) -> ScriptError:
    return ScriptError(
        ScriptErr[name], input_index=input_index, mandatory=mandatory, debug=evidence
    )
