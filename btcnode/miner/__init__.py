"""Block assembly and mining: templates ordered by ancestor fee rate, coinbase, nonce grinding.

Pure parts only: `build_template` (Core's CreateNewBlock with addPackageTxs selection),
`BlockTemplate`, `select_packages`, `scan_nonces`, and the assembly helpers. The multi-core
miner lives in `btcnode.miner.cpu` (a driver: it starts processes and reads the clock) and is
not imported here, so importing this package starts nothing.
"""

from btcnode.miner._grind import NONCE_SPACE, scan_nonces
from btcnode.miner._select import (
    COINBASE_RESERVED_SIGOPS_COST,
    COINBASE_RESERVED_WEIGHT,
    DEFAULT_BLOCK_MAX_WEIGHT,
    DEFAULT_BLOCK_MIN_TX_FEE,
    PoolEntry,
    PoolView,
    Selection,
    select_packages,
)
from btcnode.miner.assemble import assemble_block, create_coinbase, solve_block
from btcnode.miner.template import (
    MAX_EXTRA_NONCE,
    BlockTemplate,
    MiningChain,
    build_template,
)

__all__ = [
    "COINBASE_RESERVED_SIGOPS_COST",
    "COINBASE_RESERVED_WEIGHT",
    "DEFAULT_BLOCK_MAX_WEIGHT",
    "DEFAULT_BLOCK_MIN_TX_FEE",
    "MAX_EXTRA_NONCE",
    "NONCE_SPACE",
    "BlockTemplate",
    "MiningChain",
    "PoolEntry",
    "PoolView",
    "Selection",
    "assemble_block",
    "build_template",
    "create_coinbase",
    "scan_nonces",
    "select_packages",
    "solve_block",
]
