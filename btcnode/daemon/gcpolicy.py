"""The garbage collector during initial sync: `SyncGc`.

Each connected block leaves thousands of long-lived objects behind (cached coins, undo
coins, index entries), none of them in a reference cycle. CPython's generational collector
would walk every one of them again in each older-generation collection; over 200 blocks of
2,000 transactions that was a fifth of the connect time of the validating process.

While the node is behind its best header, `SyncGc` freezes the collector's view after each
new tip (`gc.freeze()`: what is alive now is left out of later collections, and is still
freed by reference counting when it dies). When the node has caught up it unfreezes and
collects once, so cycles made during the sync are reclaimed then; `close` does the same.
The collector functions are injected so the policy can be tested without touching the
process's collector.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from btcnode.node import NodeEvent, TipChanged

__all__ = ["SyncGc"]


class SyncGc:
    """Freeze after each tip while syncing; unfreeze and collect once caught up."""

    __slots__ = ("_caught_up", "_collect", "_freeze", "_frozen", "_unfreeze")

    def __init__(
        self,
        caught_up: Callable[[], bool],
        *,
        freeze: Callable[[], None] = gc.freeze,
        unfreeze: Callable[[], None] = gc.unfreeze,
        collect: Callable[[], object] = gc.collect,
    ) -> None:
        self._caught_up = caught_up
        self._freeze, self._unfreeze, self._collect = freeze, unfreeze, collect
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def on_node_event(self, event: NodeEvent) -> None:
        if isinstance(event, TipChanged):
            self.tip_changed(syncing=not self._caught_up())

    def tip_changed(self, *, syncing: bool) -> None:
        if syncing:
            self._freeze()
            self._frozen = True
        else:
            self.close()

    def close(self) -> None:
        """Give the collector everything back and collect once (idempotent)."""
        if self._frozen:
            self._frozen = False
            self._unfreeze()
            self._collect()
