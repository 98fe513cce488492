"""Real servers on 127.0.0.1 for the auditor tests: a forking (or honest) log with one port
per view, and auditors wired to each other through TOML files in a temporary directory."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from common.net import free_tcp_ports
from ctlog.auditor.config import load_auditor_config
from ctlog.auditor.driver import AuditorDriver
from ctlog.keys import LogSigningKey
from tests.ctlog.auditor.forking_log import ForkingLog

GROW_EVERY_S = 0.15  # how often the log adds a leaf to each view
INTERVAL_S = 0.2  # the auditors' poll and gossip interval


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Network:
    log: ForkingLog
    log_urls: list[str]  # one per view
    key_file: Path
    auditors: list[AuditorDriver]


async def serve(app: web.Application, port: int = 0) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def write_config(
    directory: Path, name: str, port: int, log_url: str, key_file: Path, peers: dict[str, int]
) -> Path:
    peer_tables = "".join(
        f'\n[[peers]]\nname = "{p}"\nurl = "http://127.0.0.1:{pport}"\n'
        for p, pport in peers.items()
    )
    path = directory / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\ndata_dir = "{name}-data"\nlisten_port = {port}\n'
        f"poll_interval_s = {INTERVAL_S}\ngossip_interval_s = {INTERVAL_S}\n"
        f'log_timeout_s = 2.0\npeer_token = "shared-secret"\n'
        f'\n[[logs]]\nurl = "{log_url}"\nkey_file = "{key_file.name}"\n{peer_tables}'
    )
    return path


@contextlib.asynccontextmanager
async def running(directory: Path, *, forking: bool, views: list[int]) -> AsyncIterator[Network]:
    """A log (two views) and one auditor per entry of `views`, all gossiping with each other."""
    log = ForkingLog.create(LogSigningKey.generate(), wall_ms, shared=5, forking=forking)
    key_file = directory / "log.pem"
    key_file.write_bytes(log.key.public.to_pem())
    runners: list[web.AppRunner] = []
    drivers: list[AuditorDriver] = []
    grower: asyncio.Task[None] | None = None
    try:
        urls = []
        for view in range(2):
            runner, url = await serve(log.app(view))
            runners.append(runner)
            urls.append(url)
        ports = free_tcp_ports(len(views))
        names = [f"auditor-{i}" for i in range(len(views))]
        for i, view in enumerate(views):
            peers = {n: p for n, p in zip(names, ports, strict=True) if n != names[i]}
            path = write_config(directory, names[i], ports[i], urls[view], key_file, peers)
            drivers.append(AuditorDriver(load_auditor_config(path)))
        for driver in drivers:
            await driver.start()
        grower = asyncio.create_task(_grow(log))
        yield Network(log, urls, key_file, drivers)
    finally:
        if grower is not None:
            grower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await grower
        for driver in drivers:
            await driver.stop()
        for runner in runners:
            await runner.cleanup()


async def _grow(log: ForkingLog) -> None:
    while True:
        await asyncio.sleep(GROW_EVERY_S)
        log.grow_all(1)


__all__ = ["INTERVAL_S", "Network", "running", "serve", "wall_ms", "write_config"]
