"""Consensus checks that need the chain: the parent header, heights, times and coins.

Core's ContextualCheckBlockHeader, ContextualCheckBlock, IsFinalTx, Consensus::CheckTxInputs,
GetTransactionSigOpCost, GetBlockScriptFlags and the coinbase amount check of ConnectBlock.
Everything the chain knows is passed in: the parent as a `HeaderInfo`, its median time past,
the current (network-adjusted) time `now`, a `UtxoView` of the coins. Nothing here reads a
clock or a database.

Soft forks are buried at the heights in `ChainParams`: a rule "active after" a parent is in
force for a block at height >= its activation height.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.consensus.block import (
    MAX_BLOCK_WEIGHT,
    Block,
    BlockHeader,
    block_witness_merkle_root,
    witness_commitment,
    witness_commitment_index,
)
from btcnode.consensus.checks import legacy_sigop_count, money_range
from btcnode.consensus.coins import Coin, UtxoView
from btcnode.consensus.errors import (
    BlockResult,
    BlockValidationError,
    ChainMisuse,
    TxResult,
    TxValidationError,
)
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.consensus.pow import AncestorLookup, HeaderInfo, next_work_required
from btcnode.consensus.script.flagbits import P2SH
from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.script.ops import is_p2sh
from btcnode.consensus.script.sigops import (
    p2sh_sigop_count,
    witness_sigop_count,
)
from btcnode.consensus.sequence_locks import (
    calculate_sequence_locks,
    evaluate_sequence_locks,
    sequence_locks,
)
from btcnode.consensus.subsidy import block_subsidy, coinbase_height_prefix
from btcnode.consensus.tx import LOCKTIME_THRESHOLD, SEQUENCE_FINAL, WITNESS_SCALE_FACTOR, Tx

__all__ = [
    "MEDIAN_TIME_SPAN",
    "calculate_sequence_locks",
    "check_coinbase_value",
    "check_tx_inputs",
    "check_witness_malleation",
    "contextual_check_block",
    "contextual_check_block_header",
    "evaluate_sequence_locks",
    "is_final_tx",
    "median_time_past",
    "p2sh_sigop_count_tx",
    "script_flags_for_block",
    "sequence_locks",
    "transaction_sigop_cost",
]

MEDIAN_TIME_SPAN = 11  # chain.h: the median time past is over the last 11 blocks (BIP113)
WITNESS_RESERVED_VALUE_BYTES = 32  # BIP141: the coinbase witness is one 32-byte value


def median_time_past(times: Sequence[int]) -> int:
    """Core's GetMedianTimePast: the median of the last (up to) 11 block times, oldest first.

    With an even count (fewer than 11 blocks exist) Core takes the upper middle element.
    """
    window = sorted(times[-MEDIAN_TIME_SPAN:])
    if not window:
        raise ChainMisuse("median time past of no blocks")
    return window[len(window) // 2]


# -- headers --------------------------------------------------------------------------------


def contextual_check_block_header(
    header: BlockHeader,
    prev: HeaderInfo,
    prev_median_time_past: int,
    now: int,
    params: ChainParams,
    ancestor: AncestorLookup,
) -> None:
    """Core's ContextualCheckBlockHeader, without checkpoints (none on regtest) and without
    BIP94's timewarp rule (testnet4 only)."""
    height = prev.height + 1
    expected_bits = next_work_required(prev, header.time, params, ancestor)
    if header.bits != expected_bits:
        raise BlockValidationError(
            "bad-diffbits",
            f"incorrect proof of work: bits {header.bits:#010x}, expected {expected_bits:#010x}",
            result=BlockResult.INVALID_HEADER,
        )
    if header.time <= prev_median_time_past:
        raise BlockValidationError(
            "time-too-old",
            f"block's timestamp {header.time} is not after median time past "
            f"{prev_median_time_past}",
            result=BlockResult.INVALID_HEADER,
        )
    if header.time > now + params.max_future_block_time:
        raise BlockValidationError(
            "time-too-new",
            f"block timestamp {header.time} too far in the future (now {now})",
            result=BlockResult.TIME_FUTURE,
        )
    _check_version(header.version, height, params)


def _check_version(version: int, height: int, params: ChainParams) -> None:
    """Versions below 2, 3, 4 are obsolete once BIP34, BIP66, BIP65 are buried."""
    if (
        (version < 2 and height >= params.bip34_height)
        or (version < 3 and height >= params.bip66_height)
        or (version < 4 and height >= params.bip65_height)
    ):
        shown = f"0x{version & 0xFFFFFFFF:08x}"  # C's %08x prints the int32 as unsigned
        raise BlockValidationError(
            f"bad-version({shown})",
            f"rejected nVersion={shown} block",
            result=BlockResult.INVALID_HEADER,
        )


