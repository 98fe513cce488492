"""Checking one transaction for the mempool, in Core's order (MemPoolAccept).

`run_checks` is PreChecks, ReplacementChecks and PolicyScriptChecks: it reads the pool and
the chain and changes nothing, so a test-only acceptance and a real one see the same
rejection. The first failing rule raises a `TxValidationError` with Core's reject reason;
the order decides which reason a transaction breaking several rules gets:

check_transaction, "coinbase", IsStandardTx, "tx-size-small", "non-final",
"txn-already-in-mempool" / "txn-same-nonwitness-data-in-mempool", BIP125 rule 1
"txn-mempool-conflict", missing inputs ("txn-already-known" /
"bad-txns-inputs-missingorspent"), "non-BIP68-final", check_tx_inputs,
"bad-txns-nonstandard-inputs", "bad-witness-nonstandard", "bad-txns-too-many-sigops",
"min relay fee not met", "mempool min fee not met", "too-long-mempool-chain",
"bad-txns-spends-conflicting-tx", BIP125 rules 2-5, then the input scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from btcnode.consensus.checks import check_transaction
from btcnode.consensus.coins import MEMPOOL_HEIGHT, ChainView, Coin
from btcnode.consensus.contextual import (
    calculate_sequence_locks,
    check_tx_inputs,
    evaluate_sequence_locks,
    is_final_tx,
    transaction_sigop_cost,
)
from btcnode.consensus.errors import TxResult, TxValidationError
from btcnode.consensus.script.flags import STANDARD_FLAGS
from btcnode.consensus.tx import OutPoint, Tx, TxOut
from btcnode.mempool._graph import TxGraph
from btcnode.mempool._scripts import check_input_scripts
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.policy import (
    EXTRA_DESCENDANT_TX_SIZE_LIMIT,
    MAX_STANDARD_TX_SIGOPS_COST,
    MIN_STANDARD_TX_NONWITNESS_SIZE,
    Limits,
    MempoolPolicy,
)
from btcnode.mempool.rbf import (
    check_conflicts_replaceable,
    check_spends_not_conflicting,
    replacement_checks,
)
from btcnode.mempool.standard import (
    are_inputs_standard,
    check_standard_tx,
    is_witness_standard,
    virtual_size,
)
from btcnode.mempool.view import MempoolCoinsView


@dataclass(frozen=True, slots=True)
class AcceptArgs:
    chain: ChainView
    now: int
    bypass_limits: bool  # from a disconnected block: no fee floors (Core's bypass_limits)
    min_fee: FeeRate  # the mempool minimum fee at `now`


@dataclass(slots=True)
class Workspace:
    """What the checks learn about one transaction (Core's MemPoolAccept::Workspace)."""

    tx: Tx
    conflicts: list[bytes] = field(default_factory=list)  # directly conflicting txids
    coins: list[Coin] = field(default_factory=list)  # one per input
    fee: int = 0
    sigop_cost: int = 0
    vsize: int = 0
    ancestors: set[bytes] = field(default_factory=set)
    all_conflicts: set[bytes] = field(default_factory=set)  # what a replacement evicts

    @property
    def spent(self) -> list[TxOut]:
        return [coin.out for coin in self.coins]

    @property
    def spends_coinbase(self) -> bool:
        return any(coin.is_coinbase for coin in self.coins)


class _InputsView:
    """The coins found for one transaction's inputs (Core's m_view after the fetch)."""

    def __init__(self, tx: Tx, coins: list[Coin]) -> None:
        self._coins = {txin.prevout: coin for txin, coin in zip(tx.vin, coins, strict=True)}

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self._coins.get(outpoint)


def _reject(reason: str, debug: str, result: TxResult) -> TxValidationError:
    return TxValidationError(reason, debug, result=result)


def run_checks(graph: TxGraph, policy: MempoolPolicy, tx: Tx, args: AcceptArgs) -> Workspace:
    """Every check for `tx` against the pool and chain as they are; raises on failure."""
    ws = Workspace(tx)
    pre_checks(graph, policy, ws, args)
    if ws.conflicts:
        ws.all_conflicts = replacement_checks(
            graph, tx, ws.fee, ws.vsize, set(ws.conflicts), policy.incremental_relay_fee
        )
    check_input_scripts(tx, ws.spent, STANDARD_FLAGS)
    return ws


def pre_checks(graph: TxGraph, policy: MempoolPolicy, ws: Workspace, args: AcceptArgs) -> None:
    """Core's MemPoolAccept::PreChecks."""
    tx, chain = ws.tx, args.chain
    _check_alone(tx, policy)
    _check_final(tx, chain)
    _check_not_in_pool(graph, tx)
    ws.conflicts = _find_conflicts(graph, tx)
    check_conflicts_replaceable(graph, ws.conflicts, policy.full_rbf)
    ws.coins = _fetch_coins(graph, tx, chain)
    _check_sequence_locks(tx, ws.coins, chain)
    view = _InputsView(tx, ws.coins)
    ws.fee = check_tx_inputs(tx, view, chain.tip_height + 1, chain.params)
    if policy.require_standard:
        _check_inputs_standard(tx, ws.spent, policy)
    ws.sigop_cost = transaction_sigop_cost(tx, view, STANDARD_FLAGS)
    ws.vsize = virtual_size(tx.weight, ws.sigop_cost, policy.bytes_per_sigop)
    if ws.sigop_cost > MAX_STANDARD_TX_SIGOPS_COST:
        raise _reject("bad-txns-too-many-sigops", str(ws.sigop_cost), TxResult.NOT_STANDARD)
    if not args.bypass_limits:
        _check_fees(ws, policy, args.min_fee)
    ws.ancestors = _calculate_ancestors(graph, policy.limits, ws)
    check_spends_not_conflicting(ws.ancestors, set(ws.conflicts), tx.txid)


def _check_alone(tx: Tx, policy: MempoolPolicy) -> None:
    """The rules that need nothing but the transaction."""
    check_transaction(tx)
    if tx.is_coinbase():
        raise _reject("coinbase", "a coinbase is only valid in a block", TxResult.CONSENSUS)
    if policy.require_standard:
        check_standard_tx(tx, policy)
    if tx.base_size < MIN_STANDARD_TX_NONWITNESS_SIZE:  # CVE-2017-12842
        debug = f"{tx.base_size} < {MIN_STANDARD_TX_NONWITNESS_SIZE} non-witness bytes"
        raise _reject("tx-size-small", debug, TxResult.NOT_STANDARD)


def _check_final(tx: Tx, chain: ChainView) -> None:
    """Core's CheckFinalTxAtTip: final in the next block, by the tip's median time past."""
    height = chain.tip_height + 1
    if not is_final_tx(tx, height, chain.median_time_past(chain.tip_height)):
        debug = f"lock time {tx.lock_time} not reached at height {height}"
        raise _reject("non-final", debug, TxResult.PREMATURE_SPEND)


def _check_not_in_pool(graph: TxGraph, tx: Tx) -> None:
    if graph.has_wtxid(tx.wtxid):
        raise _reject("txn-already-in-mempool", "", TxResult.CONFLICT)
    if tx.txid in graph:
        raise _reject("txn-same-nonwitness-data-in-mempool", "", TxResult.CONFLICT)


def _find_conflicts(graph: TxGraph, tx: Tx) -> list[bytes]:
    """Mempool transactions spending an input of `tx`, in input order."""
    conflicts: list[bytes] = []
    for txin in tx.vin:
        spender = graph.spender_of(txin.prevout)
        if spender is not None and spender not in conflicts:
            conflicts.append(spender)
    return conflicts


def _fetch_coins(graph: TxGraph, tx: Tx, chain: ChainView) -> list[Coin]:
    """The coin of every input from the pool or the chain; missing ones make an orphan."""
    view = MempoolCoinsView(chain, graph)
    coins = []
    for n, txin in enumerate(tx.vin):
        coin = view.get_coin(txin.prevout)
        if coin is None:
            for out in range(len(tx.vout)):
                if chain.get_coin(OutPoint(tx.txid, out)) is not None:
                    raise _reject(
                        "txn-already-known",
                        f"output {out} is unspent in the chain",
                        TxResult.CONFLICT,
                    )
            debug = f"inputs missing/spent: input {n} ({txin.prevout})"
            raise _reject("bad-txns-inputs-missingorspent", debug, TxResult.MISSING_INPUTS)
        coins.append(coin)
    return coins


def _check_sequence_locks(tx: Tx, coins: list[Coin], chain: ChainView) -> None:
    """BIP68 locks must be met by the next block (Core's CheckSequenceLocksAtTip)."""
    height = chain.tip_height + 1
    prev_heights = [height if c.height == MEMPOOL_HEIGHT else c.height for c in coins]
    locks = calculate_sequence_locks(tx, True, prev_heights, chain.median_time_past, height)
    if not evaluate_sequence_locks(height, chain.median_time_past(chain.tip_height), locks):
        debug = f"locks (height {locks[0]}, time {locks[1]}) not met at height {height}"
        raise _reject("non-BIP68-final", debug, TxResult.PREMATURE_SPEND)


def _check_inputs_standard(tx: Tx, spent: list[TxOut], policy: MempoolPolicy) -> None:
    if not are_inputs_standard(tx, spent):
        raise _reject("bad-txns-nonstandard-inputs", "", TxResult.INPUTS_NOT_STANDARD)
    if tx.has_witness() and not is_witness_standard(tx, spent, policy):
        raise _reject("bad-witness-nonstandard", "", TxResult.WITNESS_MUTATED)


def _check_fees(ws: Workspace, policy: MempoolPolicy, min_fee: FeeRate) -> None:
    """The relay floor, then the mempool's rolling floor (Core's CheckFeeRate)."""
    relay_fee = policy.min_relay_fee.fee(ws.vsize)
    if ws.fee < relay_fee:
        debug = f"{ws.fee} < {relay_fee}"
        raise _reject("min relay fee not met", debug, TxResult.MEMPOOL_POLICY)
    pool_fee = min_fee.fee(ws.vsize)
    if pool_fee > 0 and ws.fee < pool_fee:
        debug = f"{ws.fee} < {pool_fee}"
        raise _reject("mempool min fee not met", debug, TxResult.MEMPOOL_POLICY)


def _calculate_ancestors(graph: TxGraph, limits: Limits, ws: Workspace) -> set[bytes]:
    """The in-pool ancestors within limits, with Core's two relaxations.

    A replacement of exactly one transaction may count that transaction's descendants as
    already gone; and a small child with a single unconfirmed ancestor may exceed the
    parent's descendant limits by one (the CPFP carve-out for contracting protocols).
    """
    if len(ws.conflicts) == 1:
        conflict = graph.entry(ws.conflicts[0])
        limits = replace(
            limits,
            descendant_count=limits.descendant_count + 1,
            descendant_size_vbytes=limits.descendant_size_vbytes + conflict.descendant_size,
        )
    try:
        return graph.calculate_ancestors(ws.tx, ws.vsize, limits)
    except TxValidationError as err:
        if ws.vsize > EXTRA_DESCENDANT_TX_SIZE_LIMIT:
            raise
        carve_out = Limits(
            ancestor_count=2,
            ancestor_size_vbytes=limits.ancestor_size_vbytes,
            descendant_count=limits.descendant_count + 1,
            descendant_size_vbytes=limits.descendant_size_vbytes + EXTRA_DESCENDANT_TX_SIZE_LIMIT,
        )
        try:
            return graph.calculate_ancestors(ws.tx, ws.vsize, carve_out)
        except TxValidationError:
            raise err from None
