"""Block templates: the next block's header fields, coinbase and transactions, before mining.

`build_template` is Core's CreateNewBlock: transactions chosen by ancestor fee rate
(`btcnode.miner._select`), a coinbase paying subsidy plus fees with the BIP34 height and the
BIP141 witness commitment, `time = max(median time past + 1, now)`, and bits from the
difficulty rule. A `BlockTemplate` is a frozen value; `block(extra_nonce)` builds the
unsolved block for one extra nonce, recomputing only the coinbase's merkle path, which is
what a miner does each time a 32-bit nonce space is spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from btcnode.consensus.block import Block, BlockHeader, witness_merkle_root
from btcnode.consensus.checks import legacy_sigop_count
from btcnode.consensus.coins import ChainView
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import sha256d
from btcnode.consensus.params import MAX_MONEY
from btcnode.consensus.pow import AncestorLookup, HeaderInfo, next_work_required
from btcnode.consensus.pow_target import bits_to_target
from btcnode.consensus.script.ops import push_int
from btcnode.consensus.subsidy import block_subsidy
from btcnode.consensus.tx import WITNESS_SCALE_FACTOR, Tx
from btcnode.miner._select import (
    COINBASE_RESERVED_SIGOPS_COST,
    COINBASE_RESERVED_WEIGHT,
    DEFAULT_BLOCK_MAX_WEIGHT,
    DEFAULT_BLOCK_MIN_TX_FEE,
    PoolView,
    select_packages,
)
from btcnode.miner.assemble import BLOCK_VERSION, create_coinbase

MAX_EXTRA_NONCE = (1 << 63) - 1  # the extra nonce is a script number of at most 8 bytes
MAX_COINBASE_SCRIPT_SIG = 100  # Core's CheckTransaction: a coinbase scriptSig is 2-100 bytes


def coinbase_merkle_branch(txids: list[bytes]) -> tuple[bytes, ...]:
    """The merkle siblings of leaf 0 (the coinbase) over `[coinbase] + txids`, bottom up.

    The odd-length rule is Core's: the last hash of a level is paired with itself.
    """
    branch: list[bytes] = []
    rest = list(txids)
    while rest:
        branch.append(rest[0])
        tail = rest[1:]
        if len(tail) % 2:
            tail.append(tail[-1])
        rest = [sha256d(tail[i] + tail[i + 1]) for i in range(0, len(tail), 2)]
    return tuple(branch)


def root_from_branch(leaf: bytes, branch: tuple[bytes, ...]) -> bytes:
    """The merkle root over leaf 0 with its `branch` of siblings."""
    node = leaf
    for sibling in branch:
        node = sha256d(node + sibling)
    return node


@dataclass(frozen=True, slots=True)
class BlockTemplate:
    """Everything the next block is made of, except its coinbase extra nonce and nonce.

    `fees` and `sigop_costs` are per transaction of `txs` (the coinbase excluded);
    `coinbase_value` is the subsidy plus the sum of `fees`.
    """

    version: int
    prev_hash: bytes
    height: int
    time: int
    bits: int
    coinbase_script: bytes
    coinbase_value: int
    txs: tuple[Tx, ...]
    fees: tuple[int, ...]
    sigop_costs: tuple[int, ...]
    commit_witness: bool = True
    _branch: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    _witness_root: bytes | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.prev_hash) != 32:
            raise ChainMisuse(f"prev_hash must be 32 bytes, got {len(self.prev_hash)}")
        if not len(self.txs) == len(self.fees) == len(self.sigop_costs):
            raise ChainMisuse(
                f"{len(self.txs)} transactions but {len(self.fees)} fees "
                f"and {len(self.sigop_costs)} sigop costs"
            )
        if self.height < 1 or self.coinbase_value < 0:
            raise ChainMisuse(f"height {self.height}, coinbase value {self.coinbase_value}")
        branch = coinbase_merkle_branch([tx.txid for tx in self.txs])
        object.__setattr__(self, "_branch", branch)
        witness_root = witness_merkle_root(self.txs) if self.commit_witness else None
        object.__setattr__(self, "_witness_root", witness_root)

    @property
    def total_fees(self) -> int:
        return sum(self.fees)

    @property
    def target(self) -> int:
        return bits_to_target(self.bits)

    def coinbase(self, extra_nonce: int = 0) -> Tx:
        """The coinbase for `extra_nonce` (0: Core's `height OP_0` scriptSig, nothing after)."""
        if not 0 <= extra_nonce <= MAX_EXTRA_NONCE:
            raise ChainMisuse(f"extra nonce {extra_nonce} outside 0..{MAX_EXTRA_NONCE}")
        extra = push_int(extra_nonce) if extra_nonce else b""
        return create_coinbase(
            self.height,
            self.coinbase_script,
            self.coinbase_value,
            witness_root=self._witness_root,
            extra_nonce=extra,
        )

    def _parts(self, extra_nonce: int, nonce: int) -> tuple[Tx, BlockHeader]:
        coinbase = self.coinbase(extra_nonce)
        root = root_from_branch(coinbase.txid, self._branch)
        header = BlockHeader(self.version, self.prev_hash, root, self.time, self.bits, nonce)
        return coinbase, header

    def header(self, extra_nonce: int = 0, nonce: int = 0) -> BlockHeader:
        """The header of `block(extra_nonce, nonce)`, without building the block."""
        return self._parts(extra_nonce, nonce)[1]

    def block(self, extra_nonce: int = 0, nonce: int = 0) -> Block:
        """The block for `extra_nonce` and `nonce` (unsolved unless the nonce happens to be)."""
        coinbase, header = self._parts(extra_nonce, nonce)
        return Block(header, (coinbase, *self.txs))


class MiningChain(ChainView, Protocol):
    """What a template needs of the chain beyond `ChainView`: the tip's header fields and
    the active chain's headers by height, for the difficulty rule (the chainstate has both)."""

    @property
    def tip(self) -> HeaderInfo: ...

    def block_hash_at(self, height: int) -> bytes: ...

    def get_index(self, block_hash: bytes) -> HeaderInfo | None: ...


def _ancestor_lookup(chain: MiningChain) -> AncestorLookup:
    def ancestor(height: int) -> HeaderInfo:
        info = chain.get_index(chain.block_hash_at(height))
        if info is None:
            raise ChainMisuse(f"the active chain has no header at height {height}")
        return info

    return ancestor


def _check_coinbase_fits(coinbase_script: bytes, height: int) -> None:
    """The coinbase, at its largest extra nonce, must fit the room selection reserved."""
    probe = create_coinbase(
        height,
        coinbase_script,
        MAX_MONEY,
        witness_root=bytes(32),
        extra_nonce=push_int(MAX_EXTRA_NONCE),
    )
    if probe.weight > COINBASE_RESERVED_WEIGHT:
        raise ChainMisuse(
            f"a coinbase paying to this {len(coinbase_script)}-byte script weighs "
            f"{probe.weight}, more than the {COINBASE_RESERVED_WEIGHT} reserved for it"
        )
    sigop_cost = legacy_sigop_count(probe) * WITNESS_SCALE_FACTOR
    if sigop_cost > COINBASE_RESERVED_SIGOPS_COST:
        raise ChainMisuse(
            f"the coinbase script costs {sigop_cost} sigops, more than the "
            f"{COINBASE_RESERVED_SIGOPS_COST} reserved for it"
        )


def build_template(
    chain: MiningChain,
    mempool: PoolView,
    coinbase_script: bytes,
    now: int,
    *,
    max_weight: int = DEFAULT_BLOCK_MAX_WEIGHT,
    min_fee_rate: int = DEFAULT_BLOCK_MIN_TX_FEE,
) -> BlockTemplate:
    """The next block on `chain`'s tip from `mempool`, paying `coinbase_script` (CreateNewBlock).

    `now` is the caller's (network-adjusted) time; the block's time is at least the tip's
    median time past plus one. `min_fee_rate` is in satoshis per 1000 vbytes.
    """
    params = chain.params
    height = chain.tip_height + 1
    _check_coinbase_fits(coinbase_script, height)
    mtp = chain.median_time_past(chain.tip_height)
    selection = select_packages(
        mempool,
        height=height,
        lock_time_cutoff=mtp,  # BIP113: lock times compare with the parent's median time past
        max_weight=max_weight,
        min_fee_rate=min_fee_rate,
    )
    block_time = max(mtp + 1, now)
    bits = next_work_required(chain.tip, block_time, params, _ancestor_lookup(chain))
    return BlockTemplate(
        version=BLOCK_VERSION,
        prev_hash=chain.tip_hash,
        height=height,
        time=block_time,
        bits=bits,
        coinbase_script=coinbase_script,
        coinbase_value=block_subsidy(height, params) + selection.total_fees,
        txs=selection.txs,
        fees=selection.fees,
        sigop_costs=selection.sigop_costs,
        commit_witness=height >= params.segwit_height,
    )
