"""The btc-validate benchmark chain: generated once, deterministically, cached on disk.

Layout, on REGTEST, block `h` stamped `genesis time + 600 * h`:

- blocks 1-100: a coinbase only, paying `keys[0]`'s P2WPKH output;
- block 101: one fan-out transaction spends block 1's coinbase (mature there: 100
  confirmations) into `chains` coins, alternately P2PKH and P2WPKH;
- the `blocks` measured blocks 102, 103, ...: `chains` transactions each. Transaction `i` of
  measured block `k` spends chain `i`'s coin and pays two outputs: 5,000 sat to a seeded
  key and the change, which transaction `i` of block `k + 1` spends. The coin of chain `i`
  is P2PKH when `i + k` is even and P2WPKH when odd, so every measured block has exactly
  half P2PKH and half P2WPKH inputs, one signature each. Fee: 2,000 sat per transaction.
  When `chains * blocks` transactions of 5,000 + 2,000 sat would spend more than the one
  coinbase the fan-out splits (btc-sync's 500 x 2,000), every transaction pays 1,000 sat
  and a 1,000-sat fee instead (`spend_amounts`), still above dust and the relay fee.

Every measured input's `(compressed pubkey, DER signature, sighash)` is recorded for the
peer measurement. Keys come from a fixed seed and signatures are RFC 6979, so the same
parameters always give the same bytes; the cache file name carries the parameters and a
layout version. Generation signs on every core (chains are independent of each other).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import coincurve

from btcnode.consensus.block import Block, BlockHeader, merkle_root
from btcnode.consensus.params import REGTEST
from btcnode.consensus.pow_target import bits_to_target
from btcnode.consensus.serialize import ser_compact_size
from btcnode.consensus.sighash import (
    SIGHASH_ALL,
    PrecomputedTxData,
    signature_hash_legacy,
    signature_hash_witness_v0,
)
from btcnode.consensus.subsidy import block_subsidy
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.miner import scan_nonces
from btcnode.miner.assemble import BLOCK_VERSION, create_coinbase
from btcnode.signing import p2pkh_script_for, p2wpkh_script_for, sign_inputs
from common.runtime import write_file_atomic

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
LAYOUT_VERSION = 1  # bump when the layout above changes, so stale caches are not reused
KEY_SEED = b"opentrust btc-validate key "
KEY_COUNT = 64  # distinct signing keys; payments cycle through them
SETUP_BLOCKS = 101  # 100 coinbase-only blocks, then the fan-out once block 1's coinbase matures
BLOCK_SPACING_S = 600  # REGTEST's target spacing; block h is stamped genesis + 600 * h
PAYMENT_SAT = 5_000  # above the dust threshold of both output types
FEE_SAT = 2_000  # per measured transaction
FANOUT_FEE_SAT = 10_000
# The cheaper spend for long chains: P2PKH's dust threshold is 546 sat, and a 1-in-2-out
# spend is at most 226 vbytes, so 1,000 sat is over 4 sat/vB.
SMALL_PAYMENT_SAT = 1_000
SMALL_FEE_SAT = 1_000
TRIPLE_HEAD = struct.Struct("<33sB")  # pubkey, DER signature length; the sighash follows
_U32 = struct.Struct("<I")
MAGIC = b"opentrust-btc-validate\x00"


def seeded_keys(seed: bytes, count: int) -> list[coincurve.PrivateKey]:
    """`count` private keys, key i being SHA-256(seed || i as 4 big-endian bytes)."""
    return [
        coincurve.PrivateKey(hashlib.sha256(seed + i.to_bytes(4, "big")).digest())
        for i in range(count)
    ]


def keys() -> list[coincurve.PrivateKey]:
    return seeded_keys(KEY_SEED, KEY_COUNT)


def script_for(key: coincurve.PrivateKey, p2pkh: bool) -> bytes:
    """The P2PKH or P2WPKH output script of `key`'s compressed public key."""
    pubkey = key.public_key.format(compressed=True)
    return p2pkh_script_for(pubkey) if p2pkh else p2wpkh_script_for(pubkey)


