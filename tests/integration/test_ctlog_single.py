"""One `ctlog serve` process: SCTs are verifiable and survive kill -9 of the process."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ctlog.client import LogClient
from ctlog.leaf import LogEntryType, MerkleTreeLeaf, TimestampedEntry, decode_leaf_index_extension
from ctlog.merkle import verify_inclusion
from ctlog.sct import SignedCertificateTimestamp, verify_chain_scts
from ctlog.sth import SignedTreeHead
from tests.ctlog.log.processes import LogProcesses, running

pytestmark = pytest.mark.integration

SETTINGS = {"max_merge_delay_s": 30, "sth_interval_ms": 100, "sequence_interval_ms": 10}
SUBMISSIONS = 40
WAIT_S = 20.0


def leaf_hash(chain: list[bytes], sct: SignedCertificateTimestamp) -> bytes:
    entry = TimestampedEntry(sct.timestamp, LogEntryType.X509_ENTRY, chain[0], sct.extensions)
    return MerkleTreeLeaf(entry).leaf_hash()


async def wait_sth(client: LogClient, size: int) -> SignedTreeHead:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        sth = await client.get_sth()
        if sth.tree_size >= size:
            return sth
        await asyncio.sleep(0.05)
    raise AssertionError(f"no tree head of size {size} within {WAIT_S} s")


async def check_included(
    logs: LogProcesses, client: LogClient, chain: list[bytes], sct: SignedCertificateTimestamp
) -> None:
    index = decode_leaf_index_extension(sct.extensions)
    sth = await wait_sth(client, index + 1)
    sth.verify(logs.key)
    found, path = await client.get_proof_by_hash(leaf_hash(chain, sct), sth.tree_size)
    assert found == index
    verify_inclusion(index, sth.tree_size, leaf_hash(chain, sct), path, sth.root_hash)


def test_scts_are_verifiable_and_survive_kill_9(tmp_path: Path) -> None:
    logs = LogProcesses(tmp_path, settings=SETTINGS)
    chains = [logs.pki.issue_leaf([f"s{i}.example"]) for i in range(SUBMISSIONS)]
    logs.start_all()
    try:
        logs.wait_leader()
        scts = asyncio.run(submit_then_check(logs, chains))
        # kill -9 right after the last SCT came back, then restart from the same data.
        workers = logs.kill("n1")
        assert workers, "the replica runs a chain validation worker by default"
        deadline = time.monotonic() + 3
        while running(workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running(workers) == [], "validation workers outlived their replica"
        logs.start("n1")
        logs.wait_leader()
        asyncio.run(check_after_restart(logs, chains, scts))
    finally:
        logs.stop_all()


async def submit_then_check(
    logs: LogProcesses, chains: list[list[bytes]]
) -> list[SignedCertificateTimestamp]:
    async with LogClient(logs.url("n1"), max_attempts=3) as client:
        first = await client.add_chain(chains[0])
        assert verify_chain_scts(chains[0], logs.key, first) == [first]
        await check_included(logs, client, chains[0], first)
        rest = await asyncio.gather(*(client.add_chain(chain) for chain in chains[1:]))
    scts = [first, *rest]
    for chain, sct in zip(chains, scts, strict=True):
        verify_chain_scts(chain, logs.key, sct)
    indexes = sorted(decode_leaf_index_extension(sct.extensions) for sct in scts)
    assert indexes == list(range(SUBMISSIONS))
    return scts


async def check_after_restart(
    logs: LogProcesses, chains: list[list[bytes]], scts: list[SignedCertificateTimestamp]
) -> None:
    async with LogClient(logs.url("n1"), max_attempts=3) as client:
        for chain, sct in zip(chains, scts, strict=True):
            await check_included(logs, client, chain, sct)
        again = await client.add_chain(chains[-1])
        assert (again.timestamp, again.extensions) == (scts[-1].timestamp, scts[-1].extensions)
        sth = await client.get_sth()
        assert sth.tree_size == SUBMISSIONS
