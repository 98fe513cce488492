"""`btcnode run`'s asyncio driver: open the node, serve RPC, P2P and notifications, shut down.

Start, in order: the stores, script checker, chainstate and mempool (`NodeServices.open`),
the node listeners (monitor, notification feed), the peer manager on the P2P port, the RPC
cookie and the RPC server (with `GET /events` and the wallet methods over --walletdir) on
the RPC port, then the monitor and, with --mine-to, the miner. The node core is synchronous
and not thread-safe: every call into it (RPC methods, wallets, P2P messages, the miner) runs
on this one event loop.

Shutdown, when `stop` is set (SIGTERM/SIGINT, or the `stop` RPC): end the SSE streams and
stop the RPC server (no new calls), close the loaded wallets, stop the peer manager, stop
the miner and monitor, flush the chainstate, close the mempool store, chainstate store and
script checker, delete the cookie. The data directory's lock is released by the caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import REGTEST
from btcnode.daemon.events_http import EventFeed
from btcnode.daemon.gcpolicy import SyncGc
from btcnode.daemon.layout import COOKIE_FILE, WALLETS_DIR
from btcnode.daemon.mining import mine_periodically
from btcnode.daemon.monitor import NodeMonitor
from btcnode.daemon.options import LISTEN_HOST, NodeOptions
from btcnode.daemon.services import NodeServices, OpenedNode
from btcnode.daemon.wallets import wallet_rpc
from btcnode.notify import NotificationHub, NotificationTranslator
from btcnode.p2p.manager import PeerManager
from btcnode.rpc import (
    RpcContext,
    RpcCredentials,
    create_rpc_app,
    delete_cookie,
    generate_cookie,
    is_authorized,
)
from common.runtime import DataDir, log_event
from wallets.rpc import WalletManager

__all__ = ["run_node", "wall_clock"]

log = logging.getLogger("opentrust.btcnode")

HTTP_SHUTDOWN_TIMEOUT_S = 5.0  # an RPC call in progress gets this long to finish


def wall_clock() -> int:
    """UNIX seconds: the `now` every node call takes."""
    return int(time.time())


@dataclass(slots=True)
class _Http:
    runner: web.AppRunner
    feed: EventFeed
    wallets: WalletManager


async def run_node(options: NodeOptions, datadir: DataDir, stop: asyncio.Event) -> None:
    """Run the node in the locked `datadir` (`<datadir>/regtest`) until `stop` is set."""
    services, opened = NodeServices.open(datadir, REGTEST, par=options.par, now=wall_clock())
    cookie = datadir.path / COOKIE_FILE
    try:
        _log_opened(services, opened)
        await _serve(options, services, cookie, stop)
    finally:
        services.close()
        delete_cookie(cookie)
        log_event(log, "stopped", height=services.chainstate.tip_height)


async def _serve(
    options: NodeOptions, services: NodeServices, cookie: Path, stop: asyncio.Event
) -> None:
    loop = asyncio.get_running_loop()
    node = services.node
    monitor = NodeMonitor(services, loop.call_soon)
    node.subscribe(monitor.on_node_event)
    sync_gc = SyncGc(lambda: services.caught_up)
    node.subscribe(sync_gc.on_node_event)
    peers = PeerManager(node, options.p2p_config(), clock=wall_clock)
    await peers.start()
    monitor.peer_control = peers
    http: _Http | None = None
    tasks: list[asyncio.Task[None]] = []
    try:
        http = await _start_http(options, services, peers, cookie, stop)
        node.subscribe(http.feed.on_node_event)
        tasks.append(asyncio.create_task(monitor.run(stop, time.monotonic)))
        if options.mine_script is not None:
            mine = mine_periodically(
                services, options.mine_script, options.mine_interval_s, wall_clock, stop
            )
            tasks.append(asyncio.create_task(mine))
        _log_started(options, services)
        await _wait(stop, tasks)
    finally:
        log_event(log, "stopping")
        stop.set()
        if http is not None:
            http.feed.close()
            await http.runner.cleanup()
            http.wallets.close_all()
        await peers.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        sync_gc.close()


async def _wait(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Until `stop` is set; a background task that fails stops the node with its error."""
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    for task in done:
        if task is not stopper:
            task.result()  # re-raises what stopped it


async def _start_http(
    options: NodeOptions,
    services: NodeServices,
    peers: PeerManager,
    cookie: Path,
    stop: asyncio.Event,
) -> _Http:
    """Write the cookie, then serve JSON-RPC and `GET /events` on the RPC port."""
    credentials = [generate_cookie(cookie)]
    if options.rpc_user is not None and options.rpc_password is not None:
        credentials.append(RpcCredentials(options.rpc_user, options.rpc_password))
    ctx = RpcContext(
        node=services.node,
        peers=peers,
        clock=wall_clock,
        durable=services.durable,
        request_stop=stop.set,
    )
    walletdir = options.walletdir or cookie.parent / WALLETS_DIR
    table, wallets = wallet_rpc(walletdir, REGTEST)
    app = create_rpc_app(ctx, credentials, table=table)
    feed = EventFeed(_hub(services), _authorizer(credentials))
    feed.install(app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        await web.TCPSite(runner, LISTEN_HOST, options.rpc_port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return _Http(runner, feed, wallets)


def _hub(services: NodeServices) -> NotificationHub:
    return NotificationHub(NotificationTranslator(services.chainstate.get_raw_block))


def _authorizer(credentials: list[RpcCredentials]) -> Callable[[str | None], bool]:
    allowed = tuple(credentials)
    return lambda header: is_authorized(header, allowed)


def _log_opened(services: NodeServices, opened: OpenedNode) -> None:
    resumed = opened.resumed
    if resumed.changed:
        log_event(
            log,
            "resumed an interrupted chain change",
            connected=len(resumed.connected),
            disconnected=len(resumed.disconnected),
            height=resumed.tip_height,
        )
    reload = opened.reload
    log_event(
        log,
        "mempool loaded",
        offered=reload.offered,
        accepted=reload.accepted,
        dropped=len(reload.dropped),
    )
    for txid, reason in reload.dropped:
        log_event(log, "mempool transaction dropped", level=logging.DEBUG, txid=txid, reason=reason)


def _log_started(options: NodeOptions, services: NodeServices) -> None:
    chainstate = services.chainstate
    log_event(
        log,
        "started",
        datadir=str(options.datadir),
        rpc_port=options.rpc_port,
        p2p_port=options.p2p_port,
        height=chainstate.tip_height,
        tip=hash256_hex(chainstate.tip_hash),
        headers=chainstate.best_header.height,
        mempool_txs=len(services.node.mempool),
        mine_to=options.mine_to,
        script_check_processes=options.par,
    )
