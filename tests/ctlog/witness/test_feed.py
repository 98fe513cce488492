"""`ctlog witness feed`: a log's checkpoint goes to witnesses, 409s are answered with the
log's consistency proof, and the cosigned note passes a k-of-n check."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner, Result

from common.net import free_tcp_ports
from common.store import MemoryStore
from ctlog.checkpoint import RFC6962NoteVerifier
from ctlog.cli import main
from ctlog.client import LogClient
from ctlog.witness import WitnessCore, verify_cosigned
from ctlog.witness.feeder import cosign_once, feed_witnesses
from ctlog.witness.server import WitnessService, make_witness_app
from ctlog.witness.storage import WitnessStore
from tests.ctlog.fakelog import FakeLog, dev_pki, serving, serving_in_thread
from tests.ctlog.witness.helpers import NOW_MS, WITNESS_SIGNER


def submit(log: FakeLog, count: int, tag: str) -> None:
    for i in range(count):
        log.submit(log.pki.issue_leaf([f"{tag}{i}.example.com"]))
    log.publish()


def witness_app(log: FakeLog) -> web.Application:
    core = WitnessCore({log.origin: [RFC6962NoteVerifier(log.key.public, log.origin)]},
                       [WITNESS_SIGNER])  # fmt: skip
    return make_witness_app(WitnessService(core, WitnessStore(MemoryStore()), lambda: NOW_MS))


@contextlib.asynccontextmanager
async def serving_witness(log: FakeLog) -> AsyncIterator[str]:
    async with TestServer(witness_app(log), host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


async def test_feeding_answers_409_with_the_logs_proof() -> None:
    log = FakeLog(dev_pki())
    submit(log, 3, "a")
    async with (
        serving(log) as log_url,
        serving_witness(log) as witness_url,
        LogClient(log_url) as client,
    ):
        first = await client.get_checkpoint()
        await cosign_once(client, first, witness_url)  # from size 0, no proof needed
        submit(log, 5, "b")
        second = await client.get_checkpoint()
        result = await feed_witnesses(client, second, [witness_url])
        proofs_asked = log.requests["/ct/v1/get-sth-consistency"]
    assert result.cosigned_by == (witness_url,) and result.failures == ()
    assert proofs_asked == 1  # the witness held size 3: the feeder proved 3 -> 8
    verifier = RFC6962NoteVerifier(log.key.public, log.origin)
    report = verify_cosigned(result.note, verifier, [WITNESS_SIGNER.verifier()], 1)
    assert report.checkpoint.tree_size == 8
    assert [name for name, _ in report.cosigned] == [WITNESS_SIGNER.name]


async def test_a_refusing_witness_does_not_stop_the_others() -> None:
    log = FakeLog(dev_pki())
    submit(log, 2, "a")
    (dead_port,) = free_tcp_ports(1)
    dead = f"http://127.0.0.1:{dead_port}"
    async with (
        serving(log) as log_url,
        serving_witness(log) as witness_url,
        LogClient(log_url) as client,
    ):
        note = await client.get_checkpoint()
        result = await feed_witnesses(client, note, [dead, witness_url])
    assert result.cosigned_by == (witness_url,)
    assert [url for url, _ in result.failures] == [dead]
    assert result.note.count(b"\n\xe2\x80\x94 ") == 2  # the log's signature and one cosignature


@contextlib.contextmanager
def witness_in_thread(log: FakeLog) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    urls: list[str] = []
    ready, stop = threading.Event(), asyncio.Event()

    async def run() -> None:
        async with serving_witness(log) as url:
            urls.append(url)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(timeout=10), "the witness did not start"
        yield urls[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


def feed(log_url: str, key: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["witness", "feed", "--log", log_url, "--log-key", str(key),
                                     *args])  # fmt: skip


def test_feed_command_writes_a_note_verify_checkpoint_accepts(tmp_path: Path) -> None:
    log = FakeLog(dev_pki())
    submit(log, 4, "c")
    key = tmp_path / "log.pem"
    key.write_bytes(log.key.public.to_pem())
    note = tmp_path / "checkpoint"
    with serving_in_thread(log) as log_url, witness_in_thread(log) as witness_url:
        fed = feed(log_url, key, "--witness", witness_url, "--out", str(note), "--json")
        assert fed.exit_code == 0, fed.output
        assert json.loads(fed.stdout)["cosigned_by"] == [witness_url]
        (dead_port,) = free_tcp_ports(1)
        partial = feed(log_url, key, "--witness", f"http://127.0.0.1:{dead_port}")
        assert partial.exit_code == 1 and "not every witness cosigned" in partial.stderr
    checked = CliRunner().invoke(main, ["verify-checkpoint", "--log-key", str(key), "--witness",
                                        WITNESS_SIGNER.vkey, str(note)])  # fmt: skip
    assert checked.exit_code == 0, checked.output
    assert "cosigned by 1 of 1 witnesses" in checked.stdout
    wrong_key = feed("http://127.0.0.1:1", note, "--witness", "http://x")
    assert wrong_key.exit_code == 2 and "bad log key" in wrong_key.stderr
