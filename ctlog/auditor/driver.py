"""`AuditorDriver`: runs an `AuditorCore` on asyncio, with aiohttp for the logs and peers.

It serves `POST /.well-known/ct/v1/sth-pollination` (draft-ietf-trans-gossip §8.2),
`GET /healthz` and `GET /status`; ticks the core; carries out each `Ready` in its stated
order (evidence files are written and fsynced before any fetch or send starts); and saves
the chains and pool to `<data dir>/state.json` every `PERSIST_INTERVAL_S` and at shutdown.
Evidence goes to `<data dir>/evidence/<log id hex>-<n1>-<n2>.json` with an alarm log line.
The driver only decodes, calls the core and does I/O; every decision is the core's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from common.errors import CommonError, ConfigError
from common.runtime import (
    DataDir,
    DataDirError,
    add_health_routes,
    log_event,
    write_file_atomic,
)
from ctlog.auditor._effects import (
    Alarm,
    AuditedLog,
    FetchConsistency,
    FetchSth,
    Peer,
    Sender,
    SendPollination,
)
from ctlog.auditor._state import dump_state, load_state
from ctlog.auditor.client import PEER_HEADER, pollinate
from ctlog.auditor.config import AuditorConfig
from ctlog.auditor.core import AuditorCore, AuditorParams
from ctlog.auditor.evidence import Verdict
from ctlog.auditor.pollination import MAX_POLLINATION_BYTES, POLLINATION_PATH
from ctlog.client import LogClient
from ctlog.errors import CtlogError, InputError, UsageError
from ctlog.keys import LogPublicKey

STATE_FILE = "state.json"
EVIDENCE_DIR = "evidence"
PERSIST_INTERVAL_S = 5.0  # how much seen-STH state a crash may lose
TICKS_PER_INTERVAL = 4  # ticks per poll/gossip interval: effects start within 1/4 of it
MIN_TICK_S, MAX_TICK_S = 0.01, 1.0  # bounds on the tick period
LOG_ATTEMPTS = 2  # tries within one fetch; the core retries across ticks with backoff
MAX_KEY_FILE_BYTES = 64 * 1024  # a PEM public key is well under 1 KiB

log = logging.getLogger("ctlog.auditor")


def load_log_key(path: Path) -> LogPublicKey:
    """A log's PEM public key from `path`; `UsageError` naming the file otherwise."""
    try:
        with open(path, "rb") as f:
            pem = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read log key {path}: {exc.strerror}") from None
    try:
        return LogPublicKey.from_pem(pem)
    except InputError as exc:
        raise UsageError(f"log key {path}: {exc}") from None


