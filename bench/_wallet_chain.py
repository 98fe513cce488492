"""The wallet-rescan benchmark chain: generated once, deterministically, cached on disk.

Layout, on REGTEST, block `h` stamped `genesis time + 600 * h` (`_btc_chain.block_time`):

- blocks 1-100: a coinbase only, paying the btc-validate funding key (`_btc_chain.keys()[0]`);
- block 101: one fan-out transaction spends block 1's coinbase into `chains` chain coins
  (alternately P2PKH and P2WPKH) and one funder coin (P2WPKH) holding the rest;
- the `blocks` measured blocks 102, 103, ...: `txs_per_block` transactions each, of which
  `wallet_per_block` are the wallet lane and the rest one spend per chain. Chain `i`'s
  transaction spends its coin and pays 5,000 sat to a fresh random script (P2PKH or P2WPKH,
  alternating) and the change back to its key, input type alternating per block, as in
  btc-validate. The lane's slots are, in order: a spend of a wallet coin received at least
  `SPEND_DELAY_BLOCKS` earlier (the first `SPEND_SLOTS` slots, when such a coin exists;
  signed with the wallet's key, paying everything but the fee to a random script), or else
  a receive (the funder coin pays a wallet address and its change back to itself).

The wallet is `MNEMONIC` (BIP39's public all-"abandon" vector), BIP84 account 0, receive
chain. Receives use the next index, sometimes after skipping 1 to `MAX_SKIP` indices and
sometimes reusing an index already paid, so there are never `GAP_LIMIT` unused indices
before a used one, as a wallet handing out addresses in order would leave them. What the
wallet must find is recorded as it is generated (`WalletExpectation`).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import coincurve

from bench import _btc_chain
from bench._btc_chain import script_for
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.consensus.script.ops import p2pkh_script, p2wpkh_script
from btcnode.consensus.subsidy import block_subsidy
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.signing import p2wpkh_script_for, sign_inputs
from common.runtime import write_file_atomic
from wallets.accounts import RECEIVE, AddressType, account_key
from wallets.bip39 import mnemonic_to_seed

LAYOUT_VERSION = 1  # bump when the layout above changes, so stale caches are not reused
MNEMONIC = " ".join(["abandon"] * 11 + ["about"])  # BIP39's first English test vector
KEY_SEED = b"opentrust wallet-rescan key "
KEY_COUNT = 64  # distinct chain keys; chain i signs with key i % KEY_COUNT
SETUP_BLOCKS = _btc_chain.SETUP_BLOCKS  # 100 coinbase-only blocks, then the fan-out
GAP_LIMIT = 20  # BIP44 "Address gap limit"
MAX_SKIP = 5  # indices a receive may skip, well inside the gap limit
SKIP_PERCENT = 10  # of receives that skip indices
REUSE_PERCENT = 10  # of receives paying an index already paid
SPEND_SLOTS = 2  # lane slots per block that spend a wallet coin when one is old enough
SPEND_DELAY_BLOCKS = 3  # a wallet coin is spent at least this many blocks after it arrived
CHAIN_PAYMENT_SAT = 5_000  # above the dust threshold of both output types
CHAIN_FEE_SAT = 2_000  # a 1-in-2-out P2PKH spend is at most 226 vB: over 8 sat/vB
LANE_FEE_SAT = 1_000  # lane spends are P2WPKH, at most 141 vB: over 7 sat/vB
CHAIN_RESERVE_SAT = 10_000  # left in each chain coin after its last spend
FANOUT_FEE_SAT = 10_000
MIN_RECEIVE_SAT, MAX_RECEIVE_SAT = 10_000, 1_000_000  # a spend of the smallest leaves 9,000
MAGIC = b"opentrust-wallet-rescan\x00"
_U32 = struct.Struct("<I")


def chain_keys() -> list[coincurve.PrivateKey]:
    return _btc_chain.seeded_keys(KEY_SEED, KEY_COUNT)


def _random_script(rng: random.Random, p2pkh: bool) -> bytes:
    """An output script of a key nobody here holds: a random 20-byte hash."""
    digest = rng.randbytes(20)
    return p2pkh_script(digest) if p2pkh else p2wpkh_script(digest)


def wallet_scripts(count: int, mnemonic: str = MNEMONIC) -> list[bytes]:
    """The scriptPubKeys of receive addresses 0..count-1 of BIP84 account 0."""
    account = account_key(mnemonic_to_seed(mnemonic), AddressType.P2WPKH, REGTEST)
    receive = account.derive_child(RECEIVE).neuter()
    return [p2wpkh_script_for(receive.derive_child(i).public_key) for i in range(count)]


# -- what the wallet must find -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receive:
    txid: bytes
    vout: int
    value: int
    index: int  # the receive address index paid
    height: int


@dataclass(frozen=True, slots=True)
class Spend:
    txid: bytes
    spent: OutPoint
    value: int  # of the coin spent
    height: int


@dataclass(frozen=True, slots=True)
class WalletExpectation:
    """Every wallet transaction the generator wrote, in chain order within each kind."""

    receives: tuple[Receive, ...]
    spends: tuple[Spend, ...]

    @property
    def balance(self) -> int:
        spent = {spend.spent for spend in self.spends}
        return sum(r.value for r in self.receives if OutPoint(r.txid, r.vout) not in spent)

    @property
    def unspent(self) -> frozenset[OutPoint]:
        spent = {spend.spent for spend in self.spends}
        return frozenset(OutPoint(r.txid, r.vout) for r in self.receives) - spent

    @property
    def txids(self) -> frozenset[bytes]:
        return frozenset([*(r.txid for r in self.receives), *(s.txid for s in self.spends)])

    @property
    def address_count(self) -> int:
        """Addresses a rescan must watch: the highest index paid, then a full gap."""
        return max((r.index for r in self.receives), default=-1) + 1 + GAP_LIMIT

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "receives": [
                    [r.txid.hex(), r.vout, r.value, r.index, r.height] for r in self.receives
                ],
                "spends": [
                    [s.txid.hex(), s.spent.txid.hex(), s.spent.n, s.value, s.height]
                    for s in self.spends
                ],
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> WalletExpectation:
        doc = json.loads(data)
        return cls(
            tuple(Receive(bytes.fromhex(t), v, a, i, h) for t, v, a, i, h in doc["receives"]),
            tuple(
                Spend(bytes.fromhex(t), OutPoint(bytes.fromhex(p), n), a, h)
                for t, p, n, a, h in doc["spends"]
            ),
        )


@dataclass(frozen=True, slots=True)
class WalletChain:
    """Serialized blocks 1.. in order, and what a rescan of them must find."""

    txs_per_block: int
    wallet_per_block: int
    setup: tuple[bytes, ...]
    measured: tuple[bytes, ...]
    expected: WalletExpectation

    @property
    def height(self) -> int:
        return len(self.setup) + len(self.measured)


# -- signing, in worker processes --------------------------------------------------------

_Signed = tuple[bytes, bytes, bytes]  # serialized transaction, txid, wtxid


def _signed(
    key: coincurve.PrivateKey, prevout: OutPoint, spent: TxOut, outs: Sequence[TxOut]
) -> Tx:
    return sign_inputs(Tx(2, (TxIn(prevout),), tuple(outs), 0), [(key, spent)])


def _entry(tx: Tx) -> _Signed:
    return tx.serialize(), tx.txid, tx.wtxid


@dataclass(frozen=True, slots=True)
class _ChainJob:
    first_chain: int
    stop_chain: int
    fanout_txid: bytes
    coin_value: int
    blocks: int


def _chain_worker(job: _ChainJob) -> list[list[_Signed]]:
    """Chains `first_chain..stop_chain - 1` through every measured block."""
    keys = chain_keys()
    parts: list[list[_Signed]] = [[] for _ in range(job.blocks)]
    for i in range(job.first_chain, job.stop_chain):
        rng = random.Random(f"wallet-rescan chain {i}")
        key, p2pkh = keys[i % KEY_COUNT], i % 2 == 0
        prevout, spent = (
            OutPoint(job.fanout_txid, i),
            TxOut(job.coin_value, script_for(key, p2pkh)),
        )
        for k in range(job.blocks):
            change = TxOut(
                spent.value - CHAIN_PAYMENT_SAT - CHAIN_FEE_SAT, script_for(key, not p2pkh)
            )
            payment = TxOut(CHAIN_PAYMENT_SAT, _random_script(rng, (i + k) % 2 == 0))
            tx = _signed(key, prevout, spent, (payment, change))
            parts[k].append(_entry(tx))
            prevout, spent, p2pkh = OutPoint(tx.txid, 1), change, not p2pkh
    return parts


@dataclass(frozen=True, slots=True)
class _LaneJob:
    funder: OutPoint
    funder_value: int
    blocks: int
    wallet_per_block: int
    mnemonic: str


@dataclass(frozen=True, slots=True)
class _LaneResult:
    parts: list[list[_Signed]]
    expected: WalletExpectation


class _Lane:
    """The wallet lane's state while it is written block by block."""

    def __init__(self, job: _LaneJob) -> None:
        self.rng = random.Random("wallet-rescan lane")
        account = account_key(mnemonic_to_seed(job.mnemonic), AddressType.P2WPKH, REGTEST)
        self.receive_chain = account.derive_child(RECEIVE)
        self.keys: dict[int, coincurve.PrivateKey] = {}
        self.funder_key = chain_keys()[0]
        self.funder = (job.funder, TxOut(job.funder_value, script_for(self.funder_key, False)))
        self.coins: list[tuple[OutPoint, TxOut, int, int]] = []  # outpoint, output, index, block
        self.used: list[int] = []
        self.receives: list[Receive] = []
        self.spends: list[Spend] = []

    def key(self, index: int) -> coincurve.PrivateKey:
        if index not in self.keys:
            secret = self.receive_chain.derive_child(index).private_key
            self.keys[index] = coincurve.PrivateKey(secret)
        return self.keys[index]

    def next_index(self) -> int:
        if self.used and self.rng.randrange(100) < REUSE_PERCENT:
            return self.rng.choice(self.used)
        skip = self.rng.randint(1, MAX_SKIP) if self.rng.randrange(100) < SKIP_PERCENT else 0
        index = (max(self.used) + 1 if self.used else 0) + skip
        self.used.append(index)
        return index

    def receive(self, height: int, block: int) -> Tx:
        index = self.next_index()
        amount = self.rng.randint(MIN_RECEIVE_SAT, MAX_RECEIVE_SAT)
        prevout, spent = self.funder
        change_value = spent.value - amount - LANE_FEE_SAT
        if change_value < MIN_RECEIVE_SAT:
            raise ValueError("the funder coin ran out; the chain is too long for one coinbase")
        pay = TxOut(amount, p2wpkh_script_for(self.key(index).public_key.format(compressed=True)))
        change = TxOut(change_value, spent.script_pubkey)
        vout = self.rng.randrange(2)  # the wallet's output is first or second
        tx = _signed(self.funder_key, prevout, spent, (pay, change) if vout == 0 else (change, pay))
        self.funder = (OutPoint(tx.txid, 1 - vout), change)
        self.coins.append((OutPoint(tx.txid, vout), pay, index, block))
        self.receives.append(Receive(tx.txid, vout, amount, index, height))
        return tx

    def spend(self, height: int, block: int) -> Tx | None:
        ripe = [n for n, coin in enumerate(self.coins) if coin[3] <= block - SPEND_DELAY_BLOCKS]
        if not ripe:
            return None
        prevout, spent, index, _ = self.coins.pop(self.rng.choice(ripe))
        out = TxOut(spent.value - LANE_FEE_SAT, _random_script(self.rng, self.rng.random() < 0.5))
        tx = _signed(self.key(index), prevout, spent, (out,))
        self.spends.append(Spend(tx.txid, prevout, spent.value, height))
        return tx


