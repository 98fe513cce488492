"""What the scenarios read from and do to running nodes, over Core's RPC methods.

Tips (getblockchaininfo), blocks (getblockhash, getblock with verbosity 0,
decoded here), mining (generatetoaddress), transactions (sendrawtransaction), mempools
(getrawmempool), UTXO set summaries (gettxoutsetinfo) and the waits built on them. Every
wait reports each node's last answer when it times out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from btcnode.consensus.block import Block
from btcnode.consensus.errors import SerializationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import REGTEST
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.scenarios.errors import NodeCallError, ScenarioCheckFailed
from btcnode.scenarios.harness import NodeProcess
from btcnode.scenarios.keys import Coin, ScenarioKey, short_hex, txid_hex
from btcnode.scenarios.results import (
    NodeOutpoints,
    NodeTip,
    NodeTxids,
    NodeUtxo,
    Rejection,
    UtxoSummary,
)
from btcnode.scenarios.waits import DEFAULT_WAIT_S, wait_until

__all__ = [
    "PARAMS",
    "block_txids",
    "fetch_block",
    "mature_coins",
    "mempools",
    "mine",
    "offer",
    "require",
    "require_in",
    "send",
    "tip_of",
    "tips",
    "unspent_outpoints",
    "utxo_summaries",
    "wait_mempools",
    "wait_tip",
]

PARAMS = REGTEST  # `btcnode run` runs regtest only
SYNC_WAIT_S = 60.0  # a new node fetching 100+ blocks from a peer on 2 shared cores


def require(check: str, expected: object, observed: object) -> None:
    """Raise `ScenarioCheckFailed` unless `observed == expected`."""
    if observed != expected:
        raise ScenarioCheckFailed(check, expected, observed)


def require_in(check: str, item: str, items: Sequence[str]) -> None:
    """Raise `ScenarioCheckFailed` unless `item` is one of `items`."""
    if item not in items:
        shown = f"[{', '.join(short_hex(i) for i in items)}]"
        raise ScenarioCheckFailed(check, f"{short_hex(item)} among them", shown)


def tip_of(node: NodeProcess) -> NodeTip:
    """The node's tip: height and hash from one getblockchaininfo answer, so the two agree."""
    info = node.call("getblockchaininfo")
    return NodeTip(node.name, int(info["blocks"]), str(info["bestblockhash"]))


def tips(nodes: Iterable[NodeProcess]) -> tuple[NodeTip, ...]:
    return tuple(tip_of(node) for node in nodes)


def _show_tips(seen: tuple[NodeTip, ...]) -> str:
    return ", ".join(f"{t.node} at height {t.height} ({short_hex(t.tip)})" for t in seen)


def wait_tip(
    nodes: Sequence[NodeProcess],
    tip: str | None = None,
    *,
    timeout_s: float = DEFAULT_WAIT_S,
) -> tuple[NodeTip, ...]:
    """Until every node has the same tip (`tip` if given); their tips."""
    wanted = "one tip" if tip is None else f"tip {short_hex(tip)}"
    return wait_until(
        f"{', '.join(n.name for n in nodes)} on {wanted}",
        lambda: tips(nodes),
        lambda seen: len({t.tip for t in seen}) == 1 and (tip is None or seen[0].tip == tip),
        timeout_s=timeout_s,
        show=_show_tips,
    )


def mine(node: NodeProcess, blocks: int, key: ScenarioKey) -> list[str]:
    """generatetoaddress: `blocks` blocks on the node's tip paying `key`; their hashes."""
    hashes = node.call("generatetoaddress", blocks, key.address(PARAMS))
    require(f"blocks mined by {node.name}", blocks, len(hashes))
    return [str(h) for h in hashes]


def fetch_block(node: NodeProcess, block_hash: str) -> Block:
    """getblock with verbosity 0, decoded."""
    raw = node.call("getblock", block_hash, 0)
    try:
        block = Block.deserialize(bytes.fromhex(str(raw)))
    except (ValueError, SerializationError) as err:
        raise ScenarioCheckFailed(
            f"getblock {block_hash} from {node.name}", "a block", err
        ) from None
    require(
        f"hash of the block {node.name} sent for {block_hash}", block_hash, block.header.hash_hex
    )
    return block