class AuditorDriver:
    """Runs one auditor; `await run(stop)` or `start()` / `stop()`."""

    def __init__(
        self,
        config: AuditorConfig,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        logs = [AuditedLog(load_log_key(c.key_file), c.url) for c in config.logs]
        self._logs = logs
        params = AuditorParams(
            poll_interval_ms=int(config.poll_interval_s * 1000),
            gossip_interval_ms=int(config.gossip_interval_s * 1000),
            accept_clients=config.accept_clients,
        )
        peers = [Peer(p.name, p.url) for p in config.peers]
        self.core = AuditorCore(
            config.name, logs, peers, rng or random.Random(), params, peer_token=config.peer_token
        )
        interval = min(config.poll_interval_s, config.gossip_interval_s) / TICKS_PER_INTERVAL
        self._tick_s = min(MAX_TICK_S, max(MIN_TICK_S, interval))
        self._tasks: set[asyncio.Task[None]] = set()
        self._datadir: DataDir | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[bytes, LogClient] = {}
        self._ticker: asyncio.Task[None] | None = None
        self.evidence_files: list[Path] = []
        self.port: int | None = None

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._datadir = DataDir(self.config.data_dir)
        self._evidence_dir = self._datadir.sub(EVIDENCE_DIR)
        saved = self._datadir.read(STATE_FILE)
        if saved is not None:
            try:
                load_state(self.core, saved, self._now_ms())
            except InputError as exc:
                raise ConfigError(f"{self._datadir.path / STATE_FILE}: {exc}") from None
        self._session = aiohttp.ClientSession()
        self._clients = {
            log.log_id: LogClient(
                log.url,
                session=self._session,
                timeout_s=self.config.log_timeout_s,
                max_attempts=LOG_ATTEMPTS,
            )
            for log in self._logs
        }
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen_host, self.config.listen_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._ticker = asyncio.create_task(self._tick_loop())
        log_event(log, "auditor started", name=self.config.name, url=self.url)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(
            *([self._ticker] if self._ticker else []), *self._tasks, return_exceptions=True
        )
        self._ticker = None
        self._persist()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._datadir is not None:
            self._datadir.close()
            self._datadir = None

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.config.listen_host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_POLLINATION_BYTES)
        app.router.add_post(POLLINATION_PATH, self._handle_pollination)
        add_health_routes(app, self.status)
        return app

    def status(self) -> dict[str, object]:
        return {**self.core.status(), "evidence_files": [p.name for p in self.evidence_files]}

    # -- the loop ---------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        next_persist = time.monotonic() + PERSIST_INTERVAL_S
        while True:
            self.core.tick(self._now_ms())
            self._drain()
            if time.monotonic() >= next_persist:
                next_persist = time.monotonic() + PERSIST_INTERVAL_S
                self._persist()
            await asyncio.sleep(self._tick_s)

    def _drain(self) -> None:
        """Carry out the core's `Ready`: alarms first (durably), then fetches and sends."""
        ready = self.core.ready()
        for alarm in ready.alarms:
            self._store_alarm(alarm)
        for fetch in ready.fetch_sths:
            self._spawn(self._fetch_sth(fetch))
        for check in ready.fetch_proofs:
            self._spawn(self._fetch_proof(check))
        for send in ready.pollinations:
            self._spawn(self._send(send))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        # Bounded by the core: one poll per log, MAX_INFLIGHT_PER_LOG proofs per log, and
        # one pollination per peer per round, each ended by its timeout.
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- effects ----------------------------------------------------------------------------

    async def _fetch_sth(self, fetch: FetchSth) -> None:
        try:
            sth = await self._clients[fetch.log_id].get_sth()
        except (CtlogError, aiohttp.ClientError, TimeoutError) as exc:
            self.core.on_sth_failed(fetch.log_id, str(exc), self._now_ms())
            log_event(log, "get-sth failed", level=logging.DEBUG, log=fetch.url, error=str(exc))
        else:
            rejection = self.core.on_sth(fetch.log_id, sth, self._now_ms())
            if rejection is not None:
                log_event(
                    log,
                    "log served an STH we do not take",
                    level=logging.WARNING,
                    log=fetch.url,
                    reason=rejection.value,
                    tree_size=sth.tree_size,
                )
        self._drain()

    async def _fetch_proof(self, check: FetchConsistency) -> None:
        client = self._clients[check.log_id]
        try:
            proof = await client.get_sth_consistency(check.first, check.second)
        except InputError as exc:  # the log's own answer: an error status or a bad body
            self.core.on_proof_failed(
                check.request_id, str(exc), refused=True, now_ms=self._now_ms()
            )
        except (CtlogError, aiohttp.ClientError, TimeoutError) as exc:
            self.core.on_proof_failed(
                check.request_id, str(exc), refused=False, now_ms=self._now_ms()
            )
        else:
            self.core.on_proof(check.request_id, proof, self._now_ms())
        self._drain()

    async def _send(self, send: SendPollination) -> None:
        try:
            reply = await pollinate(
                send.url,
                send.sths,
                session=self._session,
                peer=self.config.name,
                token=self.config.peer_token,
                timeout_s=self.config.log_timeout_s,
            )
            self.core.on_pollination_reply(send.peer, reply, self._now_ms())
        except (CtlogError, aiohttp.ClientError, TimeoutError) as exc:
            self.core.on_pollination_failed(send.peer, str(exc), self._now_ms())
            log_event(
                log, "pollination failed", level=logging.DEBUG, peer=send.peer, error=str(exc)
            )
        self._drain()

    async def _handle_pollination(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self.core.counters["pollinations_too_large"] += 1
            return _error(413, f"pollination is over the limit of {MAX_POLLINATION_BYTES} bytes")
        sender = Sender(
            peer=request.headers.get(PEER_HEADER),
            token=_bearer(request.headers.get("Authorization")),
            address=request.remote or "client",
        )
        try:
            reply = self.core.on_pollination(sender, body, self._now_ms())
        except InputError as exc:
            log_event(
                log,
                "pollination refused",
                level=logging.WARNING,
                status=exc.http_status,
                reason=str(exc),
                peer=sender.peer,
                remote=sender.address,
            )
            return _error(exc.http_status, str(exc))
        finally:
            self._drain()
        return web.Response(body=reply, content_type="application/json")

    def _store_alarm(self, alarm: Alarm) -> None:
        bundle, verdict = alarm.bundle, alarm.verdict
        path = self._evidence_dir / bundle.file_name
        try:
            write_file_atomic(path, bundle.to_bytes())
        except DataDirError as exc:
            log_event(log, "cannot write evidence", level=logging.ERROR, error=str(exc))
        else:
            self.evidence_files.append(path)
        what = (
            "ALARM split view"
            if verdict.verdict is Verdict.SPLIT_VIEW
            else "ALARM log failed to prove consistency"
        )
        log_event(
            log,
            what,
            level=logging.ERROR,
            log_id=bundle.log_id.hex(),
            kind=bundle.kind.value,
            verdict=verdict.verdict.value,
            first_size=bundle.first.tree_size,
            second_size=bundle.second.tree_size,
            evidence=str(path),
            reason=verdict.reason,
        )

    def _persist(self) -> None:
        if self._datadir is None:
            return
        try:
            self._datadir.write_atomic(STATE_FILE, dump_state(self.core))
        except CommonError as exc:  # DataDirError: the disk refused; keep auditing
            log_event(log, "cannot save state", level=logging.ERROR, error=str(exc))

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _bearer(header: str | None) -> str | None:
    if header is None or not header.startswith("Bearer "):
        return None
    return header[len("Bearer ") :]


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": " ".join(reason.split())}, status=status)


__all__ = ["EVIDENCE_DIR", "STATE_FILE", "AuditorDriver", "load_log_key"]