def block_time(height: int) -> int:
    return REGTEST.genesis.header.time + BLOCK_SPACING_S * height


@dataclass(frozen=True, slots=True)
class BenchChain:
    """Serialized blocks 1.. in order, and the measured inputs' signature triples."""

    chains: int
    setup: tuple[bytes, ...]
    measured: tuple[bytes, ...]
    triples: tuple[tuple[bytes, bytes, bytes], ...]  # (pubkey, DER signature, sighash)

    @property
    def measured_inputs(self) -> int:
        return len(self.triples)


# -- one signed spend --------------------------------------------------------------------


def spend_amounts(chains: int, blocks: int) -> tuple[int, int]:
    """(payment, fee) of every measured transaction: the usual amounts when the fan-out's
    coins cover them for `blocks` blocks, the small ones otherwise."""
    per_chain = (block_subsidy(1, REGTEST) - FANOUT_FEE_SAT) // chains
    for payment, fee in ((PAYMENT_SAT, FEE_SAT), (SMALL_PAYMENT_SAT, SMALL_FEE_SAT)):
        if (payment + fee) * blocks < per_chain:
            return payment, fee
    raise ValueError(f"{chains} chains of {blocks} blocks cost more than one coinbase holds")


def _signed_spend(
    key: coincurve.PrivateKey, prevout: OutPoint, spent: TxOut, outputs: tuple[TxOut, ...]
) -> tuple[Tx, tuple[bytes, bytes, bytes]]:
    """A one-input transaction spending `spent` with `key`, and its signature triple."""
    unsigned = Tx(2, (TxIn(prevout),), outputs, 0)
    signed = sign_inputs(unsigned, [(key, spent)])
    pubkey = key.public_key.format(compressed=True)
    txdata = PrecomputedTxData(unsigned, [spent])
    if signed.vin[0].witness:
        digest = signature_hash_witness_v0(
            p2pkh_script_for(pubkey), unsigned, 0, spent.value, SIGHASH_ALL, txdata
        )
        sig = signed.vin[0].witness[0][:-1]
    else:
        digest = signature_hash_legacy(spent.script_pubkey, unsigned, 0, SIGHASH_ALL, txdata)
        script_sig = signed.vin[0].script_sig
        sig = script_sig[1 : 1 + script_sig[0] - 1]  # the first push, without the hash type
    return signed, (pubkey, sig, digest)


# -- the measured chains, signed in worker processes -------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    first_chain: int
    stop_chain: int
    fanout_txid: bytes
    coin_value: int
    blocks: int
    payment: int
    fee: int


# Per measured block: serialized transactions, txids, wtxids, signature triples.
_BlockPart = tuple[list[bytes], list[bytes], list[bytes], list[tuple[bytes, bytes, bytes]]]


def _chain_worker(job: _Job) -> list[_BlockPart]:
    """Chains `first_chain..stop_chain - 1` through every measured block."""
    all_keys = keys()
    parts: list[_BlockPart] = [([], [], [], []) for _ in range(job.blocks)]
    for i in range(job.first_chain, job.stop_chain):
        key = all_keys[i % KEY_COUNT]
        p2pkh = i % 2 == 0  # measured block k = 0 spends P2PKH when i + k is even
        prevout = OutPoint(job.fanout_txid, i)
        spent = TxOut(job.coin_value, script_for(key, p2pkh))
        for k in range(job.blocks):
            payee = all_keys[(i * 31 + k) % KEY_COUNT]
            change = TxOut(spent.value - job.payment - job.fee, script_for(key, not p2pkh))
            outputs = (TxOut(job.payment, script_for(payee, p2pkh)), change)
            tx, triple = _signed_spend(key, prevout, spent, outputs)
            raws, txids, wtxids, triples = parts[k]
            raws.append(tx.serialize())
            txids.append(tx.txid)
            wtxids.append(tx.wtxid)
            triples.append(triple)
            prevout, spent, p2pkh = OutPoint(tx.txid, 1), change, not p2pkh
    return parts


