"""Unconfirmed outputs layered over the chain's coins (Core's CCoinsViewMemPool).

`MempoolCoinsView.get_coin` answers an output of a mempool transaction as a coin at
`MEMPOOL_HEIGHT`, and anything else from the chain view. As in Core, an output stays
visible while a mempool transaction spends it: conflicts are the mempool's to detect
(`Mempool.spender_of`), and a replacement must still see the coin it re-spends. A child
transaction, a wallet or a block template builder reads unconfirmed outputs through it.
"""

from __future__ import annotations

from btcnode.consensus.coins import MEMPOOL_HEIGHT, Coin, UtxoView
from btcnode.consensus.tx import OutPoint
from btcnode.mempool._graph import TxGraph


class MempoolCoinsView:
    """A `UtxoView`: mempool outputs first, then `base`."""

    def __init__(self, base: UtxoView, graph: TxGraph) -> None:
        self._base = base
        self._graph = graph

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        entry = self._graph.get(outpoint.txid)
        if entry is not None:
            vout = entry.tx.vout
            if outpoint.n < len(vout):
                return Coin(vout[outpoint.n], MEMPOOL_HEIGHT, False)
            return None
        return self._base.get_coin(outpoint)

    def is_unconfirmed(self, outpoint: OutPoint) -> bool:
        return outpoint.txid in self._graph
