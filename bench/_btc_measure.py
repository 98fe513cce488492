"""The btc-validate measurements that need no chainstate: the peer's raw signature checks and
the parse of a 1,000,000-byte block.

- `peer_verify`: libsecp256k1 through coincurve, one core, over the exact
  `(pubkey, DER signature, sighash)` triples of the measured inputs, each call
  `coincurve.PublicKey(pubkey).verify(sig, sighash, hasher=None)` (key parsing included, as a
  node parses the key it finds in the script). Every check must succeed.
- `parse_block`: `Block.deserialize` of a block serialized to exactly 1,000,000 bytes, built
  from the benchmark's own transactions (the gap is filled by one OP_RETURN output of the
  coinbase), then every txid read; the txid is computed while parsing, so this is the
  cost of both. Best of `PARSE_ROUNDS`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import coincurve

from btcnode.consensus.block import Block, BlockHeader, merkle_root, witness_merkle_root
from btcnode.consensus.serialize import ser_compact_size
from btcnode.consensus.tx import Tx, TxOut
from btcnode.miner.assemble import BLOCK_VERSION, create_coinbase

PARSE_BLOCK_BYTES = 1_000_000  # the block size for the parse figure
PARSE_ROUNDS = 5  # best of: parse time is short and noisy on a shared machine
OP_RETURN = 0x6A


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds


@dataclass(frozen=True, slots=True)
class Throughput:
    """Blocks and inputs validated in `seconds`."""

    blocks: int
    inputs: int
    seconds: float

    @property
    def blocks_per_s(self) -> float:
        return self.blocks / self.seconds

    @property
    def inputs_per_s(self) -> float:
        return self.inputs / self.seconds


def peer_verify(triples: Sequence[tuple[bytes, bytes, bytes]]) -> Rate:
    """coincurve's verification rate on one core over `triples`."""
    public_key = coincurve.PublicKey
    started = time.perf_counter()
    valid = 0
    for pubkey, sig, digest in triples:
        valid += public_key(pubkey).verify(sig, digest, hasher=None)
    seconds = time.perf_counter() - started
    if valid != len(triples):
        raise RuntimeError(f"only {valid} of {len(triples)} signatures verified")
    return Rate(len(triples), seconds)


def _padded_coinbase(gap: int) -> TxOut:
    """An OP_RETURN output whose serialization is exactly `gap` bytes."""
    for prefix in (1, 3, 5):  # CompactSize widths for lengths < 253, < 65536, < 2**32
        script_len = gap - 8 - prefix
        if len(ser_compact_size(script_len)) == prefix and script_len >= 1:
            return TxOut(0, bytes((OP_RETURN,)) + bytes(script_len - 1))
    raise ValueError(f"no output serializes to exactly {gap} bytes")


def million_byte_block(source_blocks: Sequence[bytes], size: int = PARSE_BLOCK_BYTES) -> bytes:
    """A block of exactly `size` bytes made of the transactions of `source_blocks`."""
    txs: list[Tx] = []
    total = 80 + 3 + 300  # header, a 3-byte transaction count, room for the coinbase
    for raw in source_blocks:
        for tx in Block.deserialize(raw).txs[1:]:
            if total + tx.total_size + 300 > size:
                break
            txs.append(tx)
            total += tx.total_size
    witness_root = witness_merkle_root(txs)
    plain = create_coinbase(1, b"\x51", 0, witness_root=witness_root)
    body_without_pad = 80 + len(ser_compact_size(len(txs) + 1)) + plain.total_size
    body_without_pad += sum(tx.total_size for tx in txs)
    pad = _padded_coinbase(size - body_without_pad)
    coinbase = Tx(plain.version, plain.vin, (*plain.vout, pad), plain.lock_time)
    root = merkle_root([coinbase.txid] + [tx.txid for tx in txs])[0]
    header = BlockHeader(BLOCK_VERSION, bytes(32), root, 0, 0x207FFFFF, 0)
    raw = Block(header, (coinbase, *txs)).serialize()
    if len(raw) != size:
        raise RuntimeError(f"built a {len(raw)}-byte block, wanted {size}")
    return raw


def parse_block(raw: bytes, rounds: int = PARSE_ROUNDS) -> tuple[float, int]:
    """(best seconds to deserialize `raw` and read every txid, transaction count)."""
    best = float("inf")
    count = 0
    for _ in range(rounds):
        started = time.perf_counter()
        block = Block.deserialize(raw)
        txids = [tx.txid for tx in block.txs]
        best = min(best, time.perf_counter() - started)
        count = len(txids)
    return best, count