# -- blocks ---------------------------------------------------------------------------------


def is_final_tx(tx: Tx, block_height: int, block_time: int) -> bool:
    """Core's IsFinalTx: nLockTime is met, or every input opts out with SEQUENCE_FINAL."""
    if tx.lock_time == 0:
        return True
    cutoff = block_height if tx.lock_time < LOCKTIME_THRESHOLD else block_time
    if tx.lock_time < cutoff:
        return True
    return all(txin.sequence == SEQUENCE_FINAL for txin in tx.vin)


def contextual_check_block(
    block: Block, height: int, prev_median_time_past: int, params: ChainParams
) -> None:
    """Core's ContextualCheckBlock for a block at `height` whose parent has median time past
    `prev_median_time_past`. Expects `check_block` to have passed (a coinbase exists)."""
    _require_coinbase(block)
    # BIP113: with CSV, lock times are compared with the parent's median time past.
    csv_active = height >= params.csv_height
    cutoff = prev_median_time_past if csv_active else block.header.time
    for tx in block.txs:
        if not is_final_tx(tx, height, cutoff):
            raise BlockValidationError(
                "bad-txns-nonfinal",
                f"non-final transaction {hash256_hex(tx.txid)} (lock time {tx.lock_time}, "
                f"height {height}, cutoff time {cutoff})",
            )
    if height >= params.bip34_height:
        _check_coinbase_height(block, height)
    check_witness_malleation(block, expect_witness_commitment=height >= params.segwit_height)
    # Only now that the witness is committed can its weight condemn the block for good.
    if block.weight > MAX_BLOCK_WEIGHT:
        raise BlockValidationError("bad-blk-weight", f"weight limit failed: {block.weight}")


def _require_coinbase(block: Block) -> None:
    if not block.txs or not block.txs[0].is_coinbase():
        raise ChainMisuse(f"block {block.header.hash_hex} has no coinbase: run check_block first")


def _check_coinbase_height(block: Block, height: int) -> None:
    """BIP34: the coinbase scriptSig starts with `CScript() << height`."""
    expected = coinbase_height_prefix(height)
    script_sig = block.txs[0].vin[0].script_sig
    if not script_sig.startswith(expected):
        raise BlockValidationError(
            "bad-cb-height",
            f"block height mismatch in coinbase: expected prefix {expected.hex()} "
            f"for height {height}, scriptSig {script_sig[:9].hex()}",
        )


def check_witness_malleation(block: Block, *, expect_witness_commitment: bool) -> None:
    """Core's CheckWitnessMalleation: the BIP141 commitment matches the witnesses, and blocks
    without a commitment carry no witness data at all."""
    if expect_witness_commitment:
        index = witness_commitment_index(block)
        if index is not None:
            _check_witness_commitment(block, index)
            return
    for n, tx in enumerate(block.txs):
        if tx.has_witness():
            raise BlockValidationError(
                "unexpected-witness",
                f"unexpected witness data found in tx {n}",
                result=BlockResult.MUTATED,
            )


def _check_witness_commitment(block: Block, index: int) -> None:
    stack = block.txs[0].vin[0].witness
    if len(stack) != 1 or len(stack[0]) != WITNESS_RESERVED_VALUE_BYTES:
        raise BlockValidationError(
            "bad-witness-nonce-size",
            f"invalid witness reserved value size: {[len(item) for item in stack]}",
            result=BlockResult.MUTATED,
        )
    computed = witness_commitment(block_witness_merkle_root(block), stack[0])
    committed = block.txs[0].vout[index].script_pubkey[6:38]
    if computed != committed:
        raise BlockValidationError(
            "bad-witness-merkle-match",
            f"witness merkle commitment mismatch: output {index} has {committed.hex()}, "
            f"computed {computed.hex()}",
            result=BlockResult.MUTATED,
        )


def check_coinbase_value(block: Block, fees: int, height: int, params: ChainParams) -> None:
    """ConnectBlock's limit: the coinbase pays at most the subsidy plus the block's fees."""
    _require_coinbase(block)
    paid = sum(out.value for out in block.txs[0].vout)
    limit = fees + block_subsidy(height, params)
    if paid > limit:
        raise BlockValidationError(
            "bad-cb-amount", f"coinbase pays too much (actual={paid} vs limit={limit})"
        )


