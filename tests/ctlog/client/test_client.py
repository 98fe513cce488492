"""`LogClient` against the honest fake log and against small misbehaving servers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from common.net import free_tcp_ports
from ctlog.checkpoint import RFC6962NoteVerifier, sth_from_checkpoint_note
from ctlog.client import LogClient, RawEntry
from ctlog.errors import InputError, LogUnavailable, UsageError
from ctlog.leaf import MerkleTreeLeaf, TimestampedEntry, parse_data_tile
from ctlog.merkle import hash_leaf, verify_consistency, verify_inclusion
from ctlog.sct import verify_sct
from ctlog.x509 import entry_for_chain
from tests.ctlog.fakelog import FakeLog, dev_pki, serving


@pytest.fixture
def fake() -> FakeLog:
    log = FakeLog(dev_pki())
    for i in range(5):
        log.submit(log.pki.issue_leaf([f"host{i}.example.com"]))
    return log


class Sleeps:
    """A `sleep` that records what it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
async def client(fake: FakeLog) -> AsyncIterator[LogClient]:
    async with serving(fake) as url, LogClient(url, rng=random.Random(1)) as c:
        yield c


async def test_sth_and_consistency(fake: FakeLog, client: LogClient) -> None:
    old = fake.sth
    fake.submit(fake.pki.issue_leaf(["late.example.com"]))
    sth = await client.get_sth()
    assert sth == fake.sth and sth.tree_size == 6
    sth.verify(fake.key.public)
    proof = await client.get_sth_consistency(old.tree_size, sth.tree_size)
    verify_consistency(old.tree_size, 6, old.root_hash, sth.root_hash, proof)


async def test_add_chain_returns_a_verifying_sct_and_repeats_it(
    fake: FakeLog, client: LogClient
) -> None:
    chain = fake.pki.issue_leaf(["new.example.com"])
    sct = await client.add_chain(chain)
    entry_type, signed_entry = entry_for_chain(chain)
    verify_sct(sct, fake.key.public, TimestampedEntry(sct.timestamp, entry_type, signed_entry))
    assert await client.add_chain(chain) == sct
    assert len(fake.entries) == 6


async def test_add_pre_chain(fake: FakeLog, client: LogClient) -> None:
    chain = fake.pki.issue_precert(["pre.example.com"])
    sct = await client.add_pre_chain(chain)
    entry_type, signed_entry = entry_for_chain(chain)
    verify_sct(sct, fake.key.public, TimestampedEntry(sct.timestamp, entry_type, signed_entry))


async def test_add_chain_refusal_is_an_input_error_with_status(client: LogClient) -> None:
    with pytest.raises(InputError) as info:
        await client.add_chain([b"not a certificate"])
    assert info.value.http_status == 400
    assert "add-chain answered HTTP 400" in str(info.value)
    assert "certificate 0" in str(info.value)


async def test_get_entries_may_truncate(fake: FakeLog, client: LogClient) -> None:
    fake.max_get_entries = 2
    got = await client.get_entries(1, 4)
    assert got == [RawEntry(e.leaf_input, e.extra_data) for e in fake.entries[1:3]]
    with pytest.raises(UsageError):
        await client.get_entries(3, 2)


async def test_proofs_verify(fake: FakeLog, client: LogClient) -> None:
    sth = fake.sth
    leaf_hash = fake.entries[3].leaf_hash
    index, path = await client.get_proof_by_hash(leaf_hash, sth.tree_size)
    assert index == 3
    verify_inclusion(3, sth.tree_size, leaf_hash, path, sth.root_hash)
    entry, path2 = await client.get_entry_and_proof(3, sth.tree_size)
    assert hash_leaf(entry.leaf_input) == leaf_hash and path2 == path


async def test_unknown_hash_is_a_404_with_the_logs_reason(client: LogClient) -> None:
    with pytest.raises(InputError) as info:
        await client.get_proof_by_hash(b"\x00" * 32, 5)
    assert info.value.http_status == 404
    assert "leaf hash not found" in str(info.value)


