"""A small regtest chain for rule tests: real blocks from `btcnode.miner.assemble`, solved.

`TestChain` keeps headers (as `HeaderInfo` entries), median times past and a dict of coins,
and connects each block through every check of this package, so building a chain is itself
a test that valid blocks pass. Outputs pay to OP_TRUE, so spends need no signatures (script
verification is not part of these checks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from btcnode.consensus.block import Block, BlockHeader, merkle_root
from btcnode.consensus.checks import check_block, check_transaction
from btcnode.consensus.coins import Coin
from btcnode.consensus.contextual import (
    check_coinbase_value,
    check_tx_inputs,
    contextual_check_block,
    contextual_check_block_header,
    median_time_past,
)
from btcnode.consensus.params import REGTEST, ChainParams
from btcnode.consensus.pow import HeaderInfo, next_work_required
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.miner.assemble import assemble_block, solve_block

OP_TRUE = b"\x51"
SPACING = 600


@dataclasses.dataclass(frozen=True)
class Entry:
    """A block index entry: what the difficulty and time rules read."""

    height: int
    time: int
    bits: int


def resolve(block: Block, txs: Sequence[Tx] | None = None, **header: Any) -> Block:
    """`block` with other transactions or header fields, the merkle root redone, re-solved."""
    txs = tuple(block.txs if txs is None else txs)
    root, _ = merkle_root([tx.txid for tx in txs])
    fields: dict[str, Any] = {"merkle_root": root, "nonce": 0, **header}
    return solve_block(Block(dataclasses.replace(block.header, **fields), txs))


def spend(*prevouts: OutPoint, value: int, sequence: int = 0xFFFFFFFF, **tx: int) -> Tx:
    """A version-2 transaction spending `prevouts` (OP_TRUE coins) into one OP_TRUE output."""
    vin = tuple(TxIn(prevout, b"", sequence) for prevout in prevouts)
    return Tx(
        version=tx.get("version", 2),
        vin=vin,
        vout=(TxOut(value, OP_TRUE),),
        lock_time=tx.get("lock_time", 0),
    )


class TestChain:
    """A regtest branch from genesis with its coins; `fork()` copies it cheaply."""

    __test__ = False  # not a pytest class

    def __init__(self, params: ChainParams = REGTEST) -> None:
        self.params = params
        genesis = params.genesis.header
        self.entries = [Entry(0, genesis.time, genesis.bits)]
        self.hashes = [params.genesis.hash]
        self.coins: dict[OutPoint, Coin] = {}  # Core never adds genesis outputs

    def fork(self) -> TestChain:
        other = TestChain(self.params)
        other.entries, other.hashes = list(self.entries), list(self.hashes)
        other.coins = dict(self.coins)
        return other

    # -- what the checks read ------------------------------------------------------------

    @property
    def height(self) -> int:
        return len(self.entries) - 1

    @property
    def tip(self) -> Entry:
        return self.entries[-1]

    def ancestor(self, height: int) -> HeaderInfo:
        return self.entries[height]

    def mtp(self, height: int) -> int:
        """Median time past of the block at `height`."""
        return median_time_past([e.time for e in self.entries[: height + 1]])

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self.coins.get(outpoint)

    # -- building and connecting -----------------------------------------------------------

    def build(
        self,
        txs: Sequence[Tx] = (),
        *,
        fees: int = 0,
        time: int | None = None,
        commit_witness: bool = True,
        extra_nonce: bytes = b"",
    ) -> Block:
        """A solved block on the tip (not connected)."""
        time = self.tip.time + SPACING if time is None else time
        block = assemble_block(
            prev_hash=self.hashes[-1],
            height=self.height + 1,
            time=time,
            bits=next_work_required(self.tip, time, self.params, self.ancestor),
            txs=txs,
            fees=fees,
            script_pubkey=OP_TRUE,
            params=self.params,
            commit_witness=commit_witness,
            extra_nonce=extra_nonce,
        )
        return solve_block(block)

    def connect(self, block: Block, *, now: int | None = None) -> None:
        """Run every check on `block` as the next block, then apply it."""
        height = self.height + 1
        assert block.header.prev_block == self.hashes[-1]
        now = block.header.time if now is None else now
        check_block(block, self.params)
        prev_mtp = self.mtp(self.height)
        contextual_check_block_header(
            block.header, self.tip, prev_mtp, now, self.params, self.ancestor
        )
        contextual_check_block(block, height, prev_mtp, self.params)
        fees = 0
        for tx in block.txs[1:]:
            check_transaction(tx)
            fees += check_tx_inputs(tx, self, height, self.params)
            self._apply(tx, height)
        check_coinbase_value(block, fees, height, self.params)
        self._apply(block.txs[0], height)
        self.entries.append(Entry(height, block.header.time, block.header.bits))
        self.hashes.append(block.hash)

    def mine(self, count: int = 1, txs: Sequence[Tx] = (), *, fees: int = 0) -> list[Block]:
        blocks = []
        for i in range(count):
            block = self.build(txs if i == 0 else (), fees=fees if i == 0 else 0)
            self.connect(block)
            blocks.append(block)
        return blocks

    def _apply(self, tx: Tx, height: int) -> None:
        for txin in tx.vin:
            self.coins.pop(txin.prevout, None)
        for n, out in enumerate(tx.vout):
            self.coins[OutPoint(tx.txid, n)] = Coin(out, height, tx.is_coinbase())


def coinbase_outpoint(block: Block) -> OutPoint:
    return OutPoint(block.txs[0].txid, 0)


def header_with(header: BlockHeader, **fields: Any) -> BlockHeader:
    return dataclasses.replace(header, **fields)
