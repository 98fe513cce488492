"""Mempool policy: Core's defaults as named constants and one frozen `MempoolPolicy`.

Which Core this matches: the relay rules are Bitcoin Core 28's single-transaction
acceptance (no TRUC/v3 transactions, no package relay, no ephemeral dust, ancestor and
descendant limits rather than cluster limits). The fee floors are the current default,
100 sat/kvB for -minrelaytxfee and -incrementalrelayfee, lowered from 1,000 sat/kvB in
Core 29.1 (PR #33106). Data carrier outputs keep Core 29's limits (one OP_RETURN output of at
most 83 bytes): Core 30 allows several totalling 100,000 bytes, which a policy can select by
setting `max_datacarrier_bytes` and `permit_multi_op_return`.

BIP125 replacement follows the BIP as written: a transaction is replaceable when it or an
unconfirmed ancestor signals. Core 28 replaces any transaction (full RBF, -mempoolfullrbf
now always on); here that is `full_rbf`, off by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.consensus.errors import ChainMisuse
from btcnode.mempool.feerate import FeeRate

# Fee rates (sat/kvB).
DEFAULT_MIN_RELAY_TX_FEE = 100  # Core 29.1+: below this a transaction does not pay for relay
DEFAULT_INCREMENTAL_RELAY_FEE = 100  # Core 29.1+: the price of relaying a replacement or refill
DUST_RELAY_TX_FEE = 3000  # Core: an output worth less than spending it at this rate is dust
_MIN_RELAY_FEE_RATE = FeeRate(DEFAULT_MIN_RELAY_TX_FEE)
_INCREMENTAL_RELAY_FEE_RATE = FeeRate(DEFAULT_INCREMENTAL_RELAY_FEE)
_DUST_RELAY_FEE_RATE = FeeRate(DUST_RELAY_TX_FEE)

# Sizes.
MAX_STANDARD_TX_WEIGHT = 400_000  # Core: bounds the O(inputs * size) legacy sighash work
MIN_STANDARD_TX_NONWITNESS_SIZE = 65  # Core: 64-byte transactions look like merkle nodes
MAX_STANDARD_SCRIPTSIG_SIZE = 1650  # Core: a 15-of-15 P2SH multisig spend plus headroom
MAX_OP_RETURN_RELAY = 83  # Core <= 29: 80 bytes of data plus OP_RETURN and push opcodes
MAX_STANDARD_P2WSH_SCRIPT_SIZE = 3600  # Core: bounds witness script execution cost
MAX_STANDARD_P2WSH_STACK_ITEMS = 100  # Core: bounds the initial witness stack
MAX_STANDARD_P2WSH_STACK_ITEM_SIZE = 80  # Core: no data stuffing in P2WSH witness items
MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE = 80  # Core: the same bound for tapscript items
MAX_P2SH_SIGOPS = 15  # Core: a redeem script may not carry more signature checks
MAX_STANDARD_TX_SIGOPS_COST = 16_000  # Core: a fifth of the block sigop-cost limit
DEFAULT_BYTES_PER_SIGOP = 20  # Core: each sigop is charged this many vbytes at least
MAX_STANDARD_VERSION = 2  # Core 28 also takes 3 (TRUC, BIP431), whose rules are not here

# The pool.
DEFAULT_MAX_MEMPOOL_SIZE_BYTES = 300_000_000  # Core: -maxmempool=300 (MB)
DEFAULT_MEMPOOL_EXPIRY_SECONDS = 336 * 60 * 60  # Core: -mempoolexpiry=336 (two weeks)
DEFAULT_ANCESTOR_LIMIT = 25  # Core: bounds the work of ancestor-set updates
DEFAULT_ANCESTOR_SIZE_LIMIT_VBYTES = 101_000  # Core: 101 kvB, a standard tx plus headroom
DEFAULT_DESCENDANT_LIMIT = 25  # Core: bounds the work of descendant-set updates
DEFAULT_DESCENDANT_SIZE_LIMIT_VBYTES = 101_000  # Core: 101 kvB
EXTRA_DESCENDANT_TX_SIZE_LIMIT = 10_000  # Core: the CPFP carve-out child's size bound
MAX_REPLACEMENT_CANDIDATES = 100  # BIP125 rule 5: at most this many evictions
ROLLING_FEE_HALFLIFE_SECONDS = 12 * 60 * 60  # Core: the mempool min fee halves this often

# Orphans.
DEFAULT_MAX_ORPHAN_TRANSACTIONS = 100  # Core <= 29: -maxorphantx
DEFAULT_MAX_ORPHAN_WEIGHT = 10 * 404_000  # Core 30 reserves 404,000 WU per peer; ten peers
ORPHAN_TX_EXPIRE_SECONDS = 20 * 60  # Core: parents not found in 20 minutes will not come


@dataclass(frozen=True, slots=True)
class Limits:
    """Ancestor and descendant limits for one acceptance (Core's CTxMemPool::Limits)."""

    ancestor_count: int = DEFAULT_ANCESTOR_LIMIT
    ancestor_size_vbytes: int = DEFAULT_ANCESTOR_SIZE_LIMIT_VBYTES
    descendant_count: int = DEFAULT_DESCENDANT_LIMIT
    descendant_size_vbytes: int = DEFAULT_DESCENDANT_SIZE_LIMIT_VBYTES


@dataclass(frozen=True, slots=True)
class MempoolPolicy:
    """The local relay policy of one mempool; every field defaults to Core's default."""

    min_relay_fee: FeeRate = _MIN_RELAY_FEE_RATE
    incremental_relay_fee: FeeRate = _INCREMENTAL_RELAY_FEE_RATE
    dust_relay_fee: FeeRate = _DUST_RELAY_FEE_RATE
    max_standard_tx_weight: int = MAX_STANDARD_TX_WEIGHT
    max_size_bytes: int = DEFAULT_MAX_MEMPOOL_SIZE_BYTES
    expiry_seconds: int = DEFAULT_MEMPOOL_EXPIRY_SECONDS
    ancestor_count: int = DEFAULT_ANCESTOR_LIMIT
    ancestor_size_vbytes: int = DEFAULT_ANCESTOR_SIZE_LIMIT_VBYTES
    descendant_count: int = DEFAULT_DESCENDANT_LIMIT
    descendant_size_vbytes: int = DEFAULT_DESCENDANT_SIZE_LIMIT_VBYTES
    max_orphans: int = DEFAULT_MAX_ORPHAN_TRANSACTIONS
    max_orphan_weight: int = DEFAULT_MAX_ORPHAN_WEIGHT
    orphan_expiry_seconds: int = ORPHAN_TX_EXPIRE_SECONDS
    permit_bare_multisig: bool = True  # Core: -permitbaremultisig=1
    max_datacarrier_bytes: int | None = MAX_OP_RETURN_RELAY  # None: no OP_RETURN relayed
    permit_multi_op_return: bool = False  # Core <= 29 relays one data carrier output
    max_standard_p2wsh_script_size: int = MAX_STANDARD_P2WSH_SCRIPT_SIZE
    max_standard_p2wsh_stack_items: int = MAX_STANDARD_P2WSH_STACK_ITEMS
    max_standard_p2wsh_stack_item_size: int = MAX_STANDARD_P2WSH_STACK_ITEM_SIZE
    bytes_per_sigop: int = DEFAULT_BYTES_PER_SIGOP
    require_standard: bool = True  # False is Core's -acceptnonstdtxn=1
    full_rbf: bool = False  # True: conflicts are replaceable without BIP125 signalling

    def __post_init__(self) -> None:
        for name in (
            "max_standard_tx_weight",
            "max_size_bytes",
            "expiry_seconds",
            "ancestor_count",
            "ancestor_size_vbytes",
            "descendant_count",
            "descendant_size_vbytes",
            "max_orphans",
            "max_orphan_weight",
            "orphan_expiry_seconds",
            "max_standard_p2wsh_script_size",
            "max_standard_p2wsh_stack_items",
            "max_standard_p2wsh_stack_item_size",
            "bytes_per_sigop",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ChainMisuse(f"policy {name} must be a non-negative int, got {value!r}")
        for rate in (self.min_relay_fee, self.incremental_relay_fee, self.dust_relay_fee):
            if rate.sat_per_kvb < 0:
                raise ChainMisuse(f"policy fee rates must not be negative, got {rate}")
        carrier = self.max_datacarrier_bytes
        if carrier is not None and (not isinstance(carrier, int) or carrier < 0):
            raise ChainMisuse(f"max_datacarrier_bytes must be None or >= 0, got {carrier!r}")

    @property
    def limits(self) -> Limits:
        return Limits(
            self.ancestor_count,
            self.ancestor_size_vbytes,
            self.descendant_count,
            self.descendant_size_vbytes,
        )
