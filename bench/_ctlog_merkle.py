"""The persisted Merkle tree (`ctlog.merkle.store.MerkleStore`) against pymerkle 7 `InmemoryTree`.

Both build the same RFC 6962 tree from the same entries, in the same batches (seeded sizes of
256-1024 entries, as a log sequences them), and the roots are checked to be equal. Measured:

- append: entries per second, end to end. Ours hashes each entry (SHA-256 of 0x00 || entry),
  computes the new node hashes, and writes every batch (changed tiles and the new size) to
  LevelDB in a temp dir (`sync=False`: reaches the OS, not fsynced). pymerkle hashes the same
  entries and links its in-memory nodes; it persists nothing.
- inclusion / consistency: proofs per second at seeded random (index, size) and (size1,
  size2) pairs, the same pairs for both, timed in alternating rounds of 500. Ours reopens
  the database first and reads node hashes from LevelDB (with its small tile cache);
  pymerkle reads its in-memory nodes (with its subroot cache).

`run()` returns the six rates; `bench/ctlog.py` prints the RESULT line from them.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pymerkle import InmemoryTree
from rich.console import Console
from rich.table import Table

from common.store import LevelStore, WriteBatch
from ctlog.merkle import hash_leaf, verify_consistency, verify_inclusion
from ctlog.merkle.store import MerkleStore

FULL_LEAVES = 1_000_000  # the target tree size
QUICK_LEAVES = 20_000  # a smoke run that still spans two tile levels
FULL_PROOFS = 10_000  # per proof kind, as the issue asks
QUICK_PROOFS = 2_000
BATCH_SIZES = (256, 1024)  # entries per written batch, drawn uniformly (what a log sequences)
SEED = 6962
CHECKED_PROOFS = 50  # proofs of ours verified after timing (not timed)
ROUND = 500  # proofs per side before switching sides


def entries(count: int) -> list[bytes]:
    """Distinct 64-byte entries (both sides hash the same bytes, so the size matters little)."""
    return [hashlib.sha512(i.to_bytes(8, "big")).digest() for i in range(count)]


def batches(count: int, rng: random.Random) -> list[tuple[int, int]]:
    """(start, stop) slices of the entries, one per written batch."""
    out = []
    start = 0
    while start < count:
        stop = min(count, start + rng.randint(*BATCH_SIZES))
        out.append((start, stop))
        start = stop
    return out


def append_ours(path: Path, data: Sequence[bytes], slices: Sequence[tuple[int, int]]) -> float:
    with LevelStore(path) as store:
        tree = MerkleStore(store)
        started = time.perf_counter()
        for start, stop in slices:
            batch = WriteBatch()
            tree.append([hash_leaf(entry) for entry in data[start:stop]], batch)
            store.write(batch)
        return time.perf_counter() - started


def append_peer(data: Sequence[bytes], slices: Sequence[tuple[int, int]]) -> tuple[Any, float]:
    tree = InmemoryTree()
    started = time.perf_counter()
    for start, stop in slices:
        tree.append_entries(data[start:stop])
    return tree, time.perf_counter() - started


def timed_rounds(
    calls: Sequence[tuple[int, int]],
    ours: Callable[[int, int], object],
    peer: Callable[[int, int], object],
) -> tuple[float, float]:
    """Seconds each side spends on `calls`, alternating in rounds so that load from other
    processes on this machine falls on both alike."""
    spent = [0.0, 0.0]
    for start in range(0, len(calls), ROUND):
        chunk = calls[start : start + ROUND]
        for side, prove in enumerate((ours, peer)):
            started = time.perf_counter()
            for a, b in chunk:
                prove(a, b)
            spent[side] += time.perf_counter() - started
    return spent[0], spent[1]


def proof_pairs(count: int, size: int, rng: random.Random) -> tuple[list, list]:
    """Seeded (index, size) pairs for inclusion and (size1, size2) pairs for consistency."""
    inclusion = []
    consistency = []
    for _ in range(count):
        tree_size = rng.randint(1, size)
        inclusion.append((rng.randrange(tree_size), tree_size))
        size2 = rng.randint(1, size)
        consistency.append((rng.randint(1, size2), size2))
    return inclusion, consistency


def check_ours(
    tree: MerkleStore, data: Sequence[bytes], inclusion: list, consistency: list
) -> None:
    """Verify a sample of our proofs, so a fast wrong answer cannot pass."""
    for index, size in inclusion[:CHECKED_PROOFS]:
        proof = tree.inclusion_proof(index, size)
        verify_inclusion(index, size, hash_leaf(data[index]), proof, tree.root(size))
    for size1, size2 in consistency[:CHECKED_PROOFS]:
        proof = tree.consistency_proof(size1, size2)
        verify_consistency(size1, size2, tree.root(size1), tree.root(size2), proof)


def run(quick: bool = False) -> dict[str, float]:
    count = QUICK_LEAVES if quick else FULL_LEAVES
    proofs = QUICK_PROOFS if quick else FULL_PROOFS
    rng = random.Random(SEED)
    data = entries(count)
    slices = batches(count, rng)
    inclusion, consistency = proof_pairs(proofs, count, rng)
    with tempfile.TemporaryDirectory(prefix="bench-merkle-") as tmp:
        path = Path(tmp) / "db"
        ours_append = append_ours(path, data, slices)
        peer, peer_append = append_peer(data, slices)
        with LevelStore(path) as store:
            tree = MerkleStore(store)  # reopened: proofs read what the appends persisted
            if tree.root() != peer.get_root():
                raise RuntimeError("the two trees disagree on the root")
            ours_inclusion, peer_inclusion = timed_rounds(
                inclusion, tree.inclusion_proof, lambda i, n: peer.prove_inclusion(i + 1, n)
            )
            ours_consistency, peer_consistency = timed_rounds(
                consistency, tree.consistency_proof, peer.prove_consistency
            )
            check_ours(tree, data, inclusion, consistency)
    figures = {
        "append_ours": count / ours_append,
        "append_peer": count / peer_append,
        "inclusion_ours": proofs / ours_inclusion,
        "inclusion_peer": proofs / peer_inclusion,
        "consistency_ours": proofs / ours_consistency,
        "consistency_peer": proofs / peer_consistency,
    }
    print_table(figures, count, proofs)
    return figures


def print_table(figures: dict[str, float], count: int, proofs: int) -> None:
    table = Table(title=f"Merkle tree: {count:,} entries, {proofs:,} proofs of each kind")
    for column in ("operation", "opentrust (LevelDB)", "pymerkle 7 (memory)", "ratio"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for name, label in (
        ("append", "append entries/s"),
        ("inclusion", "inclusion proofs/s"),
        ("consistency", "consistency proofs/s"),
    ):
        ours, peer = figures[f"{name}_ours"], figures[f"{name}_peer"]
        table.add_row(label, f"{ours:,.0f}", f"{peer:,.0f}", f"{ours / peer:.2f}x")
    console = Console()
    console.print(table)
    console.print(
        f"(cores: {os.cpu_count()}; ours hashes entries and writes each batch to LevelDB "
        "without fsync, pymerkle keeps everything in memory; proofs at seeded random sizes)"
    )
