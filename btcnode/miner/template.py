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

from btcnode.consensus.block import Block, BlockHeader, merkle_root
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import sha256d
from btcnode.consensus.pow_target import bits_to_target
from btcnode.consensus.script.ops import push_int
from btcnode.consensus.tx import Tx
from btcnode.miner.assemble import create_coinbase

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
        witness_root = None
        if self.commit_witness:  # BIP141: the coinbase's wtxid counts as all zeros
            witness_root = merkle_root([bytes(32)] + [tx.wtxid for tx in self.txs])[0]
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
