"""BIP125 opt-in replace-by-fee, checked against the mempool graph (Core's policy/rbf.cpp).

The rules as BIP125 numbers them:
1. every original transaction is replaceable: it, or one of its unconfirmed ancestors,
   signals with an input nSequence below 0xfffffffe (inherited signalling, which the BIP
   specifies and Core never implemented, CVE-2021-31876), unless the policy is full RBF;
2. the replacement adds no unconfirmed input that no original spent;
3. it pays at least the absolute fees of everything it evicts;
4. the extra fee pays for its own relay at the incremental relay fee rate;
5. it evicts at most 100 transactions, originals and descendants together, each counted
   once (Core adds the originals' descendant counts, overcounting shared descendants).
Core also asks the replacement's fee rate to beat each original's own fee rate (its "rule
6", `pays_more_than_conflicts`); that is kept, since without it a replacement could lower
the fee rate of the next block.
"""

from __future__ import annotations

from collections.abc import Iterable

from btcnode.consensus.errors import TxResult, TxValidationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import COIN
from btcnode.consensus.tx import Tx
from btcnode.mempool._graph import TxGraph
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.policy import MAX_REPLACEMENT_CANDIDATES


def _policy_error(reason: str, debug: str) -> TxValidationError:
    return TxValidationError(reason, debug, result=TxResult.MEMPOOL_POLICY)


def format_money(sats: int) -> str:
    """Core's FormatMoney: BTC with at least two decimals."""
    sign = "-" if sats < 0 else ""
    whole, frac = divmod(abs(sats), COIN)
    digits = f"{frac:08d}".rstrip("0")
    return f"{sign}{whole}.{digits.ljust(2, '0')}"


def is_replaceable(graph: TxGraph, txid: bytes) -> bool:
    """BIP125: the entry or one of its in-mempool ancestors signals replaceability."""
    if graph.entry(txid).signals_rbf:
        return True
    return any(graph.entry(a).signals_rbf for a in graph.ancestors(txid))


def check_conflicts_replaceable(graph: TxGraph, conflicts: Iterable[bytes], full_rbf: bool) -> None:
    """BIP125 rule 1: refuse "txn-mempool-conflict" when an original may not be replaced.

    `conflicts` in the order the replacement's inputs meet them, as Core reports the first.
    """
    if full_rbf:
        return
    for txid in conflicts:
        if not is_replaceable(graph, txid):
            raise _policy_error(
                "txn-mempool-conflict",
                f"conflicts with {hash256_hex(txid)}, which does not signal BIP125",
            )


def check_spends_not_conflicting(ancestors: set[bytes], conflicts: set[bytes], txid: bytes) -> None:
    """A transaction may not spend an output of one it replaces (Core's
    EntriesAndTxidsDisjoint): it would depend on what it removes."""
    for ancestor in sorted(ancestors & conflicts):
        raise TxValidationError(
            "bad-txns-spends-conflicting-tx",
            f"{hash256_hex(txid)} spends conflicting transaction {hash256_hex(ancestor)}",
            result=TxResult.CONSENSUS,
        )


def replacement_checks(
    graph: TxGraph,
    tx: Tx,
    fee: int,
    vsize: int,
    conflicts: set[bytes],
    incremental_relay_fee: FeeRate,
) -> set[bytes]:
    """BIP125 rules 2 to 5 and Core's fee rate rule; returns every transaction evicted."""
    txid = hash256_hex(tx.txid)
    pays_more_than_conflicts(graph, conflicts, FeeRate.of(fee, vsize), txid)
    all_conflicts = graph.with_descendants(conflicts)
    if len(all_conflicts) > MAX_REPLACEMENT_CANDIDATES:  # BIP125 rule 5
        raise _policy_error(
            "too many potential replacements",
            f"rejecting replacement {txid}; too many potential replacements "
            f"({len(all_conflicts)} > {MAX_REPLACEMENT_CANDIDATES})",
        )
    has_no_new_unconfirmed(graph, tx, conflicts)
    original_fees = sum(graph.entry(t).fee for t in all_conflicts)
    pays_for_rbf(original_fees, fee, vsize, incremental_relay_fee, txid)
    return all_conflicts


def pays_more_than_conflicts(
    graph: TxGraph, conflicts: set[bytes], replacement_rate: FeeRate, txid: str
) -> None:
    """Core's rule 6: a higher fee rate than each directly replaced transaction."""
    for original in graph.order(conflicts):
        entry = graph.entry(original)
        if replacement_rate <= entry.fee_rate:
            raise _policy_error(
                "insufficient fee",
                f"rejecting replacement {txid}; new feerate {replacement_rate} <= "
                f"old feerate {entry.fee_rate}",
            )


def has_no_new_unconfirmed(graph: TxGraph, tx: Tx, conflicts: set[bytes]) -> None:
    """BIP125 rule 2: unconfirmed inputs only where an original already had them."""
    parents_of_conflicts = {
        txin.prevout.txid for original in conflicts for txin in graph.entry(original).tx.vin
    }
    for n, txin in enumerate(tx.vin):
        parent = txin.prevout.txid
        if parent not in parents_of_conflicts and parent in graph:
            raise _policy_error(
                "replacement-adds-unconfirmed",
                f"replacement {hash256_hex(tx.txid)} adds unconfirmed input, idx {n}",
            )


def pays_for_rbf(
    original_fees: int, replacement_fees: int, vsize: int, relay_fee: FeeRate, txid: str
) -> None:
    """BIP125 rules 3 and 4 (Core's PaysForRBF)."""
    if replacement_fees < original_fees:  # rule 3
        raise _policy_error(
            "insufficient fee",
            f"rejecting replacement {txid}, less fees than conflicting txs; "
            f"{format_money(replacement_fees)} < {format_money(original_fees)}",
        )
    additional = replacement_fees - original_fees
    needed = relay_fee.fee(vsize)
    if additional < needed:  # rule 4
        raise _policy_error(
            "insufficient fee",
            f"rejecting replacement {txid}, not enough additional fees to relay; "
            f"{format_money(additional)} < {format_money(needed)}",
        )
