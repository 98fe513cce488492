"""Coins (unspent outputs) and the read-only views of the chain that checks need.

`UtxoView` is what contextual transaction checks read; `ChainView` adds what the mempool and
the miner need of the active chain (tip, median time past by height). The chainstate
implements both; the mempool layers its own unconfirmed outputs over a `UtxoView`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import OutPoint, TxOut


@dataclass(frozen=True, slots=True)
class Coin:
    """An unspent output with where it was created (Core's Coin)."""

    out: TxOut
    height: int  # height of the block that created it; MEMPOOL_HEIGHT if unconfirmed
    is_coinbase: bool


MEMPOOL_HEIGHT = 0x7FFFFFFF  # Core's marker height for coins created by mempool transactions


class UtxoView(Protocol):
    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        """The unspent coin at `outpoint`, or None if it does not exist or is spent."""
        ...


class ChainView(UtxoView, Protocol):
    """The active chain as seen by the mempool and the miner."""

    @property
    def params(self) -> ChainParams: ...

    @property
    def tip_height(self) -> int: ...

    @property
    def tip_hash(self) -> bytes: ...

    def median_time_past(self, height: int) -> int:
        """Median of the times of the 11 blocks ending at `height` on the active chain."""
        ...

    def block_time(self, height: int) -> int:
        """The header time of the active-chain block at `height`."""
        ...
