"""Bad input gets a clear 4xx JSON answer with a one-line reason, and writes nothing."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest

from ctlog.devcerts import DevPki
from ctlog.server.app import MAX_REQUEST_BYTES
from tests.ctlog.log.inproc import InProcessLog
from tests.ctlog.log.test_http_submit import chain_json


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def check_error(
    log: InProcessLog, method: str, path: str, status: int, reason: str, **kw: object
) -> None:
    async with log.client.request(method, path, **kw) as response:  # type: ignore[arg-type]
        body = await response.json()
    assert (response.status, body["error"] != "") == (status, True), body
    assert reason in body["message"], body
    assert "\n" not in body["message"]


@pytest.fixture
async def log(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with InProcessLog(tmp_path) as log:
        for name in ("one.example", "two.example"):
            status, _ = await log.post_json(
                "/ct/v1/add-chain", chain_json(log.pki.issue_leaf([name]))
            )
            assert status == 200
        await log.wait_published(2)
        yield log


async def test_bad_submissions_are_refused_and_log_nothing(log: InProcessLog) -> None:
    pki = log.pki
    stranger = DevPki.create(log.now).issue_leaf(["stranger.example"])
    expired = pki.issue_leaf(
        ["old.example"],
        not_before=log.now - timedelta(days=100),
        not_after=log.now - timedelta(days=10),
    )
    cases = [
        ("add-chain", {"chain": ["!!not base64!!"]}, "chain[0] is not valid base64"),
        ("add-chain", {"chain": [b64(b"hello")]}, "certificate 0 is not a DER X.509 certificate"),
        ("add-chain", chain_json(stranger), "does not chain to an accepted root"),
        ("add-chain", chain_json(expired), "certificate 0 expired at"),
        ("add-chain", chain_json(pki.issue_precert(["p.example"])), "submit it to add-pre-chain"),
        (
            "add-pre-chain",
            chain_json(pki.issue_leaf(["c.example"])),
            "lacks the critical CT poison",
        ),
        ("add-chain", [], "must be a JSON object with a chain"),
        ("add-chain", {"chain": []}, "chain must be a non-empty array"),
        ("add-chain", {"certs": []}, "chain must be a non-empty array"),
        ("add-chain", {"chain": [7]}, "chain[0] must be a base64 string"),
        ("add-chain", {"chain": [b64(b"x")] * 11}, "11 certificates, more than 10"),
    ]
    for endpoint, body, reason in cases:
        await check_error(log, "POST", f"/ct/v1/{endpoint}", 400, reason, json=body)
    await check_error(log, "POST", "/ct/v1/add-chain", 400, "not JSON", data=b"{")
    oversize = b'{"chain": ["' + b"A" * MAX_REQUEST_BYTES + b'"]}'
    await check_error(
        log, "POST", "/ct/v1/add-chain", 413, "Maximum request body size", data=oversize
    )
    assert log.replica.machine.tree_size == 2
    assert len(log.replica.sequencer.pool) == 0


async def test_bad_query_parameters_are_refused(log: InProcessLog) -> None:
    big = str(1 << 64)
    cases = [
        ("get-entries?start=abc&end=1", "start must be a non-negative decimal integer"),
        ("get-entries?start=-1&end=1", "start must be a non-negative decimal integer"),
        ("get-entries?start=01&end=1", "start must be a non-negative decimal integer"),
        (f"get-entries?start=0&end={big}", "end must be a non-negative decimal integer"),
        ("get-entries?end=1", "missing query parameter start"),
        ("get-entries?start=1&end=0", "start 1 is greater than end 0"),
        ("get-entries?start=2&end=5", "start 2 is not below the published tree size 2"),
        ("get-sth-consistency?first=0&second=1", "first must be at least 1"),
        ("get-sth-consistency?first=1&second=3", "second 3 is beyond the published tree size 2"),
        ("get-sth-consistency?first=2&second=1", "first 2 is beyond second 1"),
        ("get-proof-by-hash?hash=%%%&tree_size=1", "hash is not valid base64"),
        (f"get-proof-by-hash?hash={b64(b'short')}&tree_size=1", "must be a 32-byte hash"),
        (f"get-proof-by-hash?hash={b64(bytes(32))}&tree_size=x", "tree_size must be a non-neg"),
        ("get-entry-and-proof?leaf_index=2&tree_size=2", "leaf_index 2 is not below tree_size 2"),
        ("get-entry-and-proof?leaf_index=0&tree_size=9", "tree_size 9 is beyond the published"),
    ]
    for path, reason in cases:
        await check_error(log, "GET", f"/ct/v1/{path}", 400, reason)
    missing = f"get-proof-by-hash?hash={b64(bytes(32))}&tree_size=2"
    await check_error(log, "GET", f"/ct/v1/{missing}", 404, "no entry with that leaf hash")


async def test_bad_paths_and_methods_get_json_errors(log: InProcessLog) -> None:
    await check_error(log, "GET", "/tile/0/0001", 400, "not 3-digit groups")
    await check_error(log, "GET", "/tile/0/000.p/256", 400, "partial tile width must be 1 to 255")
    await check_error(log, "GET", "/tile/data/x000/000", 400, "leading zero group")
    await check_error(log, "GET", "/issuer/ABC", 400, "lowercase hex SHA-256 fingerprint")
    await check_error(log, "GET", "/ct/v1/add-chain", 405, "Method Not Allowed")
    await check_error(log, "GET", "/ct/v1/nothing-here", 404, "Not Found")
    # None of it hurt the replica.
    status, body = await log.get_json("/ct/v1/get-sth")
    assert (status, body["tree_size"]) == (200, 2)


async def test_the_not_after_window_is_enforced(tmp_path: Path) -> None:
    settings = {"not_after_start": "2000-01-01T00:00:00Z", "not_after_end": "2001-01-01T00:00:00Z"}
    async with InProcessLog(tmp_path, settings) as log:
        chain = chain_json(log.pki.issue_leaf(["window.example"]))
        await check_error(
            log, "POST", "/ct/v1/add-chain", 400, "outside this log's notAfter window", json=chain
        )
        assert log.replica.machine.tree_size == 0
