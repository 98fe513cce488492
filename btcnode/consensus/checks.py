"""Context-free consensus checks: Core's CheckTransaction, CheckBlockHeader and CheckBlock.

Each check returns None or raises a `ValidationError` carrying Core's reject reason and the
evidence in `debug`. They need nothing but the data itself (and the chain parameters for the
proof-of-work limit), so a block that fails them is invalid on every chain. The order of the
checks is Core's, so a value that breaks several rules reports the same reason Core does.

Witness data is not looked at here: it is not committed to by the header, so a block whose
witness is wrong may still have a valid twin; that is `contextual.check_witness_malleation`.
"""

from __future__ import annotations

from btcnode.consensus.block import MAX_BLOCK_WEIGHT, Block, BlockHeader, block_merkle_root
from btcnode.consensus.errors import (
    BlockResult,
    BlockValidationError,
    TxValidationError,
    ValidationError,
)
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import MAX_MONEY, ChainParams
from btcnode.consensus.pow import check_proof_of_work
from btcnode.consensus.script.sigops import script_sigop_count
from btcnode.consensus.tx import WITNESS_SCALE_FACTOR, OutPoint, Tx

MAX_BLOCK_SIGOPS_COST = 80_000  # BIP141: sigop cost limit per block (legacy sigops count 4x)
MIN_COINBASE_SCRIPT_SIG = 2  # tx_check.cpp: a coinbase scriptSig has 2..100 bytes
MAX_COINBASE_SCRIPT_SIG = 100


def money_range(value: int) -> bool:
    """Core's MoneyRange: 0 <= value <= MAX_MONEY."""
    return 0 <= value <= MAX_MONEY


# -- transactions (consensus/tx_check.cpp) -------------------------------------------------


def check_transaction(tx: Tx) -> None:
    """Core's CheckTransaction: the rules a transaction obeys whatever chain it is on."""
    if not tx.vin:
        raise TxValidationError("bad-txns-vin-empty")
    if not tx.vout:
        raise TxValidationError("bad-txns-vout-empty")
    # The size limit ignores the witness, which is not yet known to be unmalleated.
    if tx.base_size * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT:
        raise TxValidationError("bad-txns-oversize", f"base size {tx.base_size}")
    _check_output_values(tx)
    _check_inputs(tx)


def _check_output_values(tx: Tx) -> None:
    """Negative or overflowing output values (CVE-2010-5139)."""
    total = 0
    for n, out in enumerate(tx.vout):
        # One comparison for the common case; total >= 0 makes it imply the three below pass.
        if out.value >= 0 and total + out.value <= MAX_MONEY:
            total += out.value
            continue
        if out.value < 0:
            raise TxValidationError("bad-txns-vout-negative", f"output {n} value {out.value}")
        if out.value > MAX_MONEY:
            raise TxValidationError("bad-txns-vout-toolarge", f"output {n} value {out.value}")
        total += out.value
        if not money_range(total):
            raise TxValidationError(
                "bad-txns-txouttotal-toolarge", f"total {total} after output {n}"
            )


def _check_inputs(tx: Tx) -> None:
    """Duplicate inputs (CVE-2018-17144), the coinbase scriptSig size and null prevouts."""
    if len(tx.vin) > 1:  # one input cannot repeat; skip building the set
        seen: set[OutPoint] = set()
        for txin in tx.vin:
            if txin.prevout in seen:
                raise TxValidationError("bad-txns-inputs-duplicate", f"prevout {txin.prevout}")
            seen.add(txin.prevout)
    if tx.is_coinbase():
        size = len(tx.vin[0].script_sig)
        if not MIN_COINBASE_SCRIPT_SIG <= size <= MAX_COINBASE_SCRIPT_SIG:
            raise TxValidationError("bad-cb-length", f"coinbase scriptSig of {size} bytes")
        return
    for n, txin in enumerate(tx.vin):
        if txin.prevout.is_null():
            raise TxValidationError("bad-txns-prevout-null", f"input {n}")


def legacy_sigop_count(tx: Tx) -> int:
    """Core's GetLegacySigOpCount: inaccurate counts over every scriptSig and scriptPubKey.

    Computed once per transaction and cached on it, as its txid is (the scripts are frozen).
    """
    count = tx._legacy_sigops
    if count is None:
        count = 0
        for txin in tx.vin:
            count += script_sigop_count(txin.script_sig, accurate=False)
        for out in tx.vout:
            count += script_sigop_count(out.script_pubkey, accurate=False)
        object.__setattr__(tx, "_legacy_sigops", count)
    return count


# -- headers and blocks (validation.cpp) ---------------------------------------------------


def check_block_header(header: BlockHeader, params: ChainParams, *, check_pow: bool = True) -> None:
    """Core's CheckBlockHeader: the proof of work matches the claimed bits."""
    if check_pow and not check_proof_of_work(header.hash, header.bits, params):
        raise BlockValidationError(
            "high-hash",
            f"proof of work failed: hash {header.hash_hex} bits {header.bits:#010x}",
            result=BlockResult.INVALID_HEADER,
        )


def check_block_merkle_root(block: Block) -> None:
    """Core's CheckMerkleRoot: the header commits to exactly these transactions."""
    root, mutated = block_merkle_root(block)
    if root != block.header.merkle_root:
        raise BlockValidationError(
            "bad-txnmrklroot",
            f"hashMerkleRoot mismatch: header {hash256_hex(block.header.merkle_root)} "
            f"computed {hash256_hex(root)}",
            result=BlockResult.MUTATED,
        )
    # CVE-2012-2459: a repeated last transaction (at any level) keeps the root unchanged.
    if mutated:
        raise BlockValidationError(
            "bad-txns-duplicate", "duplicate transaction", result=BlockResult.MUTATED
        )


def check_block(
    block: Block,
    params: ChainParams,
    *,
    check_pow: bool = True,
    check_merkle_root: bool = True,
) -> None:
    """Core's CheckBlock: everything about a block that needs no chain context."""
    check_block_header(block.header, params, check_pow=check_pow)
    if check_merkle_root:
        check_block_merkle_root(block)
    # Size limits, before anything looks at transactions (witness excluded, see module doc).
    if (
        not block.txs
        or len(block.txs) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
        or block.base_size * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
    ):
        raise BlockValidationError(
            "bad-blk-length",
            f"size limits failed: {len(block.txs)} txs, base size {block.base_size}",
        )
    if not block.txs[0].is_coinbase():
        raise BlockValidationError("bad-cb-missing", "first tx is not coinbase")
    for n, tx in enumerate(block.txs[1:], start=1):
        if tx.is_coinbase():
            raise BlockValidationError("bad-cb-multiple", f"tx {n} is a second coinbase")
    for tx in block.txs:
        _check_block_transaction(tx)
    sigops = sum(legacy_sigop_count(tx) for tx in block.txs)
    if sigops * WITNESS_SCALE_FACTOR > MAX_BLOCK_SIGOPS_COST:
        raise BlockValidationError("bad-blk-sigops", f"out-of-bounds SigOpCount {sigops}")


def _check_block_transaction(tx: Tx) -> None:
    """CheckTransaction inside CheckBlock: the same reason, reported against the block."""
    try:
        check_transaction(tx)
    except ValidationError as err:
        raise BlockValidationError(
            err.reject_reason,
            f"Transaction check failed (tx hash {hash256_hex(tx.txid)}) {err.debug}",
        ) from err
