"""The read endpoints on a single in-process replica: exact JSON fields, proofs, tiles."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from ctlog.checkpoint import RFC6962NoteVerifier, sth_from_checkpoint_note
from ctlog.client import LogClient
from ctlog.leaf import LogEntryType, MerkleTreeLeaf, decode_extra_data, parse_data_tile
from ctlog.merkle import verify_consistency, verify_inclusion
from ctlog.sth import SignedTreeHead
from tests.ctlog.log.inproc import InProcessLog
from tests.ctlog.log.test_http_submit import chain_json

STH_FIELDS = {"tree_size", "timestamp", "sha256_root_hash", "tree_head_signature"}


async def filled_log(log: InProcessLog, count: int) -> list[list[bytes]]:
    chains = [log.pki.issue_leaf([f"r{i}.example"]) for i in range(count)]
    for chain in chains:
        status, body = await log.post_json("/ct/v1/add-chain", chain_json(chain))
        assert status == 200, body
    await log.wait_published(count)
    return chains


def unb64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


async def test_get_sth_consistency_and_proof_by_hash(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chains = await filled_log(log, 5)
        status, body = await log.get_json("/ct/v1/get-sth")
        assert status == 200 and set(body) == STH_FIELDS
        sth = SignedTreeHead.from_json(body)
        sth.verify(log.replica.key.public)
        assert sth.tree_size == 5
        status, body = await log.get_json("/ct/v1/get-sth-consistency?first=2&second=5")
        assert status == 200 and set(body) == {"consistency"}
        root2 = log.replica.machine.merkle.root(2)
        proof = [unb64(node) for node in body["consistency"]]
        verify_consistency(2, 5, root2, sth.root_hash, proof)
        _, same = await log.get_json("/ct/v1/get-sth-consistency?first=5&second=5")
        assert same == {"consistency": []}
        leaf = log.replica.machine.reader.tile_leaf(3).merkle_tree_leaf()
        assert leaf.timestamped_entry.signed_entry == chains[3][0]
        query = f"hash={base64.b64encode(leaf.leaf_hash()).decode()}&tree_size=5"
        status, body = await log.get_json(f"/ct/v1/get-proof-by-hash?{query.replace('+', '%2B')}")
        assert status == 200 and set(body) == {"leaf_index", "audit_path"}
        assert body["leaf_index"] == 3
        path = [unb64(node) for node in body["audit_path"]]
        verify_inclusion(3, 5, leaf.leaf_hash(), path, sth.root_hash)


async def test_get_entries_truncates_at_the_limit_and_the_tree_size(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:  # max_get_entries = 3
        chains = await filled_log(log, 5)
        status, body = await log.get_json("/ct/v1/get-entries?start=0&end=4")
        assert status == 200 and set(body) == {"entries"}
        assert len(body["entries"]) == 3
        assert all(set(e) == {"leaf_input", "extra_data"} for e in body["entries"])
        leaf = MerkleTreeLeaf.deserialize(unb64(body["entries"][1]["leaf_input"]))
        assert leaf.timestamped_entry.signed_entry == chains[1][0]
        extra = decode_extra_data(LogEntryType.X509_ENTRY, unb64(body["entries"][1]["extra_data"]))
        assert extra == [chains[1][1], log.pki.root_der]
        _, tail = await log.get_json("/ct/v1/get-entries?start=3&end=99")
        assert len(tail["entries"]) == 2  # truncated at the published tree size


async def test_get_roots_and_get_entry_and_proof(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chains = await filled_log(log, 3)
        status, body = await log.get_json("/ct/v1/get-roots")
        assert status == 200 and body == {
            "certificates": [base64.b64encode(log.pki.root_der).decode()]
        }
        status, body = await log.get_json("/ct/v1/get-entry-and-proof?leaf_index=2&tree_size=3")
        assert status == 200 and set(body) == {"leaf_input", "extra_data", "audit_path"}
        leaf = MerkleTreeLeaf.deserialize(unb64(body["leaf_input"]))
        assert leaf.timestamped_entry.signed_entry == chains[2][0]
        sth = log.replica.machine.latest_sth
        assert sth is not None
        path = [unb64(node) for node in body["audit_path"]]
        verify_inclusion(2, 3, leaf.leaf_hash(), path, sth.root_hash)


async def test_the_static_ct_read_path_matches_the_rfc6962_one(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chains = await filled_log(log, 4)
        status, note, content_type = await log.get_bytes("/checkpoint")
        assert (status, content_type) == (200, "text/plain")
        verifier = RFC6962NoteVerifier(log.replica.key.public, log.config.log.origin)
        assert sth_from_checkpoint_note(note, verifier) == log.replica.machine.latest_sth
        status, tile, _ = await log.get_bytes("/tile/0/000.p/4")
        leaves = parse_data_tile((await log.get_bytes("/tile/data/000.p/4"))[1])
        assert [leaf.merkle_tree_leaf().leaf_hash() for leaf in leaves] == [
            tile[i * 32 : (i + 1) * 32] for i in range(4)
        ]
        assert leaves[0].timestamped_entry.signed_entry == chains[0][0]
        fingerprint = leaves[0].certificate_chain[0]
        assert fingerprint == hashlib.sha256(chains[0][1]).digest()
        status, der, content_type = await log.get_bytes(f"/issuer/{fingerprint.hex()}")
        assert (status, der, content_type) == (200, chains[0][1], "application/pkix-cert")
        for path in ("/tile/0/000.p/5", "/tile/0/000", "/tile/data/001.p/1", "/tile/1/000.p/1"):
            status, body, _ = await log.get_bytes(path)
            assert status == 404 and b"beyond the published tree size 4" in body, path
        status, body, _ = await log.get_bytes(f"/issuer/{'00' * 32}")
        assert status == 404


async def test_our_own_client_reads_everything_back(tmp_path: Path) -> None:
    async with InProcessLog(tmp_path) as log:
        chains = await filled_log(log, 3)
        async with LogClient(str(log.client.make_url("/")), max_attempts=1) as client:
            sth = await client.get_sth()
            entries = await client.get_entries(0, 2)
            assert len(entries) == 3  # RFC 6962 §4.6: end is inclusive
            assert await client.get_roots() == [log.pki.root_der]
            data_tile = await client.get_data_tile(0, 3)
            assert sth.tree_size == 3 and len(parse_data_tile(data_tile)) == 3
            index, _ = await client.get_proof_by_hash(
                MerkleTreeLeaf.deserialize(entries[1].leaf_input).leaf_hash(), 3
            )
            assert index == 1
            leaf = MerkleTreeLeaf.deserialize(entries[2].leaf_input)
            assert leaf.timestamped_entry.signed_entry == chains[2][0]
