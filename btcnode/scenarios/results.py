"""What each scenario returns: frozen values the tests assert on and the demo narrates.

Ids are RPC hex (txids and block hashes byte-reversed); amounts are satoshis. Each result
keeps the observations that prove its point (every node's tip, mempool and UTXO set
summary), not a verdict, so a test can check the claim itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btcnode.consensus.params import COIN
from btcnode.scenarios.errors import ScenarioCheckFailed
from btcnode.scenarios.merchant import PaymentStatus
from btcnode.scenarios.simulation import HashShareRow

__all__ = [
    "HalfView",
    "MiningRaceResult",
    "NodeOutpoints",
    "NodeTip",
    "NodeTxids",
    "NodeUtxo",
    "PartitionResult",
    "PrivateChainResult",
    "RaceAttackResult",
    "Rejection",
    "ReplaceByFeeResult",
    "ScenarioResult",
    "UtxoSummary",
    "all_equal",
]

UTXO_DIGEST_FIELDS = ("hash_serialized_3", "hash_serialized_2", "muhash")  # Core's, newest first


def all_equal(values: tuple[object, ...]) -> bool:
    return len(set(values)) <= 1


@dataclass(frozen=True, slots=True)
class NodeTip:
    node: str
    height: int
    tip: str


@dataclass(frozen=True, slots=True)
class NodeTxids:
    """A node's mempool (sorted txids) at one moment."""

    node: str
    txids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A node refused a transaction: Core's RPC error code and message."""

    node: str
    txid: str
    code: int
    message: str

    @property
    def reason(self) -> str:
        """Core's reject reason: the message up to the debug text after a comma."""
        return self.message.split(",", 1)[0].strip()


@dataclass(frozen=True, slots=True)
class NodeOutpoints:
    """Which of some probed outpoints a node's UTXO set holds (gettxout, mempool excluded)."""

    node: str
    unspent: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UtxoSummary:
    """gettxoutsetinfo's summary of a node's UTXO set; equal summaries, equal sets."""

    height: int
    best_block: str
    txouts: int
    total_sats: int
    digest: str  # hash_serialized_3 (or _2, or muhash): a hash of the whole set

    @classmethod
    def from_json(cls, answer: Mapping[str, Any]) -> UtxoSummary:
        """From gettxoutsetinfo's JSON object (`total_amount` in BTC, as a Decimal)."""
        try:
            total = Decimal(str(answer["total_amount"])) * COIN
            digest = next((str(answer[f]) for f in UTXO_DIGEST_FIELDS if f in answer), "")
            summary = cls(
                height=int(answer["height"]),
                best_block=str(answer["bestblock"]),
                txouts=int(answer["txouts"]),
                total_sats=int(total),
                digest=digest,
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as err:
            raise ScenarioCheckFailed(
                "gettxoutsetinfo answer", "height, bestblock, txouts, total_amount", repr(err)
            ) from None
        if total != summary.total_sats:
            raise ScenarioCheckFailed("gettxoutsetinfo total_amount", "whole satoshis", total)
        return summary


@dataclass(frozen=True, slots=True)
class NodeUtxo:
    node: str
    summary: UtxoSummary


@dataclass(frozen=True, slots=True)
class MiningRaceResult:
    """Two miners found blocks at `fork_height`; the observer saw `observer_first` first;
    `winner`'s side extended its block and every node followed. The losing block's
    transaction went back to the mempools in `returned_to` and was mined again at
    `remined_height`."""

    fork_height: int
    block_a: str
    tx_a: str
    block_b: str
    tx_b: str
    observer_first: str
    winner: str  # the miner whose block stayed in the chain
    winning_block: str
    losing_block: str
    losing_tx: str
    returned_to: tuple[str, ...]
    remined_height: int
    final_tips: tuple[NodeTip, ...]
    elapsed_s: float

    @property
    def converged(self) -> bool:
        return all_equal(tuple(t.tip for t in self.final_tips))


@dataclass(frozen=True, slots=True)
class RaceAttackResult:
    """Two spends of `outpoint`: `payment` (to the merchant) sent to the merchant's node and
    `double_spend` (back to the attacker) sent at the same time to the miner's node."""

    outpoint: str
    payment: str
    double_spend: str
    first_seen: tuple[NodeTxids, ...]  # what each node kept before any block
    rejections: tuple[Rejection, ...]  # each node offered the spend it did not keep
    confirmed: str
    confirmed_height: int
    mempools_after: tuple[NodeTxids, ...]
    utxo: tuple[NodeUtxo, ...]
    outpoints: tuple[NodeOutpoints, ...]  # the coin and both spends' outputs, probed
    final_tips: tuple[NodeTip, ...]
    elapsed_s: float

    @property
    def utxo_sets_equal(self) -> bool:
        return all_equal(tuple(u.summary for u in self.utxo)) and all_equal(
            tuple(o.unspent for o in self.outpoints)
        )


@dataclass(frozen=True, slots=True)
class ReplaceByFeeResult:
    """A BIP125-signalling payment, then a higher-fee conflict sent to another node."""

    original: str
    original_fee: int
    original_vsize: int
    replacement: str
    replacement_fee: int
    replacement_vsize: int
    original_seen_by: tuple[str, ...]
    mempools_after_replacement: tuple[NodeTxids, ...]
    mined_height: int
    mined_block: str
    final_tips: tuple[NodeTip, ...]
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class PrivateChainResult:
    """The attacker's private chain from `fork_height` replaced `reorg_depth` public blocks
    and, with them, the merchant's confirmed payment."""

    payment: str
    double_spend: str
    fork_height: int
    public_height: int
    attacker_height: int
    merchant_before: PaymentStatus
    merchant_after: PaymentStatus
    reorg_depth: int
    final_tips: tuple[NodeTip, ...]
    hash_shares: tuple[HashShareRow, ...]
    simulation_runs: int
    simulation_seed: int
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class HalfView:
    """One side of a partition just before it healed."""

    nodes: tuple[str, ...]
    blocks_mined: int
    height: int
    tip: str


@dataclass(frozen=True, slots=True)
class PartitionResult:
    fork_height: int
    halves: tuple[HalfView, ...]
    final_tips: tuple[NodeTip, ...]
    utxo: tuple[NodeUtxo, ...]
    elapsed_s: float

    @property
    def converged(self) -> bool:
        return all_equal(tuple(t.tip for t in self.final_tips))

    @property
    def utxo_sets_equal(self) -> bool:
        return all_equal(tuple(u.summary for u in self.utxo))


ScenarioResult = (
    MiningRaceResult | RaceAttackResult | ReplaceByFeeResult | PrivateChainResult | PartitionResult
)