def _lane_worker(job: _LaneJob) -> _LaneResult:
    lane = _Lane(job)
    parts: list[list[_Signed]] = []
    for k in range(job.blocks):
        height = SETUP_BLOCKS + 1 + k
        block: list[_Signed] = []
        for slot in range(job.wallet_per_block):
            tx = lane.spend(height, k) if slot < SPEND_SLOTS else None
            if tx is None:
                tx = lane.receive(height, k)
            block.append(_entry(tx))
        parts.append(block)
    return _LaneResult(parts, WalletExpectation(tuple(lane.receives), tuple(lane.spends)))


# -- blocks ------------------------------------------------------------------------------


def _funding_key() -> coincurve.PrivateKey:
    return _btc_chain.keys()[0]  # `_btc_chain.block_bytes` pays every coinbase to it


def _fanout(chains: int, blocks: int, coinbase_txid: bytes) -> Tx:
    keys = chain_keys()
    coin = (CHAIN_PAYMENT_SAT + CHAIN_FEE_SAT) * blocks + CHAIN_RESERVE_SAT
    funder = block_subsidy(1, REGTEST) - FANOUT_FEE_SAT - chains * coin
    if funder < MAX_RECEIVE_SAT:
        raise ValueError(f"{chains} chains of {blocks} blocks leave no coins for the wallet lane")
    outputs = [TxOut(coin, script_for(keys[i % KEY_COUNT], i % 2 == 0)) for i in range(chains)]
    outputs.append(TxOut(funder, script_for(keys[0], False)))
    spent = TxOut(block_subsidy(1, REGTEST), script_for(_funding_key(), False))
    return _signed(_funding_key(), OutPoint(coinbase_txid, 0), spent, outputs)


