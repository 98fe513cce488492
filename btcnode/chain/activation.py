"""Accepting blocks and moving the active chain to the best one (Core's AcceptBlock,
ConnectTip, DisconnectTip and ActivateBestChain).

Durability contract: connecting or disconnecting a block changes memory (the coin cache,
pending undo data and index records); `flushing.flush` writes all of it with the tip in ONE
`WriteBatch` written with `sync=True`, after every block with the default `FlushPolicy`
(every_blocks=1), else every N blocks, over the cache budget, or on `Chainstate.flush()`.
The raw block and its index record are written when the block is accepted, before any flush
that can move the stored tip past it; LevelDB applies writes in order, so the synced flush
batch also makes them durable. Whenever the process dies, the store holds the tip of the
last flush, whose UTXO set and undo data are exactly those of the chain ending there;
reopening and `activate_best_chain` reconnect the stored blocks above it.

Activation: pick the best candidate (`find_most_work_chain`), disconnect down to the fork
point, connect up to the candidate. A block that fails to connect is marked failed (its
descendants too), nothing of it is written, and the search starts again, falling back to
the best chain that remains valid.
"""

from __future__ import annotations

from btcnode.chain._state import ChainData
from btcnode.chain.active import node_median_time_past
from btcnode.chain.blockstore import serialize_block, split_transactions
from btcnode.chain.coinsview import BlockCoinsView
from btcnode.chain.connect import (
    BlockContext,
    PreparedConnect,
    disconnect_block,
    finish_connect,
)
from btcnode.chain.encoding import BlockUndo, CorruptChainstate, decode_block_undo
from btcnode.chain.flushing import block_changed
from btcnode.chain.forkchoice import (
    find_most_work_chain,
    link_block_data,
    mark_invalid,
    valid_floor,
)
from btcnode.chain.headers import accept_header
from btcnode.chain.index import (
    BlockNode,
    StatusFlag,
    Validity,
    last_common_ancestor,
    with_validity,
)
from btcnode.chain.layout import undo_key
from btcnode.chain.types import ChainUpdate, InvalidBlock
from btcnode.consensus.block import HEADER_BYTES, Block
from btcnode.consensus.checks import check_block
from btcnode.consensus.contextual import contextual_check_block
from btcnode.consensus.errors import BlockResult, BlockValidationError, ChainMisuse
from common.store.api import WriteBatch


def accept_block(data: ChainData, block: Block, now: int, raw: bytes | None = None) -> BlockNode:
    """Check `block` and store it (Core's AcceptBlock); its parent must be indexed. `raw`,
    if given, is the serialization `block` was decoded from.

    Raises `BlockValidationError`; a block that breaks a rule (not merely a body that does
    not match its header, BLOCK_MUTATED) is marked failed so it is never fetched again.
    A block on the tip starts connecting (`PreparedConnect`) before its checks run, so the
    script checker works while they do; if the block fails them, that work is dropped.
    """
    node = accept_header(data.index, block.header, now, data.params)
    if node.has(StatusFlag.HAVE_DATA):
        data.persist_index()
        return node
    assert node.parent is not None, "the genesis block is stored when the chain is created"
    serialized = serialize_block(block) if raw is None else _split_raw(block, raw)
    if node.parent is data.active.tip:
        _drop_prepared(data)
        ctx = BlockContext(node.height, data.params, data.active.median_time_past)
        view = BlockCoinsView(data.coins)
        data.prepared = PreparedConnect(block, ctx, view, data.checker, serialized[1])
    try:
        check_block(block, data.params)
        contextual_check_block(block, node.height, node_median_time_past(node.parent), data.params)
    except BlockValidationError as err:
        _drop_prepared(data)
        if err.result is not BlockResult.MUTATED:
            mark_invalid(data.index, data.candidates, node)
        data.persist_index()
        raise
    batch = WriteBatch()
    data.blocks.put(batch, block, serialized)
    node.status |= StatusFlag.HAVE_DATA
    node.raise_validity(Validity.TRANSACTIONS)
    data.index.assign_sequence_id(node)
    data.add_dirty_index(batch)
    data.store.write(batch)
    link_block_data(data.index, data.candidates, node)
    return node


def _split_raw(block: Block, raw: bytes) -> tuple[bytes, tuple[bytes, ...]]:
    """`serialize_block(block)` from the bytes it was decoded from, checked cheaply."""
    if raw[:HEADER_BYTES] != block.header.serialize():
        raise ChainMisuse(f"raw bytes given with block {block.header.hash_hex} are another's")
    try:
        return raw, split_transactions(raw, block)
    except CorruptChainstate as err:
        raise ChainMisuse(f"raw bytes given with the block do not match it: {err}") from err


