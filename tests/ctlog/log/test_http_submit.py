"""add-chain and add-pre-chain on a single in-process replica: SCTs, dedup, forwarding API."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from ctlog.leaf import LogEntryType, PreCert, TimestampedEntry, decode_leaf_index_extension
from ctlog.log.codec import encode_batch
from ctlog.log.entry import PreparedEntry
from ctlog.log.forwarding import MAC_HEADER, SUBMIT_PATH, forward_mac
from ctlog.sct import SignedCertificateTimestamp, verify_sct
from ctlog.x509 import key_hash, precert_tbs
from tests.ctlog.log.inproc import InProcessLog

SCT_FIELDS = {"sct_version", "id", "timestamp", "extensions", "signature"}  # RFC 6962 §4.1


def chain_json(ders: list[bytes]) -> dict[str, list[str]]:
    return {"chain": [base64.b64encode(der).decode() for der in ders]}


async def test_add_chain_returns_a_verifiable_sct_after_the_entry_is_logged(
    tmp_path: Path,
) -> None:
    async with InProcessLog(tmp_path) as log:
        chain = log.pki.issue_leaf(["a.example"])
        status, body = await log.post_json("/ct/v1/add-chain", chain_json(chain))
        assert status == 200 and set(body) == SCT_FIELDS
        sct = SignedCertificateTimestamp.from_json(body)
        assert sct.log_id == log.replica.key.public.log_id
        assert decode_leaf_index_extension(sct.extensions) == 0
        entry = TimestampedEntry(sct.timestamp, LogEntryType.X509_ENTRY, chain[0])
        verify_sct(sct, log.replica.key.public, entry)
        # The SCT came back only after the entry was applied here.
        assert log.replica.machine.tree_size == 1
        stored = log.replica.machine.reader.tile_leaf(0).timestamped_entry
        assert (stored.timestamp, stored.signed_entry) == (sct.timestamp, chain[0])


async def test_add_pre_chain_logs_the_precert_entry(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chain = log.pki.issue_precert_via_preca(["p.example"])
        status, body = await log.post_json("/ct/v1/add-pre-chain", chain_json(chain))
        assert status == 200, body
        sct = SignedCertificateTimestamp.from_json(body)
        tbs = precert_tbs(chain[0], signing_cert_der=chain[1])
        pre = PreCert(key_hash(chain[2]), tbs)
        verify_sct(sct, log.replica.key.public, TimestampedEntry(0, 1, pre))
        tile_leaf = log.replica.machine.reader.tile_leaf(0)
        assert tile_leaf.pre_certificate == chain[0]
        assert len(tile_leaf.certificate_chain) == 3  # PreCA, intermediate, the appended root


async def test_a_resubmitted_chain_gets_the_sct_of_the_logged_entry(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chain = log.pki.issue_leaf(["again.example"])
        _, first = await log.post_json("/ct/v1/add-chain", chain_json(chain))
        await log.post_json("/ct/v1/add-chain", chain_json(log.pki.issue_leaf(["other.example"])))
        status, second = await log.post_json("/ct/v1/add-chain", chain_json(chain))
        assert status == 200
        assert (second["timestamp"], second["extensions"]) == (
            first["timestamp"],
            first["extensions"],
        )
        assert log.replica.machine.tree_size == 2
        assert log.replica.stats["deduplicated"] == 1


async def test_concurrent_identical_submissions_log_one_entry(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chain = chain_json(log.pki.issue_leaf(["race.example"]))
        answers = await asyncio.gather(
            *(log.post_json("/ct/v1/add-chain", chain) for _ in range(5))
        )
        assert {status for status, _ in answers} == {200}
        assert len({body["extensions"] for _, body in answers}) == 1
        assert log.replica.machine.tree_size == 1


async def test_the_forwarding_endpoint_needs_the_cluster_mac(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chain = log.pki.issue_leaf(["fwd.example"])
        entry = PreparedEntry(
            log.replica.now_ms(), LogEntryType.X509_ENTRY, chain[0], b"", tuple(chain[1:])
        )
        body = encode_batch([entry])
        async with log.client.post(SUBMIT_PATH, data=body) as response:
            assert response.status == 401
            assert (await response.json())["message"] == "missing or wrong cluster MAC"
        headers = {MAC_HEADER: forward_mac(log.config.read_secret(), body)}
        async with log.client.post(SUBMIT_PATH, data=body, headers=headers) as response:
            answer = await response.json()
        assert response.status == 200
        assert answer == {"leaf_index": 0, "timestamp": entry.timestamp, "duplicate": False}
        tampered = body[:-1] + bytes([body[-1] ^ 1])
        async with log.client.post(SUBMIT_PATH, data=tampered, headers=headers) as response:
            assert response.status == 401
        assert log.replica.machine.tree_size == 1


async def test_validation_in_a_worker_process_gives_the_same_answers(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path, {"validation_workers": 1}) as log:
        chains = [log.pki.issue_leaf([f"w{i}.example"]) for i in range(20)]
        answers = await asyncio.gather(
            *(log.post_json("/ct/v1/add-chain", chain_json(chain)) for chain in chains)
        )
        assert [status for status, _ in answers] == [200] * 20
        precert = chain_json(log.pki.issue_precert(["wp.example"]))
        status, body = await log.post_json("/ct/v1/add-chain", precert)
        assert status == 400 and "submit it to add-pre-chain" in body["message"]
        assert log.replica.machine.tree_size == 20
