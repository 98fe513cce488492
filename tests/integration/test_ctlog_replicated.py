"""Three `ctlog serve` replicas; the leader is SIGKILLed again and again while chains flow.

Afterwards: every tree head any replica served is signed, tree heads of equal size have equal
roots, and each is consistent with the final one and with the next larger one (consistency
proofs from a live replica; consistency with a common later tree makes any two consistent
with each other). Every SCT verifies, and its entry is included (get-proof-by-hash) under
the first tree head seen that covers it, whose timestamp is within the maximum merge delay.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ctlog.client import LogClient
from ctlog.errors import LogUnavailable
from ctlog.leaf import LogEntryType, MerkleTreeLeaf, TimestampedEntry, decode_leaf_index_extension
from ctlog.merkle import verify_consistency, verify_inclusion
from ctlog.sct import SignedCertificateTimestamp, verify_chain_scts
from ctlog.sth import SignedTreeHead
from tests.ctlog.log.processes import LogProcesses

pytestmark = pytest.mark.integration

MMD_S = 25
SETTINGS = {"max_merge_delay_s": MMD_S, "sth_interval_ms": 200, "sequence_interval_ms": 10}
KILLS = 3
SUBMITTERS = 6
SUBMIT_PAUSE_S = 0.02  # keeps the number of entries (and the final checks) moderate
RUN_BEFORE_KILL_S = 1.5
DOWN_S = 1.0
SETTLE_S = 20.0


@dataclass
class Record:
    scts: list[tuple[list[bytes], SignedCertificateTimestamp]] = field(default_factory=list)
    sths: dict[tuple[int, int, bytes], SignedTreeHead] = field(default_factory=dict)
    retries: int = 0
    killed: list[str] = field(default_factory=list)
    scts_per_phase: list[int] = field(default_factory=list)


def test_leader_kills_keep_tree_heads_consistent_and_scts_included(tmp_path: Path) -> None:
    logs = LogProcesses(tmp_path, replicas=3, settings=SETTINGS)
    logs.start_all()
    try:
        logs.wait_leader()
        record = asyncio.run(run_with_kills(logs))
        asyncio.run(check_everything(logs, record))
    finally:
        logs.stop_all()


async def run_with_kills(logs: LogProcesses) -> Record:
    record = Record()
    stop = asyncio.Event()
    rng = random.Random(1)
    tasks = [asyncio.create_task(submitter(logs, record, rng, stop)) for _ in range(SUBMITTERS)]
    tasks.append(asyncio.create_task(watch_tree_heads(logs, record, stop)))
    try:
        for _ in range(KILLS):
            await asyncio.sleep(RUN_BEFORE_KILL_S)
            record.scts_per_phase.append(len(record.scts))
            leader = await asyncio.to_thread(logs.wait_leader)
            await asyncio.to_thread(logs.kill, leader)
            record.killed.append(leader)
            await asyncio.to_thread(logs.wait_leader, exclude=leader)
            await asyncio.sleep(DOWN_S)
            await asyncio.to_thread(logs.start, leader)
        await asyncio.sleep(RUN_BEFORE_KILL_S)
        record.scts_per_phase.append(len(record.scts))
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return record


async def submitter(logs: LogProcesses, record: Record, rng: random.Random, stop: asyncio.Event):
    clients = {url: LogClient(url, max_attempts=1, timeout_s=20) for url in logs.urls}
    try:
        while not stop.is_set():
            chain = logs.pki.issue_leaf([f"c{len(record.scts)}-{rng.random()}.example"])
            while True:  # the same chain until some replica returns its SCT
                url = rng.choice(logs.urls)
                try:
                    sct = await clients[url].add_chain(chain)
                except LogUnavailable:
                    record.retries += 1
                    await asyncio.sleep(0.05)
                    continue
                record.scts.append((chain, sct))
                break
            await asyncio.sleep(SUBMIT_PAUSE_S)
    finally:
        for client in clients.values():
            await client.close()


async def watch_tree_heads(logs: LogProcesses, record: Record, stop: asyncio.Event) -> None:
    clients = [LogClient(url, max_attempts=1, timeout_s=1) for url in logs.urls]
    try:
        while not stop.is_set():
            for client in clients:
                try:
                    sth = await client.get_sth()
                except LogUnavailable:
                    continue
                record.sths.setdefault((sth.tree_size, sth.timestamp, sth.root_hash), sth)
            await asyncio.sleep(0.05)
    finally:
        for client in clients:
            await client.close()


async def settled_tree_head(logs: LogProcesses, size: int) -> SignedTreeHead:
    """The tree head every replica serves once all have caught up to `size` entries."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        heads = []
        for url in logs.urls:
            async with LogClient(url, max_attempts=1, timeout_s=2) as client:
                try:
                    heads.append(await client.get_sth())
                except LogUnavailable:
                    break
        if len(heads) == 3 and len(set(heads)) == 1 and heads[0].tree_size >= size:
            return heads[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"replicas did not agree on a tree of {size} entries: {logs.log_tails()}")