def block_txids(node: NodeProcess, block_hash: str) -> tuple[str, ...]:
    return tuple(txid_hex(tx) for tx in fetch_block(node, block_hash).txs)


def active_blocks(node: NodeProcess, start_height: int, end_height: int) -> list[tuple[int, Block]]:
    """The node's active chain from `start_height` to `end_height`, decoded."""
    out = []
    for height in range(start_height, end_height + 1):
        out.append((height, fetch_block(node, str(node.call("getblockhash", height)))))
    return out


def mature_coins(miner: NodeProcess, key: ScenarioKey, coins: int) -> list[Coin]:
    """Mine `coins` blocks paying `key`, then enough blocks (paying `key` too) for their
    coinbases to mature; the `coins` spendable coinbase outputs."""
    first = int(miner.call("getblockcount")) + 1
    hashes = mine(miner, coins + PARAMS.coinbase_maturity, key)
    out = []
    for height, block_hash in enumerate(hashes[:coins], first):
        coinbase = fetch_block(miner, block_hash).txs[0]
        n = next((i for i, o in enumerate(coinbase.vout) if o.script_pubkey == key.script), -1)
        if n < 0:
            raise ScenarioCheckFailed(
                f"coinbase at height {height}", f"an output to {key}", coinbase
            )
        out.append(Coin(OutPoint(coinbase.txid, n), coinbase.vout[n]))
    return out


def send(node: NodeProcess, tx: Tx) -> str:
    """sendrawtransaction; the txid, which must be `tx`'s."""
    txid = str(node.call("sendrawtransaction", tx.serialize().hex()))
    require(f"txid {node.name} returned", txid_hex(tx), txid)
    return txid


def offer(node: NodeProcess, tx: Tx) -> str | Rejection:
    """sendrawtransaction that may be refused: the txid, or Core's code and reject reason."""
    try:
        return send(node, tx)
    except NodeCallError as err:
        if err.code is None:
            raise
        return Rejection(node.name, txid_hex(tx), err.code, err.message)


def mempool(node: NodeProcess) -> tuple[str, ...]:
    return tuple(sorted(str(t) for t in node.call("getrawmempool")))


def mempools(nodes: Iterable[NodeProcess]) -> tuple[NodeTxids, ...]:
    return tuple(NodeTxids(node.name, mempool(node)) for node in nodes)


def _show_mempools(seen: tuple[NodeTxids, ...]) -> str:
    return "; ".join(f"{m.node}: [{', '.join(short_hex(t) for t in m.txids)}]" for m in seen)


def wait_mempools(
    nodes: Sequence[NodeProcess],
    what: str,
    accept: Callable[[tuple[str, ...]], bool],
    *,
    timeout_s: float = DEFAULT_WAIT_S,
) -> tuple[NodeTxids, ...]:
    """Until `accept` holds for the mempool of every node; the mempools."""
    return wait_until(
        what,
        lambda: mempools(nodes),
        lambda seen: all(accept(m.txids) for m in seen),
        timeout_s=timeout_s,
        show=_show_mempools,
    )


def unspent_outpoints(node: NodeProcess, outpoints: Sequence[OutPoint]) -> NodeOutpoints:
    """Which of `outpoints` are in the node's UTXO set (gettxout without the mempool)."""
    unspent = tuple(
        str(o)
        for o in outpoints
        if node.call("gettxout", hash256_hex(o.txid), o.n, False) is not None
    )
    return NodeOutpoints(node.name, unspent)


def utxo_summaries(nodes: Iterable[NodeProcess]) -> tuple[NodeUtxo, ...]:
    return tuple(
        NodeUtxo(node.name, UtxoSummary.from_json(node.call("gettxoutsetinfo"))) for node in nodes
    )
