"""A single-replica log in this process, behind aiohttp's test client.

The replica is the real one (Raft node, state machine, sequencer, publisher, HTTP app) over
in-memory stores; only the process around it is missing. Its dev PKI issues chains the log
accepts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from common.net import free_tcp_ports
from common.store import MemoryStore
from ctlog.devcerts import DevPki
from ctlog.log.config import LogConfig, load_log_config
from ctlog.log.files import Setting, write_log_files
from ctlog.log.process import build_transport
from ctlog.log.replica import LogReplica
from ctlog.server.app import make_log_app

FAST_RAFT: dict[str, Setting] = {"tick_ms": 5, "election_ticks": 4, "heartbeat_ticks": 1}
TEST_SETTINGS: dict[str, Setting] = {
    "max_merge_delay_s": 60,
    "sequence_interval_ms": 5,
    "sth_interval_ms": 50,
    "max_get_entries": 3,
    "validation_workers": 0,  # inline: no worker process per test (one test covers workers)
}
READY_TIMEOUT_S = 10.0


class InProcessLog:
    """`async with InProcessLog(tmp_path) as log:` — `log.client`, `log.replica`, `log.pki`."""

    def __init__(self, root: Path, settings: Mapping[str, Setting] | None = None) -> None:
        self.now = datetime.now(UTC)
        peer, http = free_tcp_ports(2)
        config_path = write_log_files(
            root,
            name="test",
            ports=[(peer, http)],
            now=self.now,
            settings={**TEST_SETTINGS, **(settings or {})},
            raft=FAST_RAFT,
        )
        self.config: LogConfig = load_log_config(config_path)
        self.pki = DevPki.load(root / "devpki", self.now)
        secret = self.config.read_secret()
        self.replica = LogReplica(
            self.config,
            "n1",
            raft_store=MemoryStore(),
            log_store=MemoryStore(),
            transport=build_transport(self.config, "n1", secret),
            key=self.config.read_key(),
            roots=self.config.read_roots(),
            secret=secret,
        )
        self.client = TestClient(TestServer(make_log_app(self.replica, secret)))

    async def __aenter__(self) -> InProcessLog:
        await self.replica.start()
        await self.client.start_server()
        await self.wait_published(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
        await self.replica.stop()

    async def wait_published(self, size: int) -> None:
        """Wait until a tree head of at least `size` entries is published."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            sth = self.replica.machine.latest_sth
            if sth is not None and sth.tree_size >= size:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"no tree head of size {size} within {READY_TIMEOUT_S} s")

    async def post_json(self, path: str, body: object) -> tuple[int, Any]:
        async with self.client.post(path, json=body) as response:
            return response.status, await response.json()

    async def get_json(self, path: str) -> tuple[int, Any]:
        async with self.client.get(path) as response:
            return response.status, await response.json()

    async def get_bytes(self, path: str) -> tuple[int, bytes, str]:
        async with self.client.get(path) as response:
            return response.status, await response.read(), response.content_type


__all__ = ["FAST_RAFT", "TEST_SETTINGS", "InProcessLog"]
