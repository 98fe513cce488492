"""Connecting and disconnecting one block against a UTXO view (Core's ConnectBlock and
DisconnectBlock), with no storage of their own: the caller writes the view's changes, the
undo data and the new tip in one batch.

ConnectBlock, in Core's order: for each transaction, the inputs exist, are mature and cover
the outputs (`check_tx_inputs`, reported against the block with the same reject reason),
BIP68 sequence locks hold, the running sigop cost stays within `MAX_BLOCK_SIGOPS_COST`
("bad-blk-sigops"), then the inputs are spent and the outputs added, so a later transaction
of the block can spend an earlier one's outputs and two transactions cannot spend one coin.
Then the coinbase may claim at most subsidy plus fees ("bad-cb-amount"), and last every
input's scripts are verified by the `ScriptChecker` with the block's script flags.

The work is done in two passes (`PreparedConnect`, then `finish_connect`) so that scripts
can be verified in parallel with the rest; errors still come out in the order above.

BIP30 (no transaction may overwrite an unspent output of an earlier one with the same txid,
"bad-txns-BIP30") is not checked: with BIP34 active from height 1 on regtest every coinbase
commits to its height, so txids cannot repeat without a SHA-256 collision, and Core skips
BIP30 too once BIP34 is active. (With MAINNET parameters, blocks below `bip34_height` would
need it; this node validates regtest.) CheckBlock and ContextualCheckBlock ran when the
block was accepted.

DisconnectBlock walks the block backwards: each transaction's outputs are removed (they must
be there, unspent, as created) and the coins its inputs spent are put back from the undo
data. Anything else means the stored state is damaged: `CorruptChainstate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from btcnode.chain.coinsview import BlockCoinsView
from btcnode.chain.encoding import BlockUndo, CorruptChainstate, encode_block_undo
from btcnode.chain.scriptcheck import ScriptChecker, ScriptCheckSession
from btcnode.consensus.block import Block
from btcnode.consensus.checks import MAX_BLOCK_SIGOPS_COST, money_range
from btcnode.consensus.coins import Coin, UtxoView
from btcnode.consensus.contextual import (
    check_coinbase_value,
    check_tx_inputs,
    script_flags_for_block,
    transaction_sigop_cost,
)
from btcnode.consensus.errors import BlockValidationError, ValidationError
from btcnode.consensus.fastchecks import (
    NOT_PROVEN,
    fee_if_plain,
    needs_sequence_locks,
    sigop_cost_if_plain,
)
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.consensus.script.errors import ScriptError
from btcnode.consensus.script.ops import is_unspendable
from btcnode.consensus.sequence_locks import sequence_locks
from btcnode.consensus.tx import OutPoint, Tx


@dataclass(frozen=True, slots=True)
class BlockContext:
    """What connecting a block needs to know of the chain below it.

    `mtp_at(h)` is the median time past of the block at height h < `height` on the chain the
    block extends (for BIP68 time locks and the parent's median time past).
    """

    height: int
    params: ChainParams
    mtp_at: Callable[[int], int]


@dataclass(frozen=True, slots=True)
class ConnectResult:
    undo_bytes: bytes  # the spent coins, `encode_block_undo`d as the flush stores them
    fees: int
    inputs: int  # number of inputs whose scripts were checked


class PreparedConnect:
    """A block after the first pass of ConnectBlock: coins spent and outputs added in `view`,
    every transaction queued in the script `session`. `finish_connect` completes it; when
    the block is not connected after all, `abandon()` releases the session."""

    __slots__ = ("block", "coins", "ctx", "flags", "missing_at", "session", "view")

    def __init__(
        self,
        block: Block,
        ctx: BlockContext,
        view: BlockCoinsView,
        checker: ScriptChecker,
        tx_bytes: Sequence[bytes] | None,
    ) -> None:
        self.block = block
        self.ctx = ctx
        self.view = view
        self.flags = script_flags_for_block(ctx.height, ctx.params)
        self.session = checker.begin(self.flags)
        try:
            self.coins, self.missing_at = _spend_and_add(
                block, ctx.height, view, self.session, tx_bytes
            )
        except BaseException:
            self.session.abandon()
            raise

    def abandon(self) -> None:
        self.session.abandon()


def finish_connect(prepared: PreparedConnect) -> ConnectResult:
    """The second pass of ConnectBlock over a prepared block; raises `BlockValidationError`
    with Core's reject reason.

    The first pass (`PreparedConnect`) spent the inputs and added the outputs in the view,
    handing each transaction to the script checker as soon as its coins were known (so a
    parallel checker works while the rest runs); this one applies Core's per-transaction
    checks in Core's order. Errors are reported as Core's loop would: the first
    transaction's first broken rule, then the coinbase amount, then scripts. On error the
    view holds partial changes and must be dropped.
    """
    block, ctx, coins = prepared.block, prepared.ctx, prepared.coins
    try:
        fees = _check_transactions(block, ctx, coins, prepared.missing_at, prepared.flags)
        check_coinbase_value(block, fees, ctx.height, ctx.params)
        undo = cast(BlockUndo, tuple(coins))  # complete: no coin was missing
        # Encoded now, while a parallel checker's workers verify the scripts, rather than
        # in the flush, when nothing else runs.
        undo_bytes = encode_block_undo(undo)
    except BaseException:
        prepared.abandon()
        raise
    try:
        prepared.session.finish()
    except ScriptError as err:
        raise BlockValidationError(err.reject_reason, err.debug) from err
    return ConnectResult(undo_bytes, fees, sum(len(tx_coins) for tx_coins in undo))


def _spend_and_add(
    block: Block,
    height: int,
    view: BlockCoinsView,
    session: ScriptCheckSession,
    tx_bytes: Sequence[bytes] | None,
) -> tuple[list[tuple[Coin | None, ...]], int]:
    """First pass: the coins each transaction spends, until one is missing. Returns them
    and the position of the transaction with a missing coin (len(block.txs) if none is);
    that transaction's coins, None where missing, are the last entry."""
    spent: list[tuple[Coin | None, ...]] = []
    for position, tx in enumerate(block.txs):
        if position > 0:
            coins = tuple(view.spend(txin.prevout) for txin in tx.vin)
            spent.append(coins)
            if None in coins:
                return spent, position
            raw = tx_bytes[position] if tx_bytes is not None else None
            session.add(position, tx, [coin.out for coin in coins if coin is not None], raw)
        _add_outputs(tx, position == 0, height, view)
    return spent, len(block.txs)


class _TxCoins:
    """The `UtxoView` one transaction's checks see: the coins its inputs spend."""

    __slots__ = ("_coins",)

    def __init__(self, tx: Tx, coins: Sequence[Coin | None]) -> None:
        self._coins = {txin.prevout: coin for txin, coin in zip(tx.vin, coins, strict=False)}

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self._coins.get(outpoint)


def _check_transactions(
    block: Block,
    ctx: BlockContext,
    coins: list[tuple[Coin | None, ...]],
    missing_at: int,
    flags: int,
) -> int:
    """Second pass, Core's ConnectBlock loop: inputs, fees, BIP68, sigops; returns the fees.

    Stops at `missing_at`, whose check_tx_inputs reports the missing coin.
    """
    enforce_bip68 = ctx.height >= ctx.params.csv_height
    height, maturity, bits = ctx.height, ctx.params.coinbase_maturity, int(flags)
    txs = block.txs
    fees = 0
    sigop_cost = transaction_sigop_cost(txs[0], _TxCoins(txs[0], ()), flags)
    for position in range(1, min(missing_at + 1, len(txs))):
        tx = txs[position]
        tx_coins = coins[position - 1]
        fee = fee_if_plain(tx, tx_coins, height, maturity)
        if fee == NOT_PROVEN:
            fee = _check_inputs(tx, position, ctx, _TxCoins(tx, tx_coins))
        fees += fee
        if not money_range(fees):
            raise BlockValidationError(
                "bad-txns-accumulated-fee-outofrange", f"accumulated fee {fees} at tx {position}"
            )
        if needs_sequence_locks(tx, enforce_bip68):
            _check_sequence_locks(tx, position, ctx, tx_coins, enforce_bip68)
        cost = sigop_cost_if_plain(tx, tx_coins, bits)
        if cost == NOT_PROVEN:
            cost = transaction_sigop_cost(tx, _TxCoins(tx, tx_coins), flags)
        sigop_cost += cost
        if sigop_cost > MAX_BLOCK_SIGOPS_COST:
            raise BlockValidationError("bad-blk-sigops", f"too many sigops at tx {position}")
    if missing_at < len(block.txs):
        raise AssertionError("check_tx_inputs accepted a transaction with a missing input")
    return fees


def _check_inputs(tx: Tx, position: int, ctx: BlockContext, view: UtxoView) -> int:
    """check_tx_inputs, reported against the block; returns the fee."""
    try:
        return check_tx_inputs(tx, view, ctx.height, ctx.params)
    except ValidationError as err:
        raise BlockValidationError(
            err.reject_reason, f"tx {position} {hash256_hex(tx.txid)}: {err.debug}"
        ) from err


def _check_sequence_locks(
    tx: Tx, position: int, ctx: BlockContext, coins: Sequence[Coin | None], enforce_bip68: bool
) -> None:
    prev_heights = [coin.height for coin in coins if coin is not None]
    if not sequence_locks(tx, enforce_bip68, prev_heights, ctx.mtp_at, ctx.height):
        raise BlockValidationError(
            "bad-txns-nonfinal",
            f"contains a non-BIP68-final transaction: tx {position} {hash256_hex(tx.txid)}",
        )


def _add_outputs(tx: Tx, is_coinbase: bool, height: int, view: BlockCoinsView) -> None:
    txid = tx.txid
    for n, out in enumerate(tx.vout):
        if not is_unspendable(out.script_pubkey):
            view.add_new(txid, n, Coin(out, height, is_coinbase))


def disconnect_block(block: Block, height: int, undo: BlockUndo, view: BlockCoinsView) -> None:
    """Undo `block` (at `height`) in `view`; raises `CorruptChainstate` if the stored coins
    or the undo data do not match the block."""
    where = f"block {block.header.hash_hex} at height {height}"
    if len(undo) != len(block.txs) - 1:
        raise CorruptChainstate(f"{where}: undo data for {len(undo)} txs, block has more")
    for position in range(len(block.txs) - 1, -1, -1):
        tx = block.txs[position]
        _remove_outputs(tx, position == 0, height, view, where)
        if position == 0:
            continue
        tx_undo = undo[position - 1]
        if len(tx_undo) != len(tx.vin):
            raise CorruptChainstate(f"{where}: tx {position} undo has {len(tx_undo)} coins")
        for txin, coin in zip(reversed(tx.vin), reversed(tx_undo), strict=True):
            if view.add(txin.prevout.txid, txin.prevout.n, coin) is not None:
                raise CorruptChainstate(f"{where}: restoring {txin.prevout} overwrites a coin")


def _remove_outputs(
    tx: Tx, is_coinbase: bool, height: int, view: BlockCoinsView, where: str
) -> None:
    txid = tx.txid
    for n, out in enumerate(tx.vout):
        if is_unspendable(out.script_pubkey):
            continue
        coin = view.spend_parts(txid, n)
        if coin != Coin(out, height, is_coinbase):
            raise CorruptChainstate(f"{where}: output {n} of {hash256_hex(txid)} is {coin}")
