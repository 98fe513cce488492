"""The mempool: Core's single-transaction acceptance, BIP125 replacement, orphans, limits.

A sans-I/O core: `Mempool.accept(tx, chain, now)` checks a transaction against a
`ChainView` and the pool in Core's MemPoolAccept order and returns an `AcceptResult`
carrying Core's reject reason on refusal; `remove_for_block` and `update_for_reorg` follow
the chain. `MempoolPolicy` holds the relay policy (see `policy` for which Core version each
default matches).
"""

from btcnode.mempool._solver import TxoutType, solve
from btcnode.mempool.entry import MempoolEntry, signals_opt_in
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.mempool import Mempool, MempoolInfo, ReorgResult
from btcnode.mempool.orphans import Orphan, OrphanPool
from btcnode.mempool.policy import Limits, MempoolPolicy
from btcnode.mempool.results import AcceptResult, AcceptStatus, Removal, RemovalReason
from btcnode.mempool.standard import dust_threshold, is_dust, virtual_size
from btcnode.mempool.view import MempoolCoinsView

__all__ = [
    "AcceptResult",
    "AcceptStatus",
    "FeeRate",
    "Limits",
    "Mempool",
    "MempoolCoinsView",
    "MempoolEntry",
    "MempoolInfo",
    "MempoolPolicy",
    "Orphan",
    "OrphanPool",
    "Removal",
    "RemovalReason",
    "ReorgResult",
    "TxoutType",
    "dust_threshold",
    "is_dust",
    "signals_opt_in",
    "solve",
    "virtual_size",
]
