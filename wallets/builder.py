"""Building unsigned transactions: select coins, add change when it is worth it, set the fee.

`build_transaction` follows Core's CreateTransactionInternal (wallet/spend.cpp):
- the fee rate must be at least the minimum relay fee, every payment above its dust threshold;
- coins are chosen by `wallets.coinselect` (least waste of branch-and-bound, knapsack and
  single random draw) after any inputs the caller preselects (as Core's coin control does,
  and as a fee bump must keep every original input);
- a change output to the caller's script is added only when the change is at least
  `min_viable_change` (above dust and worth more than it costs to spend); smaller change
  goes to the fee. It is placed at a random position, as Core does, so it does not betray
  itself by position; the inputs are shuffled;
- with change, the fee is exactly fee rate x estimated signed vsize (rounded up); without,
  it is at least that (it takes the excess the change would have been);
- inputs signal BIP125 (nSequence 0xfffffffd) unless asked not to; with a current height the
  lock time discourages fee sniping (Core's DiscourageFeeSniping).
Pure: randomness comes from the `Rng` passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from btcnode.consensus.tx import MAX_SEQUENCE_NONFINAL, OutPoint, Tx, TxIn, TxOut
from btcnode.mempool.entry import MAX_BIP125_RBF_SEQUENCE
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.policy import (
    DEFAULT_MIN_RELAY_TX_FEE,
    DUST_RELAY_TX_FEE,
    MAX_STANDARD_TX_WEIGHT,
)
from btcnode.mempool.standard import dust_threshold
from wallets.coinselect import (
    CoinSelectionParams,
    InsufficientFunds,
    OutputGroup,
    Rng,
    SelectionAlgorithm,
    SelectionResult,
    choose_selection,
)
from wallets.errors import WalletInputError, WalletMisuse
from wallets.txsize import (
    InputType,
    estimate_vsize,
    estimate_weight,
    input_type_for_script,
    input_vsize,
    input_weight,
    output_size,
)

__all__ = [
    "MAX_BIP125_RBF_SEQUENCE",
    "MAX_SEQUENCE_NONFINAL",
    "BuildOptions",
    "BuiltTx",
    "DustOutput",
    "FeeRateTooLow",
    "Spendable",
    "TransactionTooLarge",
    "build_transaction",
]

FEE_SNIPING_BACKDATE_CHANCE = 10  # Core: one transaction in ten gets an older lock time
FEE_SNIPING_MAX_BACKDATE = 100  # Core: up to 100 blocks back
_TX_NOINPUTS_BASE = 4 + 4 + 1 + 1  # Core: version, lock time, input count, segwit marker


class DustOutput(WalletInputError):
    """A payment is below the dust threshold of its script: no node would relay it."""

    def __init__(self, index: int, amount: int, threshold: int) -> None:
        self.index, self.amount, self.threshold = index, amount, threshold
        super().__init__(
            f"output {index} pays {amount} sat, below its dust threshold of {threshold} sat"
        )


class FeeRateTooLow(WalletInputError):
    """The fee rate asked for is below the minimum relay fee rate."""

    def __init__(self, fee_rate: FeeRate, minimum: FeeRate) -> None:
        self.fee_rate, self.minimum = fee_rate, minimum
        super().__init__(f"fee rate {fee_rate} is below the minimum relay fee rate {minimum}")


class TransactionTooLarge(WalletInputError):
    """The transaction would weigh more than a standard transaction may."""

    def __init__(self, weight: int, limit: int) -> None:
        self.weight, self.limit = weight, limit
        super().__init__(f"transaction weight {weight} exceeds the standard limit {limit}")


@dataclass(frozen=True, slots=True)
class Spendable:
    """A coin the wallet can spend: where it is, what it holds, how it is signed.

    `key_path` names the key (a BIP32 path or any id the caller's key lookup understands).
    """

    outpoint: OutPoint
    txout: TxOut
    input_type: InputType
    key_path: str
    confirmations: int

    def __post_init__(self) -> None:
        if isinstance(self.txout.value, bool) or self.txout.value < 0:
            raise WalletMisuse(f"coin {self.outpoint} has a negative value {self.txout.value}")
        if self.confirmations < 0:
            raise WalletMisuse(f"coin {self.outpoint}: confirmations {self.confirmations} < 0")
        expected = input_type_for_script(self.txout.script_pubkey)
        if expected is not self.input_type:
            raise WalletMisuse(
                f"coin {self.outpoint} pays a {expected.value} script, not {self.input_type.value}"
            )

    @property
    def value(self) -> int:
        return self.txout.value


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Everything but the coins, payments and fee rate; defaults are Core's."""

    long_term_feerate: FeeRate = field(default=FeeRate(10_000))  # -consolidatefeerate
    discard_feerate: FeeRate = field(default=FeeRate(10_000))  # -discardfee
    min_relay_fee: FeeRate = field(default=FeeRate(DEFAULT_MIN_RELAY_TX_FEE))
    dust_relay_fee: FeeRate = field(default=FeeRate(DUST_RELAY_TX_FEE))
    signal_rbf: bool = True
    current_height: int | None = None  # set: anti-fee-sniping lock time
    version: int = 2

    def __post_init__(self) -> None:
        if self.current_height is not None and not 0 <= self.current_height < 500_000_000:
            raise WalletMisuse(f"current_height {self.current_height} is not a block height")


@dataclass(frozen=True, slots=True)
class BuiltTx:
    """An unsigned transaction and what it spends (`spent[i]` is input i's coin).

    `fee` is what it pays, `vsize` its estimated signed vsize, `change_index` the position
    of the change output (None without change).
    """

    tx: Tx
    spent: tuple[Spendable, ...]
    fee: int
    vsize: int
    change_index: int | None
    algorithm: SelectionAlgorithm

    def __post_init__(self) -> None:
        if len(self.spent) != len(self.tx.vin):
            raise WalletMisuse(f"{len(self.spent)} coins for {len(self.tx.vin)} inputs")
        if self.fee < 0:
            raise WalletMisuse(f"negative fee {self.fee}")


def _check_payments(outputs: Sequence[TxOut], options: BuildOptions) -> None:
    if not outputs:
        raise WalletMisuse("a transaction needs at least one payment")
    for index, out in enumerate(outputs):
        threshold = dust_threshold(out, options.dust_relay_fee)
        if out.value < threshold:
            raise DustOutput(index, out.value, threshold)


def _selection_params(
    fee_rate: FeeRate, change_script: bytes, options: BuildOptions, noinputs_size: int
) -> CoinSelectionParams:
    change_out = TxOut(0, change_script)
    change_size = output_size(change_script)
    overhead = (noinputs_size + change_size) * 4
    return CoinSelectionParams(
        effective_feerate=fee_rate,
        change_output_size=change_size,
        change_spend_size=input_vsize(input_type_for_script(change_script)),
        change_dust_threshold=dust_threshold(change_out, options.discard_feerate),
        long_term_feerate=options.long_term_feerate,
        discard_feerate=options.discard_feerate,
        max_selection_weight=MAX_STANDARD_TX_WEIGHT - overhead,
    )


def _groups(coins: Sequence[Spendable], params: CoinSelectionParams) -> list[OutputGroup]:
    return [
        OutputGroup.of(i, c.value, input_weight(c.input_type), input_vsize(c.input_type), params)
        for i, c in enumerate(coins)
    ]


def _select(
    preset: Sequence[Spendable],
    coins: Sequence[Spendable],
    target: int,
    params: CoinSelectionParams,
    rng: Rng,
    payment_value: int,
) -> tuple[list[Spendable], SelectionResult]:
    """The preselected coins plus, if they fall short, a selection from `coins`; the
    returned result covers all of them with the full target."""
    preset_groups = _groups(preset, params)
    preset_result = SelectionResult(SelectionAlgorithm.PRESET, target, tuple(preset_groups))
    remaining = target - preset_result.selected_effective_value
    if preset and remaining <= 0:
        return list(preset), preset_result
    preset_outpoints = {c.outpoint for c in preset}
    pool = [c for c in coins if c.outpoint not in preset_outpoints]
    try:
        chosen = choose_selection(_groups(pool, params), remaining, params, rng, payment_value)
    except InsufficientFunds as err:
        have = err.available + preset_result.selected_effective_value
        raise InsufficientFunds(target, have) from None
    spent = list(preset) + [pool[g.ref] for g in chosen.groups]
    groups = preset_groups + [g for g in chosen.groups]
    return spent, SelectionResult(chosen.algorithm, target, tuple(groups))


def _lock_time(options: BuildOptions, rng: Rng) -> int:
    """Core's DiscourageFeeSniping: the current height, sometimes a little older."""
    if options.current_height is None:
        return 0
    height = options.current_height
    if rng.randrange(FEE_SNIPING_BACKDATE_CHANCE) == 0:
        height = max(0, height - rng.randrange(FEE_SNIPING_MAX_BACKDATE))
    return height


def build_transaction(
    coins: Sequence[Spendable],
    outputs: Sequence[TxOut],
    fee_rate: FeeRate,
    change_script: bytes,
    rng: Rng,
    options: BuildOptions = BuildOptions(),
    preselected: Sequence[Spendable] = (),
) -> BuiltTx:
    """An unsigned transaction paying `outputs` at `fee_rate` from `preselected` and `coins`."""
    if fee_rate < options.min_relay_fee:
        raise FeeRateTooLow(fee_rate, options.min_relay_fee)
    _check_payments(outputs, options)
    noinputs_size = _TX_NOINPUTS_BASE + sum(output_size(o.script_pubkey) for o in outputs)
    params = _selection_params(fee_rate, change_script, options, noinputs_size)
    payment_value = sum(o.value for o in outputs)
    target = payment_value + fee_rate.fee(noinputs_size)
    spent, result = _select(preselected, coins, target, params, rng, payment_value)
    change = result.change(params.min_viable_change, params.change_fee)
    return _assemble(spent, list(outputs), change, change_script, fee_rate, rng, options, result)


def _assemble(
    spent: list[Spendable],
    outputs: list[TxOut],
    change: int,
    change_script: bytes,
    fee_rate: FeeRate,
    rng: Rng,
    options: BuildOptions,
    result: SelectionResult,
) -> BuiltTx:
    """Shuffle the inputs, place the change, and settle the fee on the exact size."""
    order = list(range(len(spent)))
    rng.shuffle(order)
    spent = [spent[i] for i in order]
    change_index: int | None = None
    if change:
        change_index = rng.randrange(len(outputs) + 1)
        outputs.insert(change_index, TxOut(change, change_script))
    types = [c.input_type for c in spent]
    vsize = estimate_vsize(types, outputs)
    fee_needed = fee_rate.fee(vsize)
    total_in = sum(c.value for c in spent)
    fee = total_in - sum(o.value for o in outputs)
    if change_index is not None and fee != fee_needed:
        # The selection priced each input on its own, rounded up: give the excess back.
        outputs[change_index] = TxOut(change + fee - fee_needed, change_script)
        fee = fee_needed
    if fee < fee_needed:
        # Only past 252 inputs, whose count takes 3 bytes rather than the 1 priced.
        raise InsufficientFunds(total_in - fee + fee_needed, total_in)
    weight = estimate_weight(types, outputs)
    if weight > MAX_STANDARD_TX_WEIGHT:
        raise TransactionTooLarge(weight, MAX_STANDARD_TX_WEIGHT)
    sequence = MAX_BIP125_RBF_SEQUENCE if options.signal_rbf else MAX_SEQUENCE_NONFINAL
    vin = tuple(TxIn(c.outpoint, b"", sequence) for c in spent)
    tx = Tx(options.version, vin, tuple(outputs), _lock_time(options, rng))
    return BuiltTx(tx, tuple(spent), fee, vsize, change_index, result.algorithm)
