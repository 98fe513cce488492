"""Input script checks for the mempool (Core's PolicyScriptChecks and CheckInputScripts).

Every input is verified with the standard flags; the first failure is classified as Core
29 does (PR #31097): if the input passes with only the consensus flags, the failure is
"non-mandatory-script-verify-flag (<error under the standard flags>)" (NOT_STANDARD);
otherwise "mandatory-script-verify-flag-failed (<error under the consensus flags>)"
(CONSENSUS), so a consensus failure is never reported with a policy flag's message. A
transaction without witnesses that fails only because witnesses are missing is marked
WITNESS_STRIPPED: its witnessed twin may be valid.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.consensus.errors import TxResult
from btcnode.consensus.script.errors import ScriptError
from btcnode.consensus.script.flags import MANDATORY_FLAGS, ScriptFlags
from btcnode.consensus.script.verify import verify_input
from btcnode.consensus.sighash import PrecomputedTxData
from btcnode.consensus.tx import Tx, TxOut


def _first_failure(
    tx: Tx, spent: Sequence[TxOut], flags: int, txdata: PrecomputedTxData
) -> ScriptError | None:
    for n_in in range(len(tx.vin)):
        try:
            verify_input(tx, n_in, spent, flags, txdata)
        except ScriptError as err:
            return err
    return None


def _classify(
    tx: Tx, spent: Sequence[TxOut], flags: int, txdata: PrecomputedTxData, err: ScriptError
) -> ScriptError:
    n_in = err.input_index if err.input_index is not None else 0
    if flags & ~MANDATORY_FLAGS:
        try:
            verify_input(tx, n_in, spent, flags & MANDATORY_FLAGS, txdata)
        except ScriptError as mandatory_err:
            return mandatory_err.with_context(mandatory=True)
        return err.with_context(mandatory=False)
    return err.with_context(mandatory=True)


def check_input_scripts(tx: Tx, spent: Sequence[TxOut], flags: int) -> None:
    """Raise the classified ScriptError of the first input failing under `flags`."""
    txdata = PrecomputedTxData(tx, spent)
    err = _first_failure(tx, spent, flags, txdata)
    if err is None:
        return
    classified = _classify(tx, spent, flags, txdata, err)
    if not tx.has_witness() and _only_witness_missing(tx, spent, flags, txdata):
        classified.result = TxResult.WITNESS_STRIPPED
    raise classified


def _only_witness_missing(
    tx: Tx, spent: Sequence[TxOut], flags: int, txdata: PrecomputedTxData
) -> bool:
    """Core: passes without WITNESS and CLEANSTACK, fails with WITNESS alone."""
    without_witness = flags & ~(ScriptFlags.WITNESS | ScriptFlags.CLEANSTACK)
    without_cleanstack = flags & ~ScriptFlags.CLEANSTACK
    return (
        _first_failure(tx, spent, without_witness, txdata) is None
        and _first_failure(tx, spent, without_cleanstack, txdata) is not None
    )
