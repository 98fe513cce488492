"""`ctlog auditor --config` as a real process: it serves, audits, saves its state on SIGTERM,
and refuses a bad configuration with exit 2."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from common.net import free_tcp_ports
from ctlog.keys import LogSigningKey
from tests.ctlog.auditor.forking_log import ForkingLog
from tests.ctlog.auditor.network import serve, wall_ms, write_config

START_WAIT_S = 15.0  # the process imports aiohttp and cryptography on a shared box
CTLOG = [sys.executable, "-m", "ctlog.cli"]


@pytest.mark.integration
async def test_an_auditor_process_serves_audits_and_saves_on_sigterm(tmp_path: Path) -> None:
    log = ForkingLog.create(LogSigningKey.generate(), wall_ms, shared=7, forking=False)
    key_file = tmp_path / "log.pem"
    key_file.write_bytes(log.key.public.to_pem())
    runner, log_url = await serve(log.app(0))
    (port,) = free_tcp_ports(1)
    config = write_config(tmp_path, "solo", port, log_url, key_file, {})
    proc = await asyncio.create_subprocess_exec(
        *CTLOG, "auditor", "--config", str(config), stderr=asyncio.subprocess.PIPE
    )
    try:
        status = await _wait_for_status(f"http://127.0.0.1:{port}", proc)
        log.grow(0, 3)
        await asyncio.sleep(1.0)
        status = await _wait_for_status(f"http://127.0.0.1:{port}", proc)
        assert status["name"] == "solo" and status["alarms"] == []
        (log_status,) = status["logs"]
        assert log_status["top_size"] == 10 and log_status["proofs_verified"] >= 1, status
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await runner.cleanup()
    saved = json.loads((tmp_path / "solo-data" / "state.json").read_bytes())
    assert [h["sth"]["tree_size"] for h in saved["logs"][0]["verified"]] == [7, 10]


async def _wait_for_status(url: str, proc: asyncio.subprocess.Process) -> dict[str, object]:
    deadline = asyncio.get_running_loop().time() + START_WAIT_S
    async with aiohttp.ClientSession() as http:
        while True:
            assert proc.returncode is None, "the auditor exited early"
            try:
                async with http.get(url + "/status") as resp:
                    if resp.status == 200:
                        status: dict[str, object] = await resp.json()
                        return status
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "the auditor did not start"
            await asyncio.sleep(0.1)


async def test_a_bad_configuration_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ndata_dir = "d"\nlogs = []\ncolour = "blue"\n')
    missing_key = write_config(tmp_path, "nokey", 0, "http://127.0.0.1:1", tmp_path / "no.pem", {})
    for path, reason in ((bad, b"colour: unknown key"), (missing_key, b"cannot read log key")):
        proc = await asyncio.create_subprocess_exec(
            *CTLOG, "auditor", "--config", str(path), stderr=asyncio.subprocess.PIPE
        )
        _, err = await asyncio.wait_for(proc.communicate(), START_WAIT_S)
        assert proc.returncode == 2, err
        assert reason in err and err.count(b"\n") == 1
