"""The in-process node core: one chainstate and one mempool kept consistent with each other.

`Node` is what the P2P and RPC layers drive. Every call that can move the tip also brings the
mempool along, in Core's order (ActivateBestChain with MaybeUpdateMempoolForReorg):

- blocks connected: their transactions leave the pool, and so does every pooled transaction
  that spends an input one of them spends, with its descendants ("conflict");
- blocks disconnected (a reorg, `invalidate_block`): their transactions are offered back to
  the pool; those the new chain confirms, double-spends or makes invalid are dropped.

Pure in the STYLE sense: time comes in as `now`, storage is the chainstate's `Store`, the
script checker is the chainstate's; `generate` grinds nonces in this process, which is
instant at regtest difficulty (the multi-core miner is `btcnode.miner.cpu`).
"""

from __future__ import annotations

from btcnode.chain import BlockOutcome, Chainstate, ChainUpdate
from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainError, ChainMisuse
from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import Tx
from btcnode.mempool import AcceptResult, Mempool
from btcnode.miner import NONCE_SPACE, BlockTemplate, build_template, scan_nonces
from btcnode.miner.template import MAX_EXTRA_NONCE

__all__ = ["Node", "solve_template"]


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

    __slots__ = ("_chainstate", "_mempool", "_params")

    def __init__(self, chainstate: Chainstate, mempool: Mempool, params: ChainParams) -> None:
        if chainstate.params != params:
            raise ChainMisuse(
                f"the chainstate is on {chainstate.params.name}, the node on {params.name}"
            )
        self._chainstate = chainstate
        self._mempool = mempool
        self._params = params

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

    def submit_block(self, block: Block, now: int) -> ChainUpdate | BlockOutcome:
        """Process `block` (Core's ProcessNewBlock) and update the mempool for the change.

        Raises `BlockValidationError` for a block refused before it is stored; a block that
        fails to connect is in the update's `invalid`. An orphan waits for its parent.
        """
        update = self._chainstate.process_block(block, now)
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
        if update.changed:
            self._mempool.update_for_reorg(update, self._chainstate, now)

    # -- transactions -----------------------------------------------------------------------

    def submit_transaction(self, tx: Tx, now: int) -> AcceptResult:
        """Offer `tx` to the mempool against the active chain (Core's AcceptToMemoryPool)."""
        return self._mempool.accept(tx, self._chainstate, now)

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
