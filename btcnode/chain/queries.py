"""Read-only summaries of the chainstate: chain tips (Core's getchaintips) and UTXO stats."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

from btcnode.chain.active import ActiveChain
from btcnode.chain.encoding import decode_coin
from btcnode.chain.index import BlockIndex, BlockNode, Validity, last_common_ancestor
from btcnode.chain.layout import COIN_PREFIX, TIP_KEY, decode_tip, outpoint_of_coin_key
from btcnode.chain.types import ChainTip, TipStatus, UtxoStats
from common.store.api import Store

_U32 = struct.Struct("<I")


def tip_status(node: BlockNode, active: ActiveChain) -> TipStatus:
    """Core's getchaintips status of a branch ending at `node`."""
    if active.contains(node):
        return TipStatus.ACTIVE
    if node.failed:
        return TipStatus.INVALID
    if not node.have_chain:
        return TipStatus.HEADERS_ONLY
    if node.validity >= Validity.SCRIPTS:
        return TipStatus.VALID_FORK
    return TipStatus.VALID_HEADERS


def chain_tips(index: BlockIndex, active: ActiveChain) -> list[ChainTip]:
    """Every node without children, plus the active tip; highest first."""
    tips = {node.hash: node for node in index.tips()}
    tips[active.tip.hash] = active.tip
    out = []
    for node in tips.values():
        fork = last_common_ancestor(node, active.tip)
        status = tip_status(node, active)
        out.append(ChainTip(node.hash, node.height, node.height - fork.height, status))
    out.sort(key=lambda tip: (-tip.height, tip.hash))
    return out


def utxo_stats(store: Store, height_of: Callable[[bytes], int]) -> UtxoStats:
    """Count, total and hash of the stored UTXO set, read from one snapshot with its tip."""
    digest = hashlib.sha256()
    count = total = 0
    with store.snapshot() as snapshot:
        raw_tip = snapshot.get(TIP_KEY)
        tip_hash = decode_tip(raw_tip if raw_tip is not None else b"")
        for key, raw in snapshot.iterate(prefix=COIN_PREFIX):
            outpoint = outpoint_of_coin_key(key)
            coin = decode_coin(raw)
            code = coin.height * 2 + int(coin.is_coinbase)
            digest.update(outpoint.serialize() + _U32.pack(code) + coin.out.serialize())
            count += 1
            total += coin.out.value
    return UtxoStats(tip_hash, height_of(tip_hash), count, total, digest.digest())
