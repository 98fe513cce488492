"""A PySyncObj replica behind the same HTTP command API as `opentrust kv serve` (puts only).

Used only by `python -m bench raft` so both systems are driven by the same load generator.
PySyncObj forwards commands from followers to its leader itself.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import signal

from aiohttp import web
from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf
from pysyncobj.batteries import ReplDict

APPLY_TIMEOUT_S = 5.0


def build(self_addr: str, others: list[str], token: str) -> web.Application:
    conf = SyncObjConf(appendEntriesUseBatch=False, dynamicMembershipChange=False)
    store = ReplDict()
    syncobj = SyncObj(self_addr, others, conf=conf, consumers=[store])
    expected = token.encode()

    def authorized(request: web.Request) -> bool:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
        return hmac.compare_digest(supplied, expected)

    async def put(key: str, value: str) -> dict[str, object]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()

        def callback(_result: object, error: int) -> None:
            loop.call_soon_threadsafe(_settle, done, error)

        store.set(key, value, callback=callback)
        try:
            error = await asyncio.wait_for(done, APPLY_TIMEOUT_S)
        except TimeoutError:
            return {"error": "timeout"}
        if error != FAIL_REASON.SUCCESS:
            return {"error": f"fail {error}"}
        return {"status": "ok", "index": 0}

    async def command(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = json.loads(await request.read())
        result = await put(body["key"], body["value"])
        return web.json_response(result, status=200 if "status" in result else 503)

    async def batch(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = json.loads(await request.read())
        results = await asyncio.gather(*(put(c["key"], c["value"]) for c in body["commands"]))
        return web.json_response({"results": results})

    async def status(_request: web.Request) -> web.Response:
        leader = syncobj._getLeader()
        return web.json_response(
            {"leader": str(leader) if leader else "", "ready": syncobj.isReady()}
        )

    app = web.Application()
    app.router.add_post("/v1/command", command)
    app.router.add_post("/v1/batch", batch)
    app.router.add_get("/status", status)
    return app


def _settle(future: asyncio.Future[int], error: int) -> None:
    if not future.done():
        future.set_result(error)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--self", dest="self_addr", required=True)
    parser.add_argument("--other", action="append", default=[])
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    app = build(args.self_addr, args.other, args.token)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    web.run_app(app, host="127.0.0.1", port=args.http_port, print=None, handle_signals=False)


if __name__ == "__main__":
    main()