def _jobs(chains: int, blocks: int, fanout: Tx, pieces: int) -> list[_Job]:
    edges = [chains * j // pieces for j in range(pieces + 1)]
    value = fanout.vout[0].value
    payment, fee = spend_amounts(chains, blocks)
    return [
        _Job(edges[j], edges[j + 1], fanout.txid, value, blocks, payment, fee)
        for j in range(pieces)
        if edges[j] < edges[j + 1]
    ]


# -- blocks ------------------------------------------------------------------------------


def _coinbase_script() -> bytes:
    return script_for(keys()[0], p2pkh=False)


def block_bytes(
    height: int,
    prev_hash: bytes,
    raws: Sequence[bytes],
    txids: Sequence[bytes],
    wtxids: Sequence[bytes],
    fees: int,
) -> tuple[bytes, bytes]:
    """(serialized block, block hash) at `height` on `prev_hash`, solved at regtest bits."""
    witness_root = merkle_root([bytes(32), *wtxids])[0]
    value = block_subsidy(height, REGTEST) + fees
    coinbase = create_coinbase(height, _coinbase_script(), value, witness_root=witness_root)
    root = merkle_root([coinbase.txid, *txids])[0]
    bits = REGTEST.genesis.header.bits
    header = BlockHeader(BLOCK_VERSION, prev_hash, root, block_time(height), bits, 0)
    nonce, _ = scan_nonces(header.serialize()[:76], bits_to_target(bits), 0, 1 << 32)
    assert nonce is not None, "regtest bits are met by about every second nonce"
    header = header.with_nonce(nonce)
    body = ser_compact_size(1 + len(raws)) + coinbase.serialize() + b"".join(raws)
    return header.serialize() + body, header.hash


def _fanout(chains: int, coinbase_txid: bytes) -> Tx:
    """Block 1's coinbase split into `chains` coins, alternately P2PKH and P2WPKH."""
    all_keys = keys()
    value = (block_subsidy(1, REGTEST) - FANOUT_FEE_SAT) // chains
    outputs = tuple(
        TxOut(value, script_for(all_keys[i % KEY_COUNT], p2pkh=i % 2 == 0)) for i in range(chains)
    )
    spent = TxOut(block_subsidy(1, REGTEST), _coinbase_script())
    tx, _ = _signed_spend(all_keys[0], OutPoint(coinbase_txid, 0), spent, outputs)
    return tx


def _setup_blocks(chains: int) -> tuple[list[bytes], bytes, Tx]:
    """Blocks 1-101, the last block's hash, and the fan-out transaction in block 101."""
    blocks: list[bytes] = []
    prev = REGTEST.genesis_hash
    first_coinbase_txid = b""
    for height in range(1, SETUP_BLOCKS):
        raw, prev = block_bytes(height, prev, [], [], [], 0)
        blocks.append(raw)
        if height == 1:
            first_coinbase_txid = _coinbase_txid(raw)
    fanout = _fanout(chains, first_coinbase_txid)
    fee = block_subsidy(1, REGTEST) - sum(out.value for out in fanout.vout)
    raw, prev = block_bytes(
        SETUP_BLOCKS, prev, [fanout.serialize()], [fanout.txid], [fanout.wtxid], fee
    )
    blocks.append(raw)
    return blocks, prev, fanout


def _coinbase_txid(raw_block: bytes) -> bytes:
    return Block.deserialize(raw_block).txs[0].txid


def generate(chains: int, blocks: int, processes: int | None = None) -> BenchChain:
    """The whole chain, signing the measured transactions on `processes` cores."""
    if chains < 2 or chains % 2 or blocks < 1:
        raise ValueError(f"need an even number of chains >= 2 and a block, got {chains}, {blocks}")
    setup, prev, fanout = _setup_blocks(chains)
    workers = processes or os.cpu_count() or 1
    jobs = _jobs(chains, blocks, fanout, pieces=workers * 4)
    with multiprocessing.get_context().Pool(workers) as pool:
        results = pool.map(_chain_worker, jobs)
    measured: list[bytes] = []
    triples: list[tuple[bytes, bytes, bytes]] = []
    for k in range(blocks):
        raws = [raw for part in results for raw in part[k][0]]
        txids = [txid for part in results for txid in part[k][1]]
        wtxids = [wtxid for part in results for wtxid in part[k][2]]
        fees = spend_amounts(chains, blocks)[1] * chains
        raw, prev = block_bytes(SETUP_BLOCKS + 1 + k, prev, raws, txids, wtxids, fees)
        measured.append(raw)
        triples.extend(triple for part in results for triple in part[k][3])
    return BenchChain(chains, tuple(setup), tuple(measured), tuple(triples))


# -- the cache -----------------------------------------------------------------------------


def cache_path(chains: int, blocks: int, cache_dir: Path = CACHE_DIR) -> Path:
    return cache_dir / f"btc-validate-v{LAYOUT_VERSION}-{chains}x{blocks}.bin"


def encode(chain: BenchChain) -> bytes:
    head = struct.pack("<IIII", LAYOUT_VERSION, chain.chains, len(chain.setup), len(chain.measured))
    parts = [MAGIC, head]
    for raw in (*chain.setup, *chain.measured):
        parts += [_U32.pack(len(raw)), raw]
    parts.append(_U32.pack(len(chain.triples)))
    for pubkey, sig, digest in chain.triples:
        parts += [TRIPLE_HEAD.pack(pubkey, len(sig)), sig, digest]
    return b"".join(parts)


class CacheError(ValueError):
    """The cache file is not a chain of this layout (stale, truncated or foreign)."""


def decode(data: bytes) -> BenchChain:
    view = memoryview(data)
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise CacheError("bad magic")
    pos = len(MAGIC)
    version, chains, n_setup, n_measured = struct.unpack_from("<IIII", data, pos)
    if version != LAYOUT_VERSION:
        raise CacheError(f"layout {version}, expected {LAYOUT_VERSION}")
    pos += 16
    blocks = []
    for _ in range(n_setup + n_measured):
        (size,) = _U32.unpack_from(data, pos)
        blocks.append(bytes(view[pos + 4 : pos + 4 + size]))
        pos += 4 + size
    (count,) = _U32.unpack_from(data, pos)
    pos += 4
    triples = []
    for _ in range(count):
        pubkey, sig_len = TRIPLE_HEAD.unpack_from(data, pos)
        pos += TRIPLE_HEAD.size
        sig, digest = (
            bytes(view[pos : pos + sig_len]),
            bytes(view[pos + sig_len : pos + sig_len + 32]),
        )
        pos += sig_len + 32
        triples.append((pubkey, sig, digest))
    if pos != len(data):
        raise CacheError(f"{len(data) - pos} bytes left over (truncated or trailing data)")
    return BenchChain(chains, tuple(blocks[:n_setup]), tuple(blocks[n_setup:]), tuple(triples))


def load_or_generate(
    chains: int, blocks: int, cache_dir: Path = CACHE_DIR
) -> tuple[BenchChain, bool]:
    """The chain from the cache, or generated and cached; True when it was generated."""
    path = cache_path(chains, blocks, cache_dir)
    if path.exists():
        try:
            chain = decode(path.read_bytes())
            if chain.chains == chains and len(chain.measured) == blocks:
                return chain, False
        except (CacheError, struct.error):
            pass  # regenerate below
    chain = generate(chains, blocks)
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_file_atomic(path, encode(chain))
    return chain, True


Chain = TypeVar("Chain")


def load_described(load: Callable[[], tuple[Chain, bool]]) -> tuple[Chain, str]:
    """Run a benchmark's `load_or_generate`; the chain and, for its table, how it was had."""
    started = time.perf_counter()
    chain, generated = load()
    spent = time.perf_counter() - started
    return chain, f"generated in {spent:.0f} s" if generated else f"cached, read in {spent:.1f} s"
