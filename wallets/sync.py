"""Following a node: scan its new blocks, follow its reorgs, track its mempool, and send
the journal again.

One `sync_wallet` does, in order:
1. check the node is on the wallet's chain (its block 0 is the network's genesis);
2. rewind: while the block hash the wallet scanned at its cursor differs from the node's
   block at that height, disconnect that block (`wallets._ledger.disconnect_block`); the
   disconnected blocks' transactions the node's mempool holds become unconfirmed;
3. scan forward from the cursor to the node's tip (getblockhash, getblock HASH 0), one
   batch per block; a block whose parent is not the cursor means the node reorganised
   while we scanned: go back to 2 (at most `MAX_SYNC_ROUNDS` times);
4. mempool: take the node's unconfirmed transactions that pay or spend the wallet; an
   incoming unconfirmed tx the node no longer has is ABANDONED;
5. resend the journal (`wallets.journal.resend_journal`), then one synced commit.
Blocks are committed without fsync as they are scanned (a crash loses only a rescan of
them: each batch moves the cursor with the block's records); the end of a sync is synced.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from btcnode.consensus.block import Block
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.rpc.errors import RpcErrorCode
from wallets._ledger import apply_tx, connect_block, disconnect_block, undo_tx
from wallets._node import (
    NodeClient,
    NodeRefused,
    NodeUnavailable,
    WrongChain,
    call_node,
    from_display_hex,
)
from wallets._records import TxStatus, WalletTx
from wallets.errors import WalletError
from wallets.journal import resend_journal
from wallets.scan import BlockMatch, scan_decoded_block, scan_tx
from wallets.state import RECENT_BLOCKS_KEPT, WalletState

__all__ = [
    "MAX_SYNC_ROUNDS",
    "NodeClient",
    "NodeRefused",
    "NodeUnavailable",
    "ReorgTooDeep",
    "SyncReport",
    "WrongChain",
    "sync_wallet",
]

MAX_SYNC_ROUNDS = 8  # the node reorganised under us this often in one sync: try again later


class ReorgTooDeep(WalletError):
    """The node's chain forks below the blocks whose hashes the wallet keeps."""

    def __init__(self, height: int) -> None:
        self.height = height
        super().__init__(
            f"the node's chain forks from the wallet's below height {height + 1}, deeper than "
            f"the {RECENT_BLOCKS_KEPT} blocks the wallet remembers; rescan the wallet"
        )


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync did: heights before and after, blocks scanned and disconnected, wallet
    txs added or confirmed, and the journal's resends (sent, dropped, refused for now)."""

    start_height: int
    tip_height: int
    tip_hash: bytes
    blocks_scanned: int
    blocks_disconnected: int
    touched: tuple[bytes, ...]
    rebroadcast: tuple[bytes, ...]
    dropped: tuple[bytes, ...]
    refused: tuple[tuple[bytes, str], ...]


@dataclass
class _Progress:
    touched: list[bytes]
    on_block: Callable[[int], None] | None
    scanned: int = 0
    disconnected: int = 0


def _block_hash(node: NodeClient, height: int) -> bytes | None:
    """The node's block at `height`, None above its tip."""
    try:
        return from_display_hex(call_node(node, "getblockhash", height))
    except NodeRefused as err:
        if err.code == RpcErrorCode.INVALID_PARAMETER:  # Core: "Block height out of range"
            return None
        raise


def _mempool(node: NodeClient) -> set[bytes]:
    answer = call_node(node, "getrawmempool")
    if not isinstance(answer, list):
        raise WalletError(f"getrawmempool answered {type(answer).__name__}, not a list")
    return {from_display_hex(txid) for txid in answer}


def check_chain(state: WalletState, node: NodeClient) -> None:
    genesis = _block_hash(node, 0)
    expected = state.params.genesis_hash
    if genesis != expected:
        raise WrongChain(state.params.name, expected, genesis or bytes(32))


def _rewind(state: WalletState, node: NodeClient, tip: int, progress: _Progress) -> None:
    """Disconnect the wallet's blocks the node's chain no longer has."""
    mempool: set[bytes] | None = None
    while state.cursor is not None:
        height, scanned_hash = state.cursor
        if height <= tip and _block_hash(node, height) == scanned_hash:
            return
        if height > 0 and height - 1 not in state.block_hashes:
            state.discard()
            raise ReorgTooDeep(height - 1)
        if mempool is None:
            mempool = _mempool(node)
        disconnect_block(state, height, mempool)
        progress.disconnected += 1
    state.commit(sync=False)


def _scan_with_gap(state: WalletState, raw: bytes) -> BlockMatch:
    """Scan; while a match uses an address near the end of its window, grow the window
    (BIP44 gap limit) and match again so later outputs to the new addresses are found. The
    block is decoded once, and matched again only if it pays one of the new scripts."""
    block = Block.deserialize(raw)
    while True:
        match = scan_decoded_block(block, state.by_script, state.watched)
        scripts = [s for m in match.matches for s in m.received_scripts]
        known = len(state.by_script)
        if not state.mark_used(scripts) or not _pays_any(block, _newest(state, known)):
            return match