async def check_everything(logs: LogProcesses, record: Record) -> None:
    assert len(record.killed) == KILLS
    phases = record.scts_per_phase
    assert all(b > a for a, b in itertools.pairwise(phases)), phases
    indexes = [decode_leaf_index_extension(sct.extensions) for _, sct in record.scts]
    assert len(set(indexes)) == len(indexes), "two SCTs share a leaf index"
    final = await settled_tree_head(logs, max(indexes) + 1)
    record.sths.setdefault((final.tree_size, final.timestamp, final.root_hash), final)
    async with LogClient(logs.url(logs.ids[0]), max_attempts=3) as client:
        await check_tree_heads(logs, client, list(record.sths.values()), final)
        delays = await check_scts(logs, client, record, sorted(record.sths.values(), key=ts))
    print(
        f"{len(record.scts)} SCTs, {len(record.sths)} tree heads, {record.retries} retries, "
        f"killed {record.killed}, SCT-to-tree-head delay max {max(delays)} ms"
    )


def ts(sth: SignedTreeHead) -> int:
    return sth.timestamp


async def check_tree_heads(
    logs: LogProcesses, client: LogClient, heads: list[SignedTreeHead], final: SignedTreeHead
) -> None:
    roots: dict[int, bytes] = {}
    for sth in heads:
        sth.verify(logs.key)
        assert roots.setdefault(sth.tree_size, sth.root_hash) == sth.root_hash
    by_time = sorted(heads, key=ts)
    sizes = [sth.tree_size for sth in by_time]
    assert sizes == sorted(sizes), "a later tree head is smaller"
    assert len({sth.timestamp for sth in heads}) == len(heads), "two tree heads share a time"
    ordered = sorted(roots)
    for smaller, larger in [
        *itertools.pairwise(ordered),
        *((s, final.tree_size) for s in ordered),
    ]:
        if 0 < smaller < larger:
            proof = await client.get_sth_consistency(smaller, larger)
            verify_consistency(smaller, larger, roots[smaller], roots[larger], proof)


async def check_scts(
    logs: LogProcesses, client: LogClient, record: Record, by_time: list[SignedTreeHead]
) -> list[int]:
    delays = []
    semaphore = asyncio.Semaphore(16)

    async def check(chain: list[bytes], sct: SignedCertificateTimestamp) -> None:
        verify_chain_scts(chain, logs.key, sct)
        index = decode_leaf_index_extension(sct.extensions)
        first = next(sth for sth in by_time if sth.tree_size > index)
        assert first.timestamp <= sct.timestamp + MMD_S * 1000, (sct.timestamp, first)
        delays.append(first.timestamp - sct.timestamp)
        entry = TimestampedEntry(sct.timestamp, LogEntryType.X509_ENTRY, chain[0], sct.extensions)
        leaf_hash = MerkleTreeLeaf(entry).leaf_hash()
        async with semaphore:
            found, path = await client.get_proof_by_hash(leaf_hash, first.tree_size)
        assert found == index
        verify_inclusion(index, first.tree_size, leaf_hash, path, first.root_hash)

    await asyncio.gather(*(check(chain, sct) for chain, sct in record.scts))
    return delays
