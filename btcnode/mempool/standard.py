"""Standardness: which transactions this node relays (Core's policy/policy.cpp).

`check_standard_tx` is IsStandardTx and raises with Core's reason ("version", "tx-size",
"scriptsig-size", "scriptsig-not-pushonly", "scriptpubkey", "bare-multisig", "dust",
"multi-op-return"). `are_inputs_standard` and `is_witness_standard` need the outputs being
spent, one per input, and answer a bool as Core does; the caller turns False into
"bad-txns-nonstandard-inputs" / "bad-witness-nonstandard". None of this is consensus: a
block may contain transactions that fail every check here.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.consensus.errors import TxResult, TxValidationError
from btcnode.consensus.script.interpreter import MAX_SCRIPT_ELEMENT_SIZE, MAX_STACK_SIZE
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import (
    MAX_SCRIPT_SIZE,
    ScriptParseError,
    is_p2sh,
    is_push_only,
    is_unspendable,
    iter_ops,
    witness_program,
)
from btcnode.consensus.script.sigops import script_sigop_count
from btcnode.consensus.serialize import ser_compact_size
from btcnode.consensus.tx import WITNESS_SCALE_FACTOR, Tx, TxOut
from btcnode.mempool._solver import P2A_SCRIPT, TxoutType, solve
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.policy import (
    MAX_P2SH_SIGOPS,
    MAX_STANDARD_SCRIPTSIG_SIZE,
    MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE,
    MAX_STANDARD_VERSION,
    MempoolPolicy,
)

MAX_MULTISIG_KEYS_STANDARD = 3  # Core: bare multisig is standard up to x-of-3
ANNEX_TAG = 0x50  # BIP341
TAPROOT_LEAF_MASK = 0xFE
TAPROOT_LEAF_TAPSCRIPT = 0xC0
# Core's GetDustThreshold: the bytes of an input spending the output (outpoint 36, script
# length 1, sequence 4) plus its scriptSig: 107 bytes for a P2PKH signature and key, or the
# same as witness data, discounted by the witness scale factor.
_DUST_INPUT_BYTES = 32 + 4 + 1 + 107 + 4
_DUST_WITNESS_INPUT_BYTES = 32 + 4 + 1 + 107 // WITNESS_SCALE_FACTOR + 4


def _reject(reason: str, debug: str = "") -> TxValidationError:
    return TxValidationError(reason, debug, result=TxResult.NOT_STANDARD)


def virtual_size(weight: int, sigop_cost: int, bytes_per_sigop: int) -> int:
    """Core's GetVirtualTransactionSize: weight, or sigops priced as bytes, in vbytes."""
    adjusted = max(weight, sigop_cost * bytes_per_sigop)
    return (adjusted + WITNESS_SCALE_FACTOR - 1) // WITNESS_SCALE_FACTOR


def dust_threshold(txout: TxOut, dust_relay_fee: FeeRate) -> int:
    """The smallest standard value of `txout` (Core's GetDustThreshold)."""
    if is_unspendable(txout.script_pubkey):
        return 0
    script = txout.script_pubkey
    size = 8 + len(ser_compact_size(len(script))) + len(script)
    if witness_program(script) is not None:
        size += _DUST_WITNESS_INPUT_BYTES
    else:
        size += _DUST_INPUT_BYTES
    return dust_relay_fee.fee(size)


def is_dust(txout: TxOut, dust_relay_fee: FeeRate) -> bool:
    return txout.value < dust_threshold(txout, dust_relay_fee)


def output_type_if_standard(script: bytes, policy: MempoolPolicy) -> TxoutType | None:
    """The template of a standard output script, or None (Core's IsStandard)."""
    kind, solutions = solve(script)
    if kind is TxoutType.NONSTANDARD:
        return None
    if kind is TxoutType.MULTISIG:
        m, n = solutions[0][0], solutions[-1][0]
        if not 1 <= n <= MAX_MULTISIG_KEYS_STANDARD or not 1 <= m <= n:
            return None
    if kind is TxoutType.NULL_DATA:
        limit = policy.max_datacarrier_bytes
        if limit is None or len(script) > limit:
            return None
    return kind


def check_standard_tx(tx: Tx, policy: MempoolPolicy) -> None:
    """Raise with Core's reason unless `tx` is standard (Core's IsStandardTx)."""
    if not 1 <= tx.version <= MAX_STANDARD_VERSION:
        raise _reject("version", f"version {tx.version} not in 1..{MAX_STANDARD_VERSION}")
    if tx.weight > policy.max_standard_tx_weight:
        raise _reject("tx-size", f"weight {tx.weight} > {policy.max_standard_tx_weight}")
    for n_in, txin in enumerate(tx.vin):
        if len(txin.script_sig) > MAX_STANDARD_SCRIPTSIG_SIZE:
            size = len(txin.script_sig)
            raise _reject("scriptsig-size", f"input {n_in}: {size} > {MAX_STANDARD_SCRIPTSIG_SIZE}")
        if not is_push_only(txin.script_sig):
            raise _reject("scriptsig-not-pushonly", f"input {n_in}")
    _check_standard_outputs(tx, policy)