async def test_roots(fake: FakeLog, client: LogClient) -> None:
    assert await client.get_roots() == [fake.pki.root_der]


async def test_static_ct_read_path(fake: FakeLog, client: LogClient) -> None:
    note = await client.get_checkpoint()
    sth = sth_from_checkpoint_note(note, RFC6962NoteVerifier(fake.key.public, fake.origin))
    assert sth == fake.sth
    tile = await client.get_hash_tile(0, 0, 5)
    assert tile == b"".join(fake.leaf_hashes)
    leaves = parse_data_tile(await client.get_data_tile(0, 5))
    assert [MerkleTreeLeaf(t.timestamped_entry).serialize() for t in leaves] == [
        e.leaf_input for e in fake.entries
    ]
    fingerprint = leaves[0].certificate_chain[0]
    assert await client.get_issuer(fingerprint) == fake.pki.intermediate_der
    with pytest.raises(InputError) as info:
        await client.get_hash_tile(0, 0, 6)  # not published yet
    assert info.value.http_status == 404


async def test_retries_503_then_succeeds(fake: FakeLog) -> None:
    fake.inject("/ct/v1/get-sth", 503, times=2)
    sleeps = Sleeps()
    rng = random.Random(7)
    async with serving(fake) as url, LogClient(url, rng=rng, sleep=sleeps) as c:
        assert await c.get_sth() == fake.sth
        assert c.requests == 3
    assert fake.requests["/ct/v1/get-sth"] == 3
    assert len(sleeps.delays) == 2
    assert 0.1 <= sleeps.delays[0] < 0.2 and 0.2 <= sleeps.delays[1] < 0.4  # doubling, jittered


async def test_retry_after_is_honoured(fake: FakeLog) -> None:
    fake.inject("/ct/v1/get-entries", 429, retry_after="3")
    sleeps = Sleeps()
    async with serving(fake) as url, LogClient(url, sleep=sleeps) as c:
        assert len(await c.get_entries(0, 0)) == 1
    assert sleeps.delays == [3.0]


async def test_gives_up_with_log_unavailable(fake: FakeLog) -> None:
    fake.inject("/ct/v1/get-sth", 503, times=10)
    sleeps = Sleeps()
    async with serving(fake) as url, LogClient(url, max_attempts=3, sleep=sleeps) as c:
        with pytest.raises(LogUnavailable) as info:
            await c.get_sth()
    assert "failed 3 times" in str(info.value) and "HTTP 503" in str(info.value)
    assert fake.requests["/ct/v1/get-sth"] == 3 and len(sleeps.delays) == 2


async def test_unreachable_log_is_unavailable() -> None:
    (port,) = free_tcp_ports(1)
    sleeps = Sleeps()
    async with LogClient(f"http://127.0.0.1:{port}", max_attempts=2, sleep=sleeps) as c:
        with pytest.raises(LogUnavailable) as info:
            await c.get_sth()
    assert "ClientConnectorError" in str(info.value) and len(sleeps.delays) == 1


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve_one(path: str, handler: Handler) -> TestServer:
    app = web.Application()
    app.router.add_get(path, handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_garbage_and_oversize_bodies_are_input_errors() -> None:
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=b"<html>hello</html>")

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (200 * 1024))

    server = await serve_one("/ct/v1/get-sth", garbage)
    try:
        async with LogClient(str(server.make_url(""))) as c:
            with pytest.raises(InputError, match="get-sth response is not valid JSON"):
                await c.get_sth()
    finally:
        await server.close()
    server = await serve_one("/checkpoint", huge)
    try:
        async with LogClient(str(server.make_url(""))) as c:
            with pytest.raises(InputError, match="more than 131072"):
                await c.get_checkpoint()
    finally:
        await server.close()


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        LogClient("ftp://log.example")
    with pytest.raises(UsageError):
        LogClient("http://log.example", max_attempts=0)
