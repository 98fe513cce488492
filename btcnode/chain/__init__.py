"""The chainstate: block index, fork choice, block storage and the UTXO set over one `Store`.

`Chainstate` is the entry point (see `btcnode.chain.chainstate`); the storage layout is in
`btcnode.chain.layout`, the durability contract in `btcnode.chain.activation`. The parallel
script checker lives in `btcnode.chain.parallel` (a driver: it starts processes) and is not
imported here, so importing this package starts nothing.
"""

from btcnode.chain.chainstate import Chainstate
from btcnode.chain.encoding import CorruptChainstate
from btcnode.chain.headers import MAX_HEADERS_PER_CALL
from btcnode.chain.index import BlockStatus, IndexEntry, StatusFlag, Validity
from btcnode.chain.layout import CHAINSTATE_WRITE_BUFFER_BYTES
from btcnode.chain.orphans import MAX_ORPHAN_BLOCKS, MAX_ORPHAN_BYTES, OrphanPool
from btcnode.chain.scriptcheck import ScriptChecker, SerialScriptChecker
from btcnode.chain.types import (
    BlockOutcome,
    ChainTip,
    ChainUpdate,
    InvalidBlock,
    TipStatus,
    UtxoStats,
)

__all__ = [
    "CHAINSTATE_WRITE_BUFFER_BYTES",
    "MAX_HEADERS_PER_CALL",
    "MAX_ORPHAN_BLOCKS",
    "MAX_ORPHAN_BYTES",
    "BlockOutcome",
    "BlockStatus",
    "ChainTip",
    "ChainUpdate",
    "Chainstate",
    "CorruptChainstate",
    "IndexEntry",
    "InvalidBlock",
    "OrphanPool",
    "ScriptChecker",
    "SerialScriptChecker",
    "StatusFlag",
    "TipStatus",
    "UtxoStats",
    "Validity",
]
