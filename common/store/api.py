"""The storage interface with no implementation behind it: what sans-I/O cores import.

`from common.store.api import Store, WriteBatch` gives a core the protocol and the batch type
without reaching plyvel (the package's `__init__` also exports `LevelStore`), so the import
walker in tests/test_sans_io.py can tell a pure core from one that touches the disk.
"""

from common.store._batch import BatchOp, WriteBatch
from common.store._protocol import Store, StoreSnapshot, prefix_successor

__all__ = ["BatchOp", "Store", "StoreSnapshot", "WriteBatch", "prefix_successor"]
