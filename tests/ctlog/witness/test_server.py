"""The witness process end to end: HTTP answers, the client's typed errors, persistence,
restarts, and no rollback under concurrent requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from common.net import free_tcp_ports
from common.runtime import DataDir
from common.store import LevelStore
from ctlog.checkpoint import Checkpoint, RFC6962NoteSigner, sign_checkpoint
from ctlog.errors import InputError, LogUnavailable
from ctlog.keys import LogSigningKey
from ctlog.merkle import verify_consistency
from ctlog.note import Note
from ctlog.witness import (
    LogUpdate,
    OldSizeConflict,
    ProofRejected,
    SignatureRejected,
    UnknownLog,
    WitnessCore,
    verify_cosigned,
)
from ctlog.witness.client import add_cosignatures, request_cosignature
from ctlog.witness.config import WitnessConfig
from ctlog.witness.request import MAX_REQUEST_BYTES
from ctlog.witness.server import WitnessService, make_witness_app, serve
from ctlog.witness.storage import WitnessStore
from tests.ctlog.witness.helpers import (
    LOG_SIGNER,
    NOW_MS,
    ORIGIN,
    WITNESS_SIGNER,
    SignedTree,
    consistency_proof,
    make_core,
    make_leaves,
    mth,
)

MAIN = SignedTree(make_leaves(64))
FORK = SignedTree(MAIN.leaves[:8] + make_leaves(56, b"fork"))


class RecordingStore(WitnessStore):
    """A LevelDB witness store that records each save and can be slowed per target size."""

    def __init__(self, store: LevelStore, delays_s: dict[int, float] | None = None) -> None:
        super().__init__(store)
        self.saved: list[LogUpdate] = []
        self.delays_s = delays_s or {}

    def save(self, update: LogUpdate) -> None:
        time.sleep(self.delays_s.get(update.new.tree_size, 0.0))  # runs on a worker thread
        super().save(update)
        self.saved.append(update)


@contextlib.asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[str]:
    """A witness on LevelDB behind a test HTTP server; yields its base URL."""
    level = LevelStore(tmp_path / "db")
    service = WitnessService(make_core(), WitnessStore(level), clock_ms=lambda: NOW_MS)
    try:
        async with TestServer(make_witness_app(service), host="127.0.0.1") as server:
            yield str(server.make_url("/"))
    finally:
        level.close()


async def test_add_checkpoint_over_http_and_the_typed_client_errors(tmp_path: Path) -> None:
    async with running(tmp_path) as url:
        answer = await request_cosignature(url, 0, [], MAIN.note(9))
        cosigned = add_cosignatures(MAIN.note(9), answer)
        report = verify_cosigned(cosigned, LOG_SIGNER.verifier(), [WITNESS_SIGNER.verifier()], 1)
        assert report.cosigned == ((WITNESS_SIGNER.name, NOW_MS // 1000),)
        with pytest.raises(OldSizeConflict) as conflict:
            await request_cosignature(url, 0, [], MAIN.note(12))
        assert (conflict.value.http_status, conflict.value.witness_size) == (409, 9)
        with pytest.raises(ProofRejected) as bad_proof:  # the fork differs from leaf 8 on
            await request_cosignature(url, 9, FORK.proof(9, 12), FORK.note(12))
        assert bad_proof.value.http_status == 422
        await request_cosignature(url, 9, MAIN.proof(9, 12), MAIN.note(12))


async def test_unknown_log_and_bad_signature_errors(tmp_path: Path) -> None:
    async with running(tmp_path) as url:
        stranger = RFC6962NoteSigner(LogSigningKey.generate(), "other.example/log")
        other = Checkpoint("other.example/log", 1, MAIN.checkpoint(1).root_hash)
        with pytest.raises(UnknownLog) as unknown:
            await request_cosignature(url, 0, [], sign_checkpoint(other, stranger, 1))
        assert unknown.value.http_status == 404
        impostor = RFC6962NoteSigner(LogSigningKey.generate(), ORIGIN)
        with pytest.raises(SignatureRejected) as forged:
            await request_cosignature(url, 0, [], sign_checkpoint(MAIN.checkpoint(3), impostor, 1))
        assert forged.value.http_status == 403 and "does not verify" in str(forged.value)


async def test_raw_http_answers(tmp_path: Path) -> None:
    async with running(tmp_path) as url, aiohttp.ClientSession() as session:
        async with session.post(url + "add-checkpoint", data=b"old 1\n") as resp:
            assert resp.status == 400 and (await resp.text()).startswith("malformed request")
        async with session.post(url + "add-checkpoint", data=MAIN.request(0, 4)) as resp:
            assert resp.status == 200
        async with session.post(url + "add-checkpoint", data=MAIN.request(2, 6)) as resp:
            assert resp.status == 409
            assert resp.headers["Content-Type"] == "text/x.tlog.size"
            assert await resp.read() == b"4\n"
        async with session.post(
            url + "add-checkpoint", data=b"x" * (MAX_REQUEST_BYTES + 1)
        ) as resp:
            assert resp.status == 413
        async with session.get(url + "add-checkpoint") as resp:
            assert resp.status == 405
        async with session.get(url + "healthz") as resp:
            assert resp.status == 200
        async with session.get(url + "status") as resp:
            status = await resp.json()
            assert status["logs"] == {ORIGIN: 4}
            assert status["answered"] == {"200": 1, "400": 1, "409": 1}


async def test_client_maps_unreachable_and_garbage(tmp_path: Path) -> None:
    (port,) = free_tcp_ports(1)
    with pytest.raises(LogUnavailable):
        await request_cosignature(f"http://127.0.0.1:{port}", 0, [], MAIN.note(1))
    with pytest.raises(InputError):
        await request_cosignature("http://127.0.0.1:1", 0, [], b"not a note")


async def test_a_slow_persist_cannot_roll_the_witness_back(tmp_path: Path) -> None:
    """Two requests from old size 0: the one to 5 persists slowly, the one to 9 quickly.
    The per-origin lock makes the second wait and get 409; without it the witness would
    write 9 and then 5 to disk, cosigning both."""
    level = LevelStore(tmp_path / "db")
    store = RecordingStore(level, delays_s={5: 0.2})
    service = WitnessService(make_core(), store, clock_ms=lambda: NOW_MS)
    first, second = await asyncio.gather(
        service.add_checkpoint(MAIN.request(0, 5)), service.add_checkpoint(MAIN.request(0, 9))
    )
    assert (first.status, second.status, second.body) == (200, 409, b"5\n")
    assert [u.new.tree_size for u in store.saved] == [5]
    level.close()


async def test_the_lock_is_what_prevents_the_rollback(tmp_path: Path) -> None:
    """The same race with the lock taken away: the disk state goes back from 9 to 5."""
    level = LevelStore(tmp_path / "db")
    store = RecordingStore(level, delays_s={5: 0.2})
    service = WitnessService(make_core(), store, clock_ms=lambda: NOW_MS)
    service._locks[ORIGIN] = contextlib.nullcontext()  # type: ignore[assignment]
    results = await asyncio.gather(
        service.add_checkpoint(MAIN.request(0, 5)),
        service.add_checkpoint(MAIN.request(0, 9)),
        return_exceptions=True,
    )
    assert [u.new.tree_size for u in store.saved] == [9, 5]  # a rollback on disk
    assert any(isinstance(r, Exception) and "stale update" in str(r) for r in results)
    level.close()


async def _client(
    url: str, client: tuple[SignedTree, int, int], seed: int, session: aiohttp.ClientSession
) -> tuple[list[tuple[int, bytes]], int]:
    """A log pushing growing checkpoints and following 409 answers: its cosigned
    (size, root) pairs and how many of its checkpoints the witness refused."""
    tree, rounds, top = client
    rng = random.Random(seed)
    cosigned: list[tuple[int, bytes]] = []
    refused = 0
    old = 0
    for _ in range(rounds):
        new = rng.randrange(old, max(old, top) + 1)
        try:
            await request_cosignature(
                url, old, tree.proof(old, new), tree.note(new), session=session
            )
        except OldSizeConflict as exc:
            if exc.witness_size is None:  # same size, another root: a fork refused
                refused += 1
            old = exc.witness_size if exc.witness_size is not None else old
            continue
        except ProofRejected:
            refused += 1
            continue
        cosigned.append((new, tree.checkpoint(new).root_hash))
        old = new
    return cosigned, refused


async def test_concurrent_requests_never_roll_back(tmp_path: Path) -> None:
    seed = 20240601
    rng = random.Random(seed)
    level = LevelStore(tmp_path / "db")
    store = RecordingStore(level, {size: rng.random() * 0.005 for size in range(65)})
    service = WitnessService(make_core(), store, clock_ms=lambda: NOW_MS)
    # 14 honest clients up to size 48, and 2 pushing a fork up to 64 for longer.
    clients = [(MAIN, 12, 48)] * 14 + [(FORK, 40, 64)] * 2
    async with TestServer(make_witness_app(service), host="127.0.0.1") as server:
        url = str(server.make_url("/"))
        async with aiohttp.ClientSession() as session:
            runs = await asyncio.gather(
                *(_client(url, client, seed + i, session) for i, client in enumerate(clients))
            )
    cosigned = [c for run, _ in runs for c in run]
    sizes = [u.new.tree_size for u in store.saved]
    assert sizes == sorted(set(sizes)), f"SEED={seed}: stored sizes went back: {sizes}"
    assert all(a.new == b.previous for a, b in zip(store.saved, store.saved[1:], strict=False))
    final = service.core.state(ORIGIN)
    lineage = MAIN if final.root_hash == mth(MAIN.leaves[: final.tree_size]) else FORK
    assert len(cosigned) >= 20, f"SEED={seed}: too few cosignatures to test anything"
    assert sum(refused for _, refused in runs) > 0, f"SEED={seed}: no fork was ever refused"
    for size, root in cosigned:
        assert root == mth(lineage.leaves[:size]), f"SEED={seed}: cosigned another lineage"
        if 0 < size < final.tree_size:
            proof = consistency_proof(size, lineage.leaves[: final.tree_size])
            verify_consistency(size, final.tree_size, root, final.root_hash, proof)
    assert WitnessStore(level).load() == {ORIGIN: final}
    level.close()


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    level = LevelStore(tmp_path / "db")
    service = WitnessService(make_core(), WitnessStore(level), clock_ms=lambda: NOW_MS)
    assert (await service.add_checkpoint(MAIN.request(0, 7))).status == 200
    level.close()
    level = LevelStore(tmp_path / "db")
    state = WitnessStore(level).load()
    core = WitnessCore({ORIGIN: [LOG_SIGNER.verifier()]}, [WITNESS_SIGNER], state)
    restarted = WitnessService(core, WitnessStore(level), clock_ms=lambda: NOW_MS)
    stale = await restarted.add_checkpoint(MAIN.request(0, 9))
    assert (stale.status, stale.body) == (409, b"7\n")
    assert (await restarted.add_checkpoint(MAIN.request(7, 9))).status == 200
    level.close()


async def test_serve_on_a_real_port_until_stopped(tmp_path: Path) -> None:
    (port,) = free_tcp_ports(1)
    config = WitnessConfig(
        WITNESS_SIGNER, {ORIGIN: (LOG_SIGNER.verifier(),)}, tmp_path, "127.0.0.1", port
    )
    stop = asyncio.Event()
    with DataDir(tmp_path / "data") as data_dir:
        task = asyncio.create_task(serve(config, data_dir, stop))
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            with contextlib.suppress(LogUnavailable):
                answer = await request_cosignature(url, 0, [], MAIN.note(3))
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the witness did not start")
        note = Note.parse(add_cosignatures(MAIN.note(3), answer))
        assert note.signatures[-1].name == WITNESS_SIGNER.name
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_possible_misbehaviour_is_logged_as_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="opentrust.ctlog.witness")
    async with running(tmp_path) as url, aiohttp.ClientSession() as session:
        for body in (MAIN.request(0, 9), FORK.request(9, 9), FORK.request(9, 12)):
            async with session.post(url + "add-checkpoint", data=body):
                pass
    levels = [(r.levelname, r.msg, getattr(r, "event_fields", {})) for r in caplog.records]
    assert [(lvl, f["status"]) for lvl, msg, f in levels if msg == "add-checkpoint"] == [
        ("INFO", 200),
        ("WARNING", 409),
        ("WARNING", 422),
    ]
    assert all(f["origin"] == ORIGIN for _, msg, f in levels if msg == "add-checkpoint")