def _drop_prepared(data: ChainData) -> None:
    if data.prepared is not None:
        prepared, data.prepared = data.prepared, None
        prepared.abandon()


def _take_prepared(data: ChainData, node: BlockNode) -> PreparedConnect:
    """The first pass of connecting `node` on the tip: done already, or done now."""
    prepared, data.prepared = data.prepared, None
    if prepared is not None and prepared.block.hash == node.hash:
        return prepared
    if prepared is not None:
        prepared.abandon()
    stored = data.blocks.get(node.hash)
    ctx = BlockContext(node.height, data.params, data.active.median_time_past)
    view = BlockCoinsView(data.coins)
    return PreparedConnect(stored.block, ctx, view, data.checker, stored.tx_bytes)


def connect_tip(data: ChainData, node: BlockNode) -> Block:
    """Connect `node` (a child of the tip) in memory, then flush if the policy says so;
    raises on invalid blocks (nothing of the block is kept then)."""
    prepared = _take_prepared(data, node)
    result = finish_connect(prepared)
    data.coins.apply(prepared.view.changes)
    data.pending_undo[node.hash] = result.undo_bytes
    data.pending_undo_coins += result.inputs
    node.status = with_validity(node.status | StatusFlag.HAVE_UNDO, Validity.SCRIPTS)
    data.pending_index[node] = None
    data.active.push(node)
    block_changed(data)
    return prepared.block


def disconnect_tip(data: ChainData) -> Block:
    """Disconnect the tip in memory, then flush if the policy says so."""
    _drop_prepared(data)  # it was read against the tip that is going away
    node = data.active.tip
    if node.parent is None:
        raise CorruptChainstate("asked to disconnect the genesis block")
    stored = data.blocks.get(node.hash)
    view = BlockCoinsView(data.coins)
    disconnect_block(stored.block, node.height, _undo_of(data, node), view)
    data.coins.apply(view.changes)
    data.active.pop()
    block_changed(data)
    return stored.block


def _undo_of(data: ChainData, node: BlockNode) -> BlockUndo:
    """The undo data of an active block: unflushed, or stored."""
    raw_undo = data.pending_undo.get(node.hash)
    if raw_undo is None:
        raw_undo = data.store.get(undo_key(node.hash))
    if raw_undo is None:
        raise CorruptChainstate(f"no undo data for active block {node.header.hash_hex}")
    return decode_block_undo(raw_undo)


def activate_best_chain(data: ChainData, invalid: tuple[InvalidBlock, ...] = ()) -> ChainUpdate:
    """Move the active chain to the best valid candidate; the net change is returned.

    `invalid` are failures found before activation (orphans refused on arrival), reported
    with those found here.
    """
    start = data.active.tip
    failures = list(invalid)
    moved: dict[bytes, Block] = {}
    while True:
        target = find_most_work_chain(data.candidates, data.active)
        if target is data.active.tip:
            break
        if not _step_towards(data, target, failures, moved):
            data.candidates.rebuild(data.index, valid_floor(data.active.tip))
    _drop_prepared(data)
    data.candidates.prune(data.active.tip)
    data.persist_index()
    return _net_update(data, start, tuple(failures), moved)


def _step_towards(
    data: ChainData,
    target: BlockNode,
    failures: list[InvalidBlock],
    moved: dict[bytes, Block],
) -> bool:
    """Disconnect to the fork with `target`, connect towards it; False if a block failed.
    Every block disconnected or connected is added to `moved` by hash."""
    fork = last_common_ancestor(data.active.tip, target)
    while data.active.tip is not fork:
        block = disconnect_tip(data)
        moved[block.hash] = block
    for height in range(fork.height + 1, target.height + 1):
        node = target.ancestor(height)
        try:
            moved[node.hash] = connect_tip(data, node)
        except BlockValidationError as err:
            mark_invalid(data.index, data.candidates, node)
            data.persist_index()
            failures.append(InvalidBlock(node.hash, node.height, err))
            return False
    return True


def _net_update(
    data: ChainData,
    start: BlockNode,
    failures: tuple[InvalidBlock, ...],
    moved: dict[bytes, Block],
) -> ChainUpdate:
    """The net change from `start` to the tip. Only the active chain's connects and
    disconnects move it, so every block in the change is in `moved` (nothing is read back
    from the block store, whose cache a long activation outgrows)."""
    end = data.active.tip
    fork = last_common_ancestor(start, end)
    gone = []
    walk = start
    while walk is not fork:
        gone.append(moved[walk.hash])
        assert walk.parent is not None
        walk = walk.parent
    added = [moved[end.ancestor(height).hash] for height in range(fork.height + 1, end.height + 1)]
    return ChainUpdate(tuple(gone), tuple(added), end.hash, end.height, failures)
