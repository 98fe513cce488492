"""The in-process node core: one chainstate and one mempool kept consistent with each other.

`Node` is what the P2P and RPC layers drive. Every call that can move the tip also brings the
mempool along, in Core's order (ActivateBestChain with MaybeUpdateMempoolForReorg):

- blocks connected: their transactions leave the pool, and so does every pooled transaction
  that spends an input one of them spends, with its descendants ("conflict");
- blocks disconnected (a reorg, `invalidate_block`): their transactions are offered back to
  the pool; those the new chain confirms, double-spends or makes invalid are dropped.

Every change is also published as `NodeEvent`s to the listeners given to `subscribe`, in the
order it happened: blocks disconnected (tip first), blocks connected, the new tip, then the
mempool's removals and additions. The P2P layer announces from them and the notification
feed streams them, so neither polls.

Pure in the STYLE sense: time comes in as `now`, storage is the chainstate's `Store`, the
script checker is the chainstate's; `generate` grinds nonces in this process, which is
instant at regtest difficulty (the multi-core miner is `btcnode.miner.cpu`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from btcnode.chain import BlockOutcome, Chainstate, ChainUpdate
from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainError, ChainMisuse
from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import Tx
from btcnode.mempool import AcceptResult, Mempool, ReorgResult
from btcnode.mempool.results import Removal, RemovalReason
from btcnode.miner import NONCE_SPACE, BlockTemplate, build_template, scan_nonces
from btcnode.miner.template import MAX_EXTRA_NONCE

__all__ = [
    "BlockConnected",
    "BlockDisconnected",
    "Node",
    "NodeEvent",
    "NodeListener",
    "TipChanged",
    "TxAdded",
    "TxRemoved",
    "solve_template",
]


@dataclass(frozen=True, slots=True)
class BlockConnected:
    block: Block
    height: int


@dataclass(frozen=True, slots=True)
class BlockDisconnected:
    block: Block
    height: int


@dataclass(frozen=True, slots=True)
class TipChanged:
    """The active chain's tip after a change; `reorg_depth` blocks were disconnected."""

    tip_hash: bytes
    tip_height: int
    reorg_depth: int


@dataclass(frozen=True, slots=True)
class TxAdded:
    """A transaction entered the mempool (submitted, an orphan resolved, or back from a
    disconnected block)."""

    tx: Tx
    fee: int


@dataclass(frozen=True, slots=True)
class TxRemoved:
    """A transaction left the mempool (confirmed, conflicted, replaced, expired, evicted)."""

    txid: bytes
    wtxid: bytes
    reason: RemovalReason


NodeEvent = BlockConnected | BlockDisconnected | TipChanged | TxAdded | TxRemoved
NodeListener = Callable[[NodeEvent], None]  # called synchronously; must not raise


def solve_template(template: BlockTemplate) -> Block:
    """The template's block with the first (extra nonce, nonce) that meets its target."""
    target = template.target
    if target == 0:
        raise ChainMisuse(f"bits {template.bits:#x} encode no reachable target")
    for extra_nonce in range(MAX_EXTRA_NONCE + 1):
        header76 = template.header(extra_nonce).serialize()[:76]
        nonce, _ = scan_nonces(header76, target, 0, NONCE_SPACE)
        if nonce is not None:
            return template.block(extra_nonce, nonce)
    raise ChainMisuse("no extra nonce and nonce meet the target")  # 2**95 hashes: unreachable