def _check_standard_outputs(tx: Tx, policy: MempoolPolicy) -> None:
    data_outputs = 0
    data_bytes = 0
    for n_out, txout in enumerate(tx.vout):
        kind = output_type_if_standard(txout.script_pubkey, policy)
        if kind is None:
            raise _reject("scriptpubkey", f"output {n_out}: {txout.script_pubkey.hex()}")
        if kind is TxoutType.NULL_DATA:
            data_outputs += 1
            data_bytes += len(txout.script_pubkey)
        elif kind is TxoutType.MULTISIG and not policy.permit_bare_multisig:
            raise _reject("bare-multisig", f"output {n_out}")
        elif is_dust(txout, policy.dust_relay_fee):
            threshold = dust_threshold(txout, policy.dust_relay_fee)
            raise _reject("dust", f"output {n_out}: {txout.value} < {threshold}")
    if data_outputs > 1 and not policy.permit_multi_op_return:
        raise _reject("multi-op-return", f"{data_outputs} OP_RETURN outputs")
    limit = policy.max_datacarrier_bytes
    if data_outputs > 1 and limit is not None and data_bytes > limit:
        # Core 30: the data carrier limit bounds all OP_RETURN outputs together.
        raise _reject("datacarrier", f"{data_bytes} bytes of OP_RETURN outputs > {limit}")


def push_only_stack(script_sig: bytes) -> list[bytes] | None:
    """The stack a push-only scriptSig leaves, or None where EvalScript would fail.

    Core evaluates the scriptSig with no flags to find a P2SH redeem script; for the
    push-only scriptSigs standardness already requires, that is the list of pushes.
    """
    if len(script_sig) > MAX_SCRIPT_SIZE:
        return None
    stack: list[bytes] = []
    try:
        for opcode, data, _ in iter_ops(script_sig):
            if data is not None:
                if len(data) > MAX_SCRIPT_ELEMENT_SIZE:
                    return None
                stack.append(data)
            elif opcode == Op.OP_1NEGATE:
                stack.append(b"\x81")
            elif Op.OP_1 <= opcode <= Op.OP_16:
                stack.append(bytes((opcode - Op.OP_1 + 1,)))
            else:
                return None  # OP_RESERVED and every non-push op
            if len(stack) > MAX_STACK_SIZE:
                return None
    except ScriptParseError:
        return None
    return stack


def are_inputs_standard(tx: Tx, spent: Sequence[TxOut]) -> bool:
    """Core's AreInputsStandard: known templates, and at most 15 sigops per redeem script."""
    if tx.is_coinbase():
        return True
    for txin, prev in zip(tx.vin, spent, strict=True):
        kind, _ = solve(prev.script_pubkey)
        if kind in (TxoutType.NONSTANDARD, TxoutType.WITNESS_UNKNOWN):
            return False
        if kind is TxoutType.SCRIPTHASH:
            stack = push_only_stack(txin.script_sig)
            if not stack:
                return False
            if script_sigop_count(stack[-1], accurate=True) > MAX_P2SH_SIGOPS:
                return False
    return True


def is_witness_standard(tx: Tx, spent: Sequence[TxOut], policy: MempoolPolicy) -> bool:
    """Core's IsWitnessStandard: witness data only where a witness program needs it."""
    if tx.is_coinbase():
        return True
    for txin, prev in zip(tx.vin, spent, strict=True):
        if not txin.witness:
            continue  # an empty witness cannot be bloated
        if not _input_witness_standard(txin.script_sig, txin.witness, prev, policy):
            return False
    return True


def _input_witness_standard(
    script_sig: bytes, witness: tuple[bytes, ...], prev: TxOut, policy: MempoolPolicy
) -> bool:
    script = prev.script_pubkey
    if script == P2A_SCRIPT:
        return False  # witness stuffing on an anchor
    wrapped = False
    if is_p2sh(script):
        stack = push_only_stack(script_sig)
        if not stack:
            return False
        script, wrapped = stack[-1], True
    program = witness_program(script)
    if program is None:
        return False  # a non-witness script with a witness attached
    version, data = program
    if version == 0 and len(data) == 32:
        return _p2wsh_witness_standard(witness, policy)
    if version == 1 and len(data) == 32 and not wrapped:
        return _taproot_witness_standard(witness)
    return True


def _p2wsh_witness_standard(witness: tuple[bytes, ...], policy: MempoolPolicy) -> bool:
    if len(witness[-1]) > policy.max_standard_p2wsh_script_size:
        return False
    items = witness[:-1]
    if len(items) > policy.max_standard_p2wsh_stack_items:
        return False
    return all(len(item) <= policy.max_standard_p2wsh_stack_item_size for item in items)


def _taproot_witness_standard(witness: tuple[bytes, ...]) -> bool:
    stack = list(witness)
    if len(stack) >= 2 and stack[-1] and stack[-1][0] == ANNEX_TAG:
        return False  # BIP341 annexes have no meaning yet
    if len(stack) >= 2:
        control_block = stack.pop()
        stack.pop()  # the leaf script
        if not control_block:
            return False
        if control_block[0] & TAPROOT_LEAF_MASK == TAPROOT_LEAF_TAPSCRIPT:
            return all(len(item) <= MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE for item in stack)
        return True
    return len(stack) == 1