def _setup_blocks(chains: int, blocks: int) -> tuple[list[bytes], bytes, Tx]:
    """Blocks 1-101, the last block's hash, and the fan-out transaction in block 101."""
    raws: list[bytes] = []
    prev = REGTEST.genesis_hash
    for height in range(1, SETUP_BLOCKS):
        raw, prev = _btc_chain.block_bytes(height, prev, [], [], [], 0)
        raws.append(raw)
    fanout = _fanout(chains, blocks, Block.deserialize(raws[0]).txs[0].txid)
    fee = block_subsidy(1, REGTEST) - sum(out.value for out in fanout.vout)
    raw, prev = _btc_chain.block_bytes(
        SETUP_BLOCKS, prev, [fanout.serialize()], [fanout.txid], [fanout.wtxid], fee
    )
    raws.append(raw)
    return raws, prev, fanout


def _interleave(main: Sequence[_Signed], lane: Sequence[_Signed]) -> Iterator[_Signed]:
    """The lane's transactions spread evenly through the block, each list's order kept."""
    step = len(main) // (len(lane) + 1)
    rest = iter(main)
    for tx in lane:
        for _ in range(step):
            yield next(rest)
        yield tx
    yield from rest


def generate(
    txs_per_block: int,
    blocks: int,
    wallet_per_block: int,
    processes: int | None = None,
    mnemonic: str = MNEMONIC,
) -> WalletChain:
    """The whole chain, signing the chains and the wallet lane on `processes` cores."""
    chains = txs_per_block - wallet_per_block
    if chains < 1 or wallet_per_block <= SPEND_SLOTS or blocks < 1:
        raise ValueError(f"need chains, more than {SPEND_SLOTS} lane slots and a block")
    setup, prev, fanout = _setup_blocks(chains, blocks)
    workers = processes or os.cpu_count() or 1
    edges = [chains * j // (workers * 4) for j in range(workers * 4 + 1)]
    coin = fanout.vout[0].value
    jobs = [
        _ChainJob(a, b, fanout.txid, coin, blocks) for a, b in itertools.pairwise(edges) if a < b
    ]
    lane_job = _LaneJob(
        OutPoint(fanout.txid, chains), fanout.vout[chains].value, blocks, wallet_per_block, mnemonic
    )
    with multiprocessing.get_context().Pool(workers) as pool:
        lane_result = pool.apply_async(_lane_worker, (lane_job,))
        chain_parts = pool.map(_chain_worker, jobs)
        lane = lane_result.get()
    measured: list[bytes] = []
    for k in range(blocks):
        main = [tx for part in chain_parts for tx in part[k]]
        txs = list(_interleave(main, lane.parts[k]))
        fees = CHAIN_FEE_SAT * chains + LANE_FEE_SAT * wallet_per_block
        raw, prev = _btc_chain.block_bytes(
            SETUP_BLOCKS + 1 + k,
            prev,
            [tx[0] for tx in txs],
            [tx[1] for tx in txs],
            [tx[2] for tx in txs],
            fees,
        )
        measured.append(raw)
    return WalletChain(
        txs_per_block, wallet_per_block, tuple(setup), tuple(measured), lane.expected
    )


# -- the cache -----------------------------------------------------------------------------


def cache_path(txs_per_block: int, blocks: int, wallet_per_block: int, cache_dir: Path) -> Path:
    name = f"wallet-rescan-v{LAYOUT_VERSION}-{txs_per_block}x{blocks}-w{wallet_per_block}.bin"
    return cache_dir / name


def encode(chain: WalletChain) -> bytes:
    head = struct.pack(
        "<IIIII",
        LAYOUT_VERSION,
        chain.txs_per_block,
        chain.wallet_per_block,
        len(chain.setup),
        len(chain.measured),
    )
    parts = [MAGIC, head]
    for raw in (*chain.setup, *chain.measured):
        parts += [_U32.pack(len(raw)), raw]
    expected = chain.expected.to_json()
    parts += [_U32.pack(len(expected)), expected]
    return b"".join(parts)


class CacheError(ValueError):
    """The cache file is not a chain of this layout (stale, truncated or foreign)."""


def decode(data: bytes) -> WalletChain:
    if not data.startswith(MAGIC):
        raise CacheError("bad magic")
    pos = len(MAGIC)
    version, per_block, wallet, n_setup, n_measured = struct.unpack_from("<IIIII", data, pos)
    if version != LAYOUT_VERSION:
        raise CacheError(f"layout {version}, expected {LAYOUT_VERSION}")
    pos += 20
    raws = []
    for _ in range(n_setup + n_measured + 1):  # the blocks, then the expectation
        (size,) = _U32.unpack_from(data, pos)
        if pos + 4 + size > len(data):
            raise CacheError("truncated")
        raws.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    if pos != len(data):
        raise CacheError(f"{len(data) - pos} bytes of trailing data")
    expected = WalletExpectation.from_json(raws.pop())
    return WalletChain(per_block, wallet, tuple(raws[:n_setup]), tuple(raws[n_setup:]), expected)


def load_or_generate(
    txs_per_block: int, blocks: int, wallet_per_block: int, cache_dir: Path = _btc_chain.CACHE_DIR
) -> tuple[WalletChain, bool]:
    """The chain from the cache, or generated and cached; True when it was generated."""
    path = cache_path(txs_per_block, blocks, wallet_per_block, cache_dir)
    if path.exists():
        try:
            chain = decode(path.read_bytes())
            shape = (chain.txs_per_block, len(chain.measured), chain.wallet_per_block)
            if shape == (txs_per_block, blocks, wallet_per_block):
                return chain, False
        except (struct.error, ValueError, KeyError):  # CacheError and bad JSON included
            pass  # regenerate below
    chain = generate(txs_per_block, blocks, wallet_per_block)
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_file_atomic(path, encode(chain))
    return chain, True
