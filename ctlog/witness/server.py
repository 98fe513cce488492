"""`ctlog witness serve`: the witness core behind aiohttp, its state in LevelDB.

Routes: `POST /add-checkpoint` (C2SP tlog-witness), `GET /healthz` and `GET /status`.
`WitnessService` is the one driver of the core and carries out its ordering contract: decide,
persist the update with one synced write (on a worker thread, so the loop keeps serving),
`apply` it, and only then answer. Requests naming one origin run one at a time under that
origin's `asyncio.Lock`: checking the old size and persisting the new state are atomic, so
concurrent requests can never roll the witness back (tlog-witness §add-checkpoint).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import web

from common.runtime import DataDir, add_health_routes, log_event
from common.store import LevelStore, StoreError
from ctlog.witness.config import WitnessConfig
from ctlog.witness.core import TEXT_CONTENT_TYPE, WitnessCore, WitnessResponse
from ctlog.witness.request import ADD_CHECKPOINT_PATH, MAX_REQUEST_BYTES
from ctlog.witness.storage import WitnessStore

log = logging.getLogger("opentrust.ctlog.witness")

STORE_DIR = "witness"  # the LevelDB directory inside the data directory


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class WitnessService:
    """Runs add-checkpoint requests through `core`, persisting to `store` before answering."""

    def __init__(
        self, core: WitnessCore, store: WitnessStore, clock_ms: Callable[[], int] = wall_clock_ms
    ) -> None:
        self.core = core
        self._store = store
        self._clock_ms = clock_ms
        self._locks = {origin: asyncio.Lock() for origin in core.origins}
        self._other = asyncio.Lock()  # requests naming no known origin change no state
        self.answered: dict[int, int] = {}  # HTTP status -> count, for /status

    async def add_checkpoint(self, body: bytes) -> WitnessResponse:
        origin = self.core.origin_hint(body)
        async with self._locks[origin] if origin is not None else self._other:
            response = self.core.add_checkpoint(body, self._clock_ms())
            update = response.update
            if update is not None:
                try:
                    await asyncio.to_thread(self._store.save, update)
                except StoreError as exc:
                    log_event(log, "persist failed", level=logging.ERROR, error=str(exc))
                    reason = b"cannot persist the witness state\n"
                    response = WitnessResponse(500, TEXT_CONTENT_TYPE, reason)
                else:
                    self.core.apply(update)
        self.answered[response.status] = self.answered.get(response.status, 0) + 1
        return response

    def status(self) -> dict[str, object]:
        logs = {o: self.core.state(o).tree_size for o in self.core.origins}
        return {"ok": True, "logs": logs, "answered": dict(self.answered)}


def make_witness_app(service: WitnessService) -> web.Application:
    """The aiohttp application of one witness; request bodies are bounded by aiohttp."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)

    async def add_checkpoint(request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            reason = f"request body is larger than {MAX_REQUEST_BYTES} bytes\n"
            return _reply(WitnessResponse(413, TEXT_CONTENT_TYPE, reason.encode()))
        response = await service.add_checkpoint(body)
        # tlog-witness: a refused proof or a second root may be evidence of log misbehaviour.
        suspicious = response.status == 422 or (
            response.status == 409 and response.content_type == TEXT_CONTENT_TYPE
        )
        log_event(
            log,
            "add-checkpoint",
            level=logging.WARNING if suspicious else logging.INFO,
            origin=service.core.origin_hint(body),
            status=response.status,
            reason=response.reason,
        )
        return _reply(response)

    app.router.add_post(ADD_CHECKPOINT_PATH, add_checkpoint)
    add_health_routes(app, service.status)
    return app


def _reply(response: WitnessResponse) -> web.Response:
    return web.Response(
        status=response.status,
        body=response.body,
        headers={"Content-Type": response.content_type},
    )


async def serve(config: WitnessConfig, data_dir: DataDir, stop: asyncio.Event) -> None:
    """Run the witness until `stop` is set."""
    store = LevelStore(data_dir.sub(STORE_DIR))
    try:
        state = WitnessStore(store)
        core = WitnessCore(config.logs, [config.signer], state.load())
        runner = web.AppRunner(make_witness_app(WitnessService(core, state)), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, config.host, config.port).start()
            log_event(
                log,
                "serving",
                url=f"http://{config.host}:{config.port}",
                vkey=config.signer.vkey,
                logs=len(config.logs),
            )
            await stop.wait()
        finally:
            await runner.cleanup()
    finally:
        store.close()


__all__ = ["STORE_DIR", "WitnessService", "make_witness_app", "serve", "wall_clock_ms"]
