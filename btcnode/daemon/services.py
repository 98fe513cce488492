"""`NodeServices`: the node's stores, script checker, chainstate, mempool and `Node`, opened
from the data directory and closed in reverse order.

Opening (synchronous, before any socket is opened):
1. the chainstate's LevelDB and the mempool's LevelDB under `<datadir>/regtest/`;
2. the script checker: `ParallelScriptChecker` with `par - 1` worker processes (the node's
   own process checks too) when `par > 1`, else `SerialScriptChecker`;
3. `Chainstate.open` with the initial-sync flush policy (a flush every `IBD_FLUSH_BLOCKS`
   blocks), then `activate_best_chain` to finish a change a crash interrupted, then a flush;
4. the mempool, reloaded from its store (each stored transaction offered again in order),
   and the recorder that keeps the store equal to the pool from then on.

Durability: `durable()` flushes the chainstate. The process calls it before answering an
RPC that changed the chain, after each mined block, whenever the node is caught up with the
best header, and at shutdown; between those, a SIGKILL costs at most the blocks since the
last flush, which the chainstate reconnects from its stored blocks on the next start.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from btcnode.chain import CHAINSTATE_WRITE_BUFFER_BYTES, Chainstate, SerialScriptChecker
from btcnode.chain.flushing import IBD_FLUSH_BLOCKS, IBD_MAX_CACHE_BYTES, FlushPolicy
from btcnode.chain.types import ChainUpdate
from btcnode.consensus.params import ChainParams
from btcnode.daemon.layout import CHAINSTATE_DIR, MEMPOOL_DIR
from btcnode.mempool import Mempool
from btcnode.mempool_store import MempoolRecorder, MempoolStore, ReloadSummary, reload_mempool
from btcnode.node import Node
from common.runtime import DataDir
from common.store import LevelStore

if TYPE_CHECKING:
    from btcnode.chain.parallel import ParallelScriptChecker

    Checker = ParallelScriptChecker | SerialScriptChecker

__all__ = ["NodeServices", "OpenedNode", "make_checker"]


def make_checker(par: int) -> Checker:
    """`par` script-checking processes in all: the node's own plus `par - 1` workers."""
    if par > 1:
        from btcnode.chain.parallel import ParallelScriptChecker  # starts processes

        return ParallelScriptChecker(workers=par - 1)  # its workers ignore Ctrl-C
    return SerialScriptChecker()


@dataclass(frozen=True, slots=True)
class OpenedNode:
    """What opening found: the change `activate_best_chain` made and the mempool reload."""

    resumed: ChainUpdate
    reload: ReloadSummary


class NodeServices:
    """The open stores, checker, chainstate, mempool and node of one data directory."""

    __slots__ = ("_stack", "chain_store", "chainstate", "checker", "mempool_store", "node")

    def __init__(
        self,
        stack: contextlib.ExitStack,
        chain_store: LevelStore,
        mempool_store: MempoolStore,
        checker: Checker,
        node: Node,
    ) -> None:
        self._stack = stack
        self.chain_store = chain_store
        self.mempool_store = mempool_store
        self.checker = checker
        self.node = node
        self.chainstate = node.chainstate

    @classmethod
    def open(
        cls, datadir: DataDir, params: ChainParams, *, par: int, now: int
    ) -> tuple[NodeServices, OpenedNode]:
        """Open everything under `datadir` (the locked `<datadir>/regtest`)."""
        with contextlib.ExitStack() as stack:
            chain_store = stack.enter_context(
                LevelStore(
                    datadir.sub(CHAINSTATE_DIR), write_buffer_bytes=CHAINSTATE_WRITE_BUFFER_BYTES
                )
            )
            mempool_level = stack.enter_context(LevelStore(datadir.sub(MEMPOOL_DIR)))
            checker = make_checker(par)
            stack.callback(checker.close)
            policy = FlushPolicy(every_blocks=IBD_FLUSH_BLOCKS, max_cache_bytes=IBD_MAX_CACHE_BYTES)
            chainstate = Chainstate.open(chain_store, params, checker=checker, flush_policy=policy)
            resumed = chainstate.activate_best_chain()
            chainstate.flush()
            node = Node(chainstate, Mempool(), params)
            mempool_store = MempoolStore(mempool_level)
            reload = reload_mempool(node, mempool_store, now)
            node.subscribe(MempoolRecorder(mempool_store, node.mempool))
            services = cls(stack.pop_all(), chain_store, mempool_store, checker, node)
        return services, OpenedNode(resumed, reload)

    def durable(self) -> None:
        """Make everything the chainstate did so far survive a crash (one synced batch)."""
        self.chainstate.flush()

    @property
    def caught_up(self) -> bool:
        """The tip is the best header: no block the node knows of is waiting to connect."""
        return self.chainstate.tip_height >= self.chainstate.best_header.height

    def close(self) -> None:
        """Flush the chainstate, then close the checker and stores (reverse of opening)."""
        try:
            self.chainstate.flush()
        finally:
            self._stack.close()