class Node:
    """A chainstate and a mempool on one set of chain parameters."""

    __slots__ = ("_chainstate", "_listeners", "_mempool", "_params")

    def __init__(self, chainstate: Chainstate, mempool: Mempool, params: ChainParams) -> None:
        if chainstate.params != params:
            raise ChainMisuse(
                f"the chainstate is on {chainstate.params.name}, the node on {params.name}"
            )
        self._chainstate = chainstate
        self._mempool = mempool
        self._params = params
        self._listeners: list[NodeListener] = []

    def subscribe(self, listener: NodeListener) -> Callable[[], None]:
        """Call `listener` with every later `NodeEvent`; returns the function that stops it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _publish(self, event: NodeEvent) -> None:
        for listener in tuple(self._listeners):
            listener(event)

    @property
    def chainstate(self) -> Chainstate:
        return self._chainstate

    @property
    def mempool(self) -> Mempool:
        return self._mempool

    @property
    def params(self) -> ChainParams:
        return self._params

    # -- blocks -----------------------------------------------------------------------------

    def submit_block(
        self, block: Block, now: int, *, raw: bytes | None = None
    ) -> ChainUpdate | BlockOutcome:
        """Process `block` (Core's ProcessNewBlock) and update the mempool for the change.

        `raw`, if given, is the serialization `block` was decoded from (stored as is).
        Raises `BlockValidationError` for a block refused before it is stored; a block that
        fails to connect is in the update's `invalid`. An orphan waits for its parent.
        """
        update = self._chainstate.process_block(block, now, raw=raw)
        if isinstance(update, ChainUpdate):
            self._update_mempool(update, now)
        return update

    def invalidate_block(self, block_hash: bytes, now: int) -> ChainUpdate:
        """Core's invalidateblock: leave the block and its descendants, re-pool their txs."""
        update = self._chainstate.invalidate_block(block_hash)
        self._update_mempool(update, now)
        return update

    def reconsider_block(self, block_hash: bytes, now: int) -> ChainUpdate:
        """Core's reconsiderblock: clear the failure flags, then follow the best chain."""
        update = self._chainstate.reconsider_block(block_hash)
        self._update_mempool(update, now)
        return update

    def _update_mempool(self, update: ChainUpdate, now: int) -> None:
        """Connected blocks first, then the disconnected blocks' transactions (the mempool
        does both in Core's order; without a disconnect it only removes)."""
        if not update.changed:
            return
        reorg = self._mempool.update_for_reorg(update, self._chainstate, now)
        if self._listeners:
            self._publish_chain_change(update, reorg)

    def _publish_chain_change(self, update: ChainUpdate, reorg: ReorgResult) -> None:
        fork_height = update.tip_height - len(update.connected)
        old_tip_height = fork_height + len(update.disconnected)
        for i, block in enumerate(update.disconnected):
            self._publish(BlockDisconnected(block, old_tip_height - i))
        for i, block in enumerate(update.connected):
            self._publish(BlockConnected(block, fork_height + 1 + i))
        self._publish(TipChanged(update.tip_hash, update.tip_height, len(update.disconnected)))
        self._publish_removals(reorg.removed)
        for result in reorg.resurrected:
            self._publish_accept_result(result)

    def _publish_removals(self, removals: tuple[Removal, ...]) -> None:
        for removal in removals:
            tx = removal.entry.tx
            self._publish(TxRemoved(tx.txid, tx.wtxid, removal.reason))

    def _publish_accept_result(self, result: AcceptResult) -> None:
        """What one offer changed: replaced entries, the entry itself (if it is still in
        the pool), trimmed entries, then the orphans it unblocked, recursively."""
        self._publish_removals(result.replaced)
        if result.accepted and result.entry is not None and result.txid in self._mempool:
            self._publish(TxAdded(result.entry.tx, result.entry.fee))
        self._publish_removals(result.evicted)
        for orphan_result in result.orphan_results:
            self._publish_accept_result(orphan_result)

    # -- transactions -----------------------------------------------------------------------

    def submit_transaction(self, tx: Tx, now: int) -> AcceptResult:
        """Offer `tx` to the mempool against the active chain (Core's AcceptToMemoryPool)."""
        result = self._mempool.accept(tx, self._chainstate, now)
        if self._listeners:
            self._publish_accept_result(result)
        return result

    # -- mining -----------------------------------------------------------------------------

    def block_template(self, coinbase_script: bytes, now: int) -> BlockTemplate:
        """The next block on the tip, from the mempool (Core's CreateNewBlock)."""
        return build_template(self._chainstate, self._mempool, coinbase_script, now)

    def generate(self, n: int, coinbase_script: bytes, now: int) -> list[Block]:
        """Mine `n` blocks on the tip, each from a fresh template (regtest's generatetoaddress).

        Each block must become the new tip; one that does not is a bug in the template or the
        chainstate, raised as `ChainError` with the rule it broke.
        """
        if n < 0:
            raise ChainMisuse(f"cannot generate {n} blocks")
        blocks = []
        for _ in range(n):
            block = solve_template(self.block_template(coinbase_script, now))
            update = self.submit_block(block, now)
            if not isinstance(update, ChainUpdate) or update.tip_hash != block.hash:
                why = update.rejection(block.hash) if isinstance(update, ChainUpdate) else update
                raise ChainError(f"generated block {block.header.hash_hex} not connected: {why}")
            blocks.append(block)
        return blocks
