"""Fee bumping by replacement (BIP125), as Core's bumpfee does it (wallet/feebumper.cpp).

The replacement spends every input of the original (so the two can never both confirm),
pays the same recipients, and takes the extra fee from the change output; when the change
cannot give enough (or there is none) it adds coins, and change below the viable minimum goes
to the fee, exactly as `wallets.builder` builds any transaction.

Coins are added only when confirmed (Core's feebumper sets the coin control's minimum
depth to 1): the node refuses a replacement adding an unconfirmed input (BIP125 rule 2).
Whether the wallet has spent the original's outputs again is the caller's to check
(`HasWalletDescendants`, see `wallets._spend.bump_request`).

The new fee rate is the caller's, or Core's EstimateFeeRate: the original's rate plus
1 sat/kvB plus the larger of the node's and the wallet's incremental relay fee. Either way
the new absolute fee must meet BIP125 rules 3 and 4: at least the original fee plus the
incremental relay fee on the replacement's size (Core's CheckFeeRate), and the new fee rate
must beat the original's (Core's rule 6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.mempool import signals_opt_in
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.policy import DEFAULT_INCREMENTAL_RELAY_FEE
from wallets.builder import BuildOptions, BuiltTx, Spendable, build_transaction
from wallets.coinselect import InsufficientFunds, Rng
from wallets.errors import WalletInputError, WalletMisuse
from wallets.txsize import estimate_vsize

__all__ = [
    "WALLET_INCREMENTAL_RELAY_FEE",
    "BumpRequest",
    "CannotBump",
    "FeeBumpTooLow",
    "HasWalletDescendants",
    "NotReplaceable",
    "bump_fee",
    "original_fee",
]

WALLET_INCREMENTAL_RELAY_FEE = FeeRate(5_000)  # Core's wallet: above any node's setting
_NODE_INCREMENTAL_RELAY_FEE = FeeRate(DEFAULT_INCREMENTAL_RELAY_FEE)
_DEFAULT_OPTIONS = BuildOptions()
MIN_ADDED_COIN_CONFIRMATIONS = 1  # BIP125 rule 2: no new unconfirmed inputs (Core: m_min_depth)


class NotReplaceable(WalletInputError):
    """The transaction cannot be replaced: confirmed, or it does not signal BIP125."""

    def __init__(self, txid_hex: str, reason: str) -> None:
        self.txid_hex, self.reason = txid_hex, reason
        super().__init__(f"transaction {txid_hex} cannot be bumped: {reason}")


class HasWalletDescendants(NotReplaceable):
    """Core's bumpfee refuses a transaction whose outputs the wallet has spent again
    ("Transaction has descendants in the wallet"): the replacement would evict those
    spends too, and would have to pay their fees as well (BIP125 rule 3)."""

    def __init__(self, txid_hex: str, descendants: tuple[bytes, ...]) -> None:
        self.descendants = descendants
        children = ", ".join(hash256_hex(t) for t in descendants)
        super().__init__(
            txid_hex, f"it has descendants in the wallet ({children}); bump those instead"
        )


class FeeBumpTooLow(WalletInputError):
    """The fee asked for does not pay for the replacement (BIP125 rules 3 and 4)."""

    def __init__(self, new_fee: int, min_fee: int, old_fee: int, incremental_fee: int) -> None:
        self.new_fee, self.min_fee = new_fee, min_fee
        self.old_fee, self.incremental_fee = old_fee, incremental_fee
        super().__init__(
            f"insufficient total fee {new_fee} sat, must be at least {min_fee} sat "
            f"(old fee {old_fee} + incremental fee {incremental_fee})"
        )


class CannotBump(InsufficientFunds):
    """No change to reduce and no coins to add cover the higher fee."""


@dataclass(frozen=True, slots=True)
class BumpRequest:
    """What to bump: the wallet transaction, its coins (`spent[i]` is input i's),
    which output is the change (None: none), and whether it is confirmed (the caller knows).

    `change_script` receives change when the original had none but added coins leave some
    (by default the script of the first coin, which is the wallet's own).
    """

    original: Tx
    spent: tuple[Spendable, ...]
    change_index: int | None
    confirmed: bool
    change_script: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.spent) != len(self.original.vin):
            raise WalletMisuse(f"{len(self.spent)} coins for {len(self.original.vin)} inputs")
        for n, (txin, coin) in enumerate(zip(self.original.vin, self.spent, strict=True)):
            if txin.prevout != coin.outpoint:
                raise WalletMisuse(f"input {n} spends {txin.prevout}, the coin is {coin.outpoint}")
        if self.change_index is not None and not 0 <= self.change_index < len(self.original.vout):
            raise WalletMisuse(f"change index {self.change_index} is not an output")


def original_fee(request: BumpRequest) -> int:
    return sum(c.value for c in request.spent) - sum(o.value for o in request.original.vout)


def _check_replaceable(request: BumpRequest) -> None:
    txid = hash256_hex(request.original.txid)
    if request.confirmed:
        raise NotReplaceable(txid, "it is already confirmed")
    if not signals_opt_in(request.original):
        raise NotReplaceable(txid, "it does not signal BIP125 replaceability")  # rule 1


def _original_vsize(request: BumpRequest) -> int:
    """The signed original's vsize; the estimate when given unsigned."""
    tx = request.original
    if any(txin.script_sig or txin.witness for txin in tx.vin):
        return tx.vsize
    return estimate_vsize([c.input_type for c in request.spent], list(tx.vout))


def _incremental(node_incremental: FeeRate) -> FeeRate:
    return max(node_incremental, WALLET_INCREMENTAL_RELAY_FEE)


def estimate_bump_rate(request: BumpRequest, node_incremental: FeeRate) -> FeeRate:
    """Core's EstimateFeeRate: the old rate (it truncates) + 1 sat/kvB + the incremental fee."""
    old_rate = FeeRate.of(original_fee(request), _original_vsize(request))
    return old_rate + FeeRate(1) + _incremental(node_incremental)


def _check_fee(request: BumpRequest, new_fee: int, vsize: int, incremental: FeeRate) -> None:
    """BIP125 rules 3 and 4 on the replacement's size (Core's CheckFeeRate)."""
    old_fee = original_fee(request)
    min_fee = old_fee + incremental.fee(vsize)
    if new_fee < min_fee:
        raise FeeBumpTooLow(new_fee, min_fee, old_fee, incremental.fee(vsize))


def bump_fee(
    request: BumpRequest,
    rng: Rng,
    *,
    fee_rate: FeeRate | None = None,
    extra_coins: Sequence[Spendable] = (),
    node_incremental_relay_fee: FeeRate = _NODE_INCREMENTAL_RELAY_FEE,
    options: BuildOptions = _DEFAULT_OPTIONS,
) -> BuiltTx:
    """An unsigned replacement of `request.original` paying its recipients at a higher fee."""
    _check_replaceable(request)
    original = request.original
    incremental = _incremental(node_incremental_relay_fee)
    if fee_rate is None:
        fee_rate = max(
            estimate_bump_rate(request, node_incremental_relay_fee), options.min_relay_fee
        )
    else:
        max_size = estimate_vsize([c.input_type for c in request.spent], list(original.vout))
        _check_fee(request, fee_rate.fee(max_size), max_size, incremental)
    recipients = [o for n, o in enumerate(original.vout) if n != request.change_index]
    change_script = request.change_script
    if request.change_index is not None:
        change_script = original.vout[request.change_index].script_pubkey
    if change_script is None:  # no change before: any change returns to the first coin's script
        change_script = request.spent[0].txout.script_pubkey
    confirmed = [c for c in extra_coins if c.confirmations >= MIN_ADDED_COIN_CONFIRMATIONS]
    try:
        built = build_transaction(
            confirmed, recipients, fee_rate, change_script, rng, options, request.spent
        )
    except InsufficientFunds as err:
        raise CannotBump(err.needed, err.available) from None
    _check_fee(request, built.fee, built.vsize, incremental)
    if FeeRate.of(built.fee, built.vsize) <= FeeRate.of(
        original_fee(request), _original_vsize(request)
    ):
        raise FeeBumpTooLow(built.fee, built.fee + 1, original_fee(request), 0)  # Core's rule 6
    return built
