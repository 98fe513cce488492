"""Transactions, headers and blocks as Core's JSON (core_write.cpp TxToUniv,
rpc/blockchain.cpp blockheaderToJSON and blockToJSON). Pure: the chain is read through
the `Chainstate` query methods only; amounts are `Amount`s so they print with 8 decimals.

Spent outputs: Core shows a transaction's `fee` (and, at verbosity 3, each input's
`prevout`) from the block's undo data. The chainstate offers no undo query, so these appear
where the spent outputs are known to the caller (`spent`), e.g. outputs created earlier in
the same block; elsewhere they are left out, as Core leaves them out without undo data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from btcnode.chain import Chainstate, IndexEntry
from btcnode.consensus.block import Block
from btcnode.consensus.coins import Coin
from btcnode.consensus.contextual import MEDIAN_TIME_SPAN
from btcnode.consensus.contextual import median_time_past as median_of_times
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.rpc.jsonfmt import Amount
from btcnode.rpc.render_script import script_asm, script_json

__all__ = [
    "block_json",
    "difficulty",
    "header_json",
    "spent_within_block",
    "tx_json",
]


def difficulty(bits: int) -> float:
    """Core's GetDifficulty: the pow limit of mainnet over the target, as a double."""
    shift = (bits >> 24) & 0xFF
    mantissa = bits & 0x00FFFFFF
    if mantissa == 0:
        return 0.0
    value = 0x0000FFFF / mantissa
    while shift < 29:
        value *= 256.0
        shift += 1
    while shift > 29:
        value /= 256.0
        shift -= 1
    return value


def _vin_json(
    tx: Tx, params: ChainParams, spent: Mapping[OutPoint, Coin], show_prevout: bool
) -> list[dict[str, Any]]:
    out = []
    coinbase = tx.is_coinbase()
    for txin in tx.vin:
        item: dict[str, Any] = {}
        if coinbase:
            item["coinbase"] = txin.script_sig.hex()
        else:
            item["txid"] = hash256_hex(txin.prevout.txid)
            item["vout"] = txin.prevout.n
            item["scriptSig"] = {
                "asm": script_asm(txin.script_sig, decode_sighash=True),
                "hex": txin.script_sig.hex(),
            }
        if txin.witness:
            item["txinwitness"] = [element.hex() for element in txin.witness]
        coin = spent.get(txin.prevout)
        if show_prevout and coin is not None and not coinbase:
            item["prevout"] = {
                "generated": coin.is_coinbase,
                "height": coin.height,
                "value": Amount(coin.out.value),
                "scriptPubKey": script_json(coin.out.script_pubkey, params),
            }
        item["sequence"] = txin.sequence
        out.append(item)
    return out


def tx_json(
    tx: Tx,
    params: ChainParams,
    *,
    include_hex: bool,
    spent: Mapping[OutPoint, Coin] | None = None,
    show_prevout: bool = False,
    block_hash: bytes | None = None,
) -> dict[str, Any]:
    """Core's TxToUniv."""
    spent = spent or {}
    result: dict[str, Any] = {
        "txid": hash256_hex(tx.txid),
        "hash": hash256_hex(tx.wtxid),
        "version": tx.version,
        "size": tx.total_size,
        "vsize": tx.vsize,
        "weight": tx.weight,
        "locktime": tx.lock_time,
        "vin": _vin_json(tx, params, spent, show_prevout),
        "vout": [
            {
                "value": Amount(out.value),
                "n": n,
                "scriptPubKey": script_json(out.script_pubkey, params),
            }
            for n, out in enumerate(tx.vout)
        ],
    }
    if not tx.is_coinbase() and all(txin.prevout in spent for txin in tx.vin):
        paid_in = sum(spent[txin.prevout].out.value for txin in tx.vin)
        result["fee"] = Amount(paid_in - sum(out.value for out in tx.vout))
    if block_hash is not None:
        result["blockhash"] = hash256_hex(block_hash)
    if include_hex:
        result["hex"] = tx.serialize().hex()
    return result


def spent_within_block(block: Block, height: int) -> dict[OutPoint, Coin]:
    """The outputs the block's transactions create, as coins: what its later transactions
    spend from earlier ones is known without undo data."""
    coins = {}
    for tx in block.txs:
        coinbase = tx.is_coinbase()
        for n, out in enumerate(tx.vout):
            coins[OutPoint(tx.txid, n)] = Coin(out, height, coinbase)
    return coins


def median_time_past(chain: Chainstate, entry: IndexEntry) -> int:
    """Core's GetMedianTimePast of any indexed block, on the active chain or not: the times
    of `entry` and its 10 ancestors, found through the index."""
    times = [entry.time]
    walk: IndexEntry | None = entry
    while walk is not None and len(times) < MEDIAN_TIME_SPAN and walk.height > 0:
        walk = chain.get_index(walk.prev_hash)
        if walk is not None:
            times.append(walk.time)
    return median_of_times(times)


def header_json(chain: Chainstate, entry: IndexEntry, tx_count: int) -> dict[str, Any]:
    """Core's blockheaderToJSON."""
    header = entry.header
    on_chain = chain.is_on_active_chain(entry.hash)
    result: dict[str, Any] = {
        "hash": hash256_hex(entry.hash),
        "confirmations": chain.tip_height - entry.height + 1 if on_chain else -1,
        "height": entry.height,
        "version": header.version,
        "versionHex": f"{header.version & 0xFFFFFFFF:08x}",
        "merkleroot": hash256_hex(header.merkle_root),
        "time": header.time,
        "mediantime": median_time_past(chain, entry),
        "nonce": header.nonce,
        "bits": f"{header.bits:08x}",
        "difficulty": difficulty(header.bits),
        "chainwork": f"{entry.chain_work:064x}",
        "nTx": tx_count,
    }
    if entry.height > 0:
        result["previousblockhash"] = hash256_hex(header.prev_block)
    if on_chain and entry.height < chain.tip_height:
        result["nextblockhash"] = hash256_hex(chain.block_hash_at(entry.height + 1))
    return result


def block_json(
    chain: Chainstate, entry: IndexEntry, block: Block, verbosity: int
) -> dict[str, Any]:
    """Core's blockToJSON at verbosity 1 (txids), 2 (decoded transactions) or 3 (with
    each input's prevout where known)."""
    params = chain.params
    result = header_json(chain, entry, len(block.txs))
    result["strippedsize"] = block.base_size
    result["size"] = block.total_size
    result["weight"] = block.weight
    if verbosity <= 1:
        result["tx"] = [hash256_hex(tx.txid) for tx in block.txs]
        return result
    spent = spent_within_block(block, entry.height)
    result["tx"] = [
        tx_json(tx, params, include_hex=True, spent=spent, show_prevout=verbosity >= 3)
        for tx in block.txs
    ]
    return result