def script_flags_for_block(height: int, params: ChainParams) -> ScriptFlags:
    """Core's GetBlockScriptFlags without Taproot (not implemented by this node).

    P2SH and WITNESS apply to every block: Core enables them from genesis and exempts only
    two historic mainnet blocks by hash (one BIP16 violator, one Taproot violator), which
    this node, validating regtest, does not list.
    """
    flags = ScriptFlags.P2SH | ScriptFlags.WITNESS
    if height >= params.bip66_height:
        flags |= ScriptFlags.DERSIG
    if height >= params.bip65_height:
        flags |= ScriptFlags.CHECKLOCKTIMEVERIFY
    if height >= params.csv_height:
        flags |= ScriptFlags.CHECKSEQUENCEVERIFY
    if height >= params.segwit_height:
        flags |= ScriptFlags.NULLDUMMY  # BIP147, deployed with segwit
    return flags


# -- transactions against coins --------------------------------------------------------------


def check_tx_inputs(tx: Tx, view: UtxoView, spend_height: int, params: ChainParams) -> int:
    """Core's Consensus::CheckTxInputs: the coins exist, are mature, and cover the outputs.

    Returns the fee. `spend_height` is the height of the block the transaction would be in
    (tip + 1 for the mempool): a coinbase created at height h is spendable from height
    h + coinbase_maturity. Expects `check_transaction` to have passed.
    """
    coins = _input_coins(tx, view)
    value_in = 0
    for n, coin in enumerate(coins):
        depth = spend_height - coin.height
        if coin.is_coinbase and depth < params.coinbase_maturity:
            raise TxValidationError(
                "bad-txns-premature-spend-of-coinbase",
                f"tried to spend coinbase at depth {depth} in input {n}",
                result=TxResult.PREMATURE_SPEND,
            )
        value_in += coin.out.value
        if not money_range(coin.out.value) or not money_range(value_in):
            raise TxValidationError(
                "bad-txns-inputvalues-outofrange", f"input {n} value {coin.out.value}"
            )
    value_out = sum(out.value for out in tx.vout)
    if value_in < value_out:
        raise TxValidationError(
            "bad-txns-in-belowout", f"value in ({value_in}) < value out ({value_out})"
        )
    fee = value_in - value_out
    if not money_range(fee):
        raise TxValidationError("bad-txns-fee-outofrange", f"fee {fee}")
    return fee


def _input_coins(tx: Tx, view: UtxoView) -> list[Coin]:
    """The coin of every input; all must exist before any other input rule is looked at."""
    coins = []
    for n, txin in enumerate(tx.vin):
        coin = view.get_coin(txin.prevout)
        if coin is None:
            raise TxValidationError(
                "bad-txns-inputs-missingorspent",
                f"inputs missing/spent: input {n} ({txin.prevout})",
                result=TxResult.MISSING_INPUTS,
            )
        coins.append(coin)
    return coins


def _spent_coin(view: UtxoView, tx: Tx, n: int) -> Coin:
    coin = view.get_coin(tx.vin[n].prevout)
    if coin is None:
        raise ChainMisuse(f"sigops of {tx} counted before its input {n} was found")
    return coin


def p2sh_sigop_count_tx(tx: Tx, view: UtxoView) -> int:
    """Core's GetP2SHSigOpCount: accurate sigops of the redeem scripts of P2SH inputs."""
    if tx.is_coinbase():
        return 0
    count = 0
    for n, txin in enumerate(tx.vin):
        script_pubkey = _spent_coin(view, tx, n).out.script_pubkey
        if is_p2sh(script_pubkey):
            count += p2sh_sigop_count(script_pubkey, txin.script_sig)
    return count


def transaction_sigop_cost(tx: Tx, view: UtxoView, flags: int) -> int:
    """Core's GetTransactionSigOpCost: legacy and P2SH sigops weigh 4, witness sigops 1.

    One pass over the inputs looks up each spent coin once for both the P2SH and the
    witness count (Core's two loops read the same coins; the sum does not depend on order).
    """
    cost = legacy_sigop_count(tx) * WITNESS_SCALE_FACTOR
    if tx.is_coinbase():
        return cost
    bits = int(flags)  # plain int: ScriptFlags' own & is slow on a per-input path
    count_p2sh = bits & P2SH
    for n, txin in enumerate(tx.vin):
        script_pubkey = _spent_coin(view, tx, n).out.script_pubkey
        if count_p2sh and is_p2sh(script_pubkey):
            cost += p2sh_sigop_count(script_pubkey, txin.script_sig) * WITNESS_SCALE_FACTOR
        cost += witness_sigop_count(txin.script_sig, script_pubkey, txin.witness, bits)
    return cost
