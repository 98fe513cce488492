"""Ordered bytes-to-bytes storage: one `Store` protocol, three implementations.

- `LevelStore`: on disk, LevelDB through plyvel; what peer processes use.
- `MemoryStore`: in memory, same semantics; for tests and hot simulation loops.
- `SimStore`: a `MemoryStore` that tracks synced writes, so the simulator can `crash()` it and
  lose exactly what a power loss would lose.

All three pass the same model-based test against a dict. Keys and values are `bytes`;
`WriteBatch` groups puts and deletes into one atomic write; `snapshot()` and `iterate()` read
a consistent point-in-time view.
"""

from common.store._batch import WriteBatch
from common.store._errors import StoreClosedError, StoreError, StoreTypeError
from common.store._level import LevelSnapshot, LevelStore
from common.store._memory import MemorySnapshot, MemoryStore
from common.store._protocol import Store, StoreSnapshot, prefix_successor
from common.store._sim import SimStore

__all__ = [
    "LevelSnapshot",
    "LevelStore",
    "MemorySnapshot",
    "MemoryStore",
    "SimStore",
    "Store",
    "StoreClosedError",
    "StoreError",
    "StoreSnapshot",
    "StoreTypeError",
    "WriteBatch",
    "prefix_successor",
]
