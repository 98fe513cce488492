"""Assembling a block from chosen transactions: the coinbase, merkle root, and a nonce.

`create_coinbase` writes the BIP34 height (then OP_0, as Core does, so the scriptSig is at
least two bytes) and, when any transaction has a witness or `commit_witness` is asked, the
BIP141 witness commitment with an all-zero reserved value. `solve_block` grinds the nonce
in-process, which is instant at regtest difficulty; the multi-core miner is `btcnode.miner.cpu`.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.consensus.block import (
    Block,
    BlockHeader,
    merkle_root,
    witness_commitment,
    witness_commitment_script,
    witness_merkle_root,
)
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import ChainParams
from btcnode.consensus.pow_target import bits_to_target
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.subsidy import block_subsidy, coinbase_height_prefix
from btcnode.consensus.tx import NULL_INDEX, NULL_TXID, OutPoint, Tx, TxIn, TxOut
from btcnode.miner._grind import NONCE_SPACE, scan_nonces

BLOCK_VERSION = 0x20000000  # BIP9 top bits with no deployment signalled
WITNESS_RESERVED_VALUE = bytes(32)


def create_coinbase(
    height: int,
    script_pubkey: bytes,
    value: int,
    *,
    witness_root: bytes | None = None,
    extra_nonce: bytes = b"",
) -> Tx:
    """A coinbase paying `value` to `script_pubkey`; commits to `witness_root` if given."""
    script_sig = coinbase_height_prefix(height) + bytes((Op.OP_0,)) + extra_nonce
    outputs = [TxOut(value, script_pubkey)]
    witness: tuple[bytes, ...] = ()
    if witness_root is not None:
        commitment = witness_commitment(witness_root, WITNESS_RESERVED_VALUE)
        outputs.append(TxOut(0, witness_commitment_script(commitment)))
        witness = (WITNESS_RESERVED_VALUE,)
    txin = TxIn(OutPoint(NULL_TXID, NULL_INDEX), script_sig, 0xFFFFFFFF, witness)
    return Tx(version=2, vin=(txin,), vout=tuple(outputs), lock_time=0)


def assemble_block(
    *,
    prev_hash: bytes,
    height: int,
    time: int,
    bits: int,
    txs: Sequence[Tx],
    fees: int,
    script_pubkey: bytes,
    params: ChainParams,
    commit_witness: bool = True,
    extra_nonce: bytes = b"",
) -> Block:
    """An unsolved block (nonce 0) on `prev_hash` claiming subsidy + `fees`."""
    witness_root = witness_merkle_root(txs) if commit_witness else None
    coinbase = create_coinbase(
        height,
        script_pubkey,
        block_subsidy(height, params) + fees,
        witness_root=witness_root,
        extra_nonce=extra_nonce,
    )
    all_txs = (coinbase, *txs)
    root, _ = merkle_root([tx.txid for tx in all_txs])
    header = BlockHeader(BLOCK_VERSION, prev_hash, root, time, bits, 0)
    return Block(header, all_txs)


def solve_block(block: Block, *, max_tries: int = NONCE_SPACE) -> Block:
    """`block` with the first nonce whose header hash meets its target."""
    header = block.header
    target = bits_to_target(header.bits)
    tries = min(max_tries, NONCE_SPACE)
    nonce, _ = scan_nonces(header.serialize()[:76], target, 0, tries)
    if nonce is None:
        raise ChainMisuse(f"no nonce in {max_tries} tries meets bits {header.bits:#x}")
    return Block(header.with_nonce(nonce), block.txs)