def _newest(state: WalletState, known: int) -> set[bytes]:
    """The scripts derived after the first `known` (the script index keeps derivation order)."""
    return set(itertools.islice(reversed(state.by_script), len(state.by_script) - known))


def _pays_any(block: Block, scripts: set[bytes]) -> bool:
    return any(out.script_pubkey in scripts for tx in block.txs for out in tx.vout)


def _fetch_block(node: NodeClient, height: int) -> tuple[bytes, bytes] | None:
    """(hash, raw block) of the node's block at `height`, None above its tip."""
    block_hash = _block_hash(node, height)
    if block_hash is None:
        return None
    return block_hash, bytes.fromhex(call_node(node, "getblock", hash256_hex(block_hash), 0))


def _scan_forward(
    state: WalletState, node: NodeClient, tip: int, now: int, progress: _Progress
) -> bool:
    """Connect blocks up to `tip`; False if the node's chain moved under us.

    The next block is fetched on a helper thread while this one is scanned, so the node's
    answer time overlaps the wallet's work; every node call of the scan is made from that
    one thread, in height order."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wallet-fetch") as fetcher:
        pending = fetcher.submit(_fetch_block, node, state.tip_height + 1)
        while state.tip_height < tip:
            height = state.tip_height + 1
            fetched = pending.result()
            if fetched is None:
                return False
            if height < tip:
                pending = fetcher.submit(_fetch_block, node, height + 1)
            if not _connect_fetched(state, fetched, height, now, progress):
                return False
    return True


def _connect_fetched(
    state: WalletState, fetched: tuple[bytes, bytes], height: int, now: int, progress: _Progress
) -> bool:
    block_hash, raw = fetched
    match = _scan_with_gap(state, raw)
    if match.block_hash != block_hash:
        raise WalletError(
            f"the node sent block {hash256_hex(match.block_hash)} for height {height}"
        )
    if state.cursor is not None and match.prev_hash != state.cursor[1]:
        state.discard()
        return False
    progress.touched.extend(connect_block(state, match, height, now))
    state.commit(sync=False)
    progress.scanned += 1
    if progress.on_block is not None:
        progress.on_block(height)
    return True


def _replacement_pending(state: WalletState, wtx: WalletTx) -> bool:
    """A tx we replaced whose replacement is still journaled: the resend will evict it."""
    return wtx.status is TxStatus.REPLACED and wtx.replaced_by in state.journal


def _sync_mempool(
    state: WalletState, node: NodeClient, now: int, cache: dict[bytes, Tx]
) -> tuple[set[bytes], list[bytes]]:
    """Apply the node's unconfirmed wallet txs; abandon incoming ones it dropped."""
    mempool = _mempool(node)
    for txid in list(cache):
        if txid not in mempool:
            del cache[txid]
    for txid in mempool - cache.keys():
        try:
            cache[txid] = Tx.deserialize(
                bytes.fromhex(call_node(node, "getrawtransaction", hash256_hex(txid)))
            )
        except NodeRefused:
            continue  # left the mempool since getrawmempool
    touched: list[bytes] = []
    progress = True
    while progress:  # a child can come before its parent: go round until nothing new
        progress = False
        for txid, tx in cache.items():
            wtx = state.txs.get(txid)
            if wtx is not None and (wtx.status.is_applied or _replacement_pending(state, wtx)):
                continue
            if scan_tx(tx, state.by_script, state.watched) and apply_tx(state, tx, now):
                touched.append(txid)
                progress = True
    for wtx in list(state.txs.values()):
        unconfirmed = wtx.status is TxStatus.UNCONFIRMED
        if unconfirmed and wtx.txid not in mempool and wtx.txid not in state.journal:
            undo_tx(state, wtx.txid, TxStatus.ABANDONED)
    return mempool, touched


def sync_wallet(
    state: WalletState,
    node: NodeClient,
    now: int,
    mempool_cache: dict[bytes, Tx] | None = None,
    on_block: Callable[[int], None] | None = None,
) -> SyncReport:
    """Bring `state` up to the node's tip and mempool (see the module docstring);
    `mempool_cache` keeps the node's unconfirmed txs between syncs (fetched once each),
    `on_block(height)` is told of every block scanned."""
    start = state.tip_height
    check_chain(state, node)
    progress = _Progress([], on_block)
    for _ in range(MAX_SYNC_ROUNDS):
        tip = call_node(node, "getblockcount")
        _rewind(state, node, tip, progress)
        if _scan_forward(state, node, tip, now, progress):
            break
    else:
        raise NodeUnavailable(f"the node's chain kept changing during {MAX_SYNC_ROUNDS} rounds")
    mempool, touched = _sync_mempool(
        state, node, now, {} if mempool_cache is None else mempool_cache
    )
    resent = resend_journal(state, node, mempool)
    state.commit(sync=True)
    assert state.cursor is not None  # the node has at least its genesis block
    return SyncReport(
        start,
        state.tip_height,
        state.cursor[1],
        progress.scanned,
        progress.disconnected,
        tuple(progress.touched + touched),
        resent.sent,
        resent.dropped,
        resent.refused,
    )
