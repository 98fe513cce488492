"""Building regtest chains for the chainstate tests: blocks on any parent, spends, signed spends.

Blocks are assembled and solved with `btcnode.miner.assemble`; each block's time is its
parent's plus one second, so times always pass the median-time-past rule. Coinbases pay to
OP_TRUE unless told otherwise, which anything can spend with an empty scriptSig.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import coincurve

from btcnode.chain import Chainstate, ChainUpdate, ScriptChecker, UtxoStats
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST, ChainParams
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.miner.assemble import assemble_block, solve_block
from btcnode.signing import p2pkh_script_for, p2wpkh_script_for, sign_inputs
from common.store import MemoryStore

OP_TRUE = b"\x51"
NOW = REGTEST.genesis.header.time + 100_000_000  # far past every block time used here
# Regtest with coinbases spendable after one block: long enough chains for reorg tests
# without mining 100 blocks first.
QUICK_REGTEST = dataclasses.replace(REGTEST, name="regtest-quick-maturity", coinbase_maturity=1)


class ChainBuilder:
    """Blocks on any known parent; remembers each block's height and time."""

    def __init__(self, params: ChainParams = REGTEST) -> None:
        self.params = params
        genesis = params.genesis
        self._info: dict[bytes, tuple[int, int]] = {genesis.hash: (0, genesis.header.time)}

    def height(self, block_hash: bytes) -> int:
        return self._info[block_hash][0]

    def know(self, block_hash: bytes, height: int, time: int) -> None:
        """Learn a block built elsewhere (e.g. read back from a chainstate) to build on it."""
        self._info[block_hash] = (height, time)

    def block(
        self,
        parent: bytes,
        txs: Sequence[Tx] = (),
        *,
        fees: int = 0,
        script_pubkey: bytes = OP_TRUE,
        tag: bytes = b"",
        time_step: int = 1,
    ) -> Block:
        """A solved block on `parent`; `tag` makes siblings differ."""
        height, time = self._info[parent]
        block = solve_block(
            assemble_block(
                prev_hash=parent,
                height=height + 1,
                time=time + time_step,
                bits=self.params.genesis.header.bits,
                txs=txs,
                fees=fees,
                script_pubkey=script_pubkey,
                params=self.params,
                extra_nonce=tag,
            )
        )
        self._info[block.hash] = (height + 1, block.header.time)
        return block

    def chain(self, parent: bytes, count: int, *, tag: bytes = b"") -> list[Block]:
        blocks = []
        for _ in range(count):
            block = self.block(parent, tag=tag)
            blocks.append(block)
            parent = block.hash
        return blocks


def spend(
    prevouts: Sequence[tuple[bytes, int]],
    values: Sequence[int],
    *,
    script_pubkey: bytes = OP_TRUE,
    version: int = 2,
) -> Tx:
    """An unsigned transaction spending `prevouts` (OP_TRUE outputs) into `values`."""
    vin = tuple(TxIn(OutPoint(txid, n)) for txid, n in prevouts)
    vout = tuple(TxOut(value, script_pubkey) for value in values)
    return Tx(version, vin, vout)


def keys(count: int, seed: int = 1) -> list[coincurve.PrivateKey]:
    return [coincurve.PrivateKey((seed * 1000 + i + 1).to_bytes(32, "big")) for i in range(count)]


def script_for(key: coincurve.PrivateKey, kind: str) -> bytes:
    pubkey = key.public_key.format(compressed=True)
    return p2wpkh_script_for(pubkey) if kind == "p2wpkh" else p2pkh_script_for(pubkey)


def signed_spend(
    prevout: tuple[bytes, int],
    spent: TxOut,
    key: coincurve.PrivateKey,
    outputs: Sequence[TxOut],
) -> Tx:
    """A one-input transaction spending `spent` (P2PKH or P2WPKH of `key`), signed."""
    unsigned = Tx(2, (TxIn(OutPoint(*prevout)),), tuple(outputs))
    return sign_inputs(unsigned, [(key, spent)])


def new_chainstate(
    params: ChainParams = REGTEST, checker: ScriptChecker | None = None
) -> Chainstate:
    return Chainstate.open(MemoryStore(), params, checker=checker)


def feed(
    chainstate: Chainstate, blocks: Sequence[Block], *, allow_invalid: bool = False
) -> list[ChainUpdate]:
    """Process `blocks` in order; each must be accepted (not left as an orphan) and, unless
    `allow_invalid`, no block may fail to connect."""
    updates = []
    for block in blocks:
        update = chainstate.process_block(block, NOW)
        assert isinstance(update, ChainUpdate), f"{block.header.hash_hex} was not accepted"
        assert allow_invalid or not update.invalid, update.invalid
        updates.append(update)
    return updates


def active_blocks(chainstate: Chainstate) -> list[Block]:
    """The active chain's blocks above genesis, read back from the chainstate."""
    blocks = []
    for height in range(1, chainstate.tip_height + 1):
        block = chainstate.get_block(chainstate.block_hash_at(height))
        assert block is not None
        blocks.append(block)
    return blocks


def replay_stats(chainstate: Chainstate) -> UtxoStats:
    """The UTXO stats of a fresh chainstate fed only the active chain of `chainstate`."""
    fresh = new_chainstate(chainstate.params)
    feed(fresh, active_blocks(chainstate))
    assert fresh.tip_hash == chainstate.tip_hash
    return fresh.utxo_stats()


@functools.cache
def mature_chain() -> tuple[ChainBuilder, tuple[Block, ...]]:
    """A shared REGTEST builder and 101 coinbase-only blocks: block 1's coinbase can be spent
    in block 102, block h's in block h + 100."""
    builder = ChainBuilder()
    return builder, tuple(builder.chain(REGTEST.genesis.hash, 101))
