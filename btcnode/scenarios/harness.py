"""Real `btcnode run` processes on 127.0.0.1, each with its own data directory and log.

`Cluster(root, names)` starts one node per name on free ports (`start`), waits until each
answers RPC with its cookie, links and unlinks pairs of nodes (`link`: addnode onetry from
the first to the second; `unlink`: disconnectnode on the side that connected), and stops
every node on leaving its `with` block: SIGTERM, then SIGKILL after a grace period, even
when the block raised. A `ScenarioError` leaving the block gets the tail of every node's
log as a note. Node `name` lives in `<root>/<name>/`, logging to `<root>/<name>/node.log`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from btcnode.daemon.layout import cookie_path
from btcnode.rpc import RpcError, RpcTransportError, SyncRpcClient, read_cookie
from btcnode.scenarios.errors import NodeCallError, NodeStartError, ScenarioError, ScenarioMisuse
from btcnode.scenarios.waits import wait_until
from common.closing import CloseOnExit
from common.devnet import stop_processes
from common.net import free_tcp_ports

__all__ = ["LOG_FILE", "Cluster", "NodeProcess", "Progress", "quiet"]

Progress = Callable[[str], None]  # told each step as it starts, for a live narrative

LOCALHOST = "127.0.0.1"
LOG_FILE = "node.log"
START_TIMEOUT_S = 30.0  # opening the stores and listening; slow when 2 cores are shared
LINK_TIMEOUT_S = 15.0  # TCP connect and the version handshake on loopback
RPC_CALL_TIMEOUT_S = 60.0  # generatetoaddress of 100+ blocks is the slowest call made
STOP_GRACE_S = 10.0  # a node flushes its chainstate on SIGTERM; then SIGKILL
LOG_TAIL_LINES = 25  # of each node's log in a failure report


def quiet(_: str) -> None:
    """The `Progress` that tells no one: every scenario's default."""
    return None


@dataclass(slots=True)
class NodeProcess:
    """One node: where it lives, its ports, its process once started."""

    name: str
    datadir: Path
    p2p_port: int
    rpc_port: int
    proc: subprocess.Popen[bytes] | None = None
    _rpc: SyncRpcClient | None = field(default=None, repr=False)

    @property
    def p2p_address(self) -> str:
        return f"{LOCALHOST}:{self.p2p_port}"

    @property
    def log_path(self) -> Path:
        return self.datadir / LOG_FILE

    def command(self, par: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "btcnode.cli",
            "run",
            "--datadir",
            str(self.datadir),
            "--p2p-port",
            str(self.p2p_port),
            "--rpc-port",
            str(self.rpc_port),
            "--par",
            str(par),
        ]

    def spawn(self, par: int) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(par), stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        self._rpc = None

    def call(self, method: str, *params: Any) -> Any:
        """One RPC call; an error answer or no answer is a `NodeCallError`."""
        try:
            return self._client().call(method, *params)
        except RpcError as err:
            raise NodeCallError(self.name, method, err.code, err.message) from None
        except (RpcTransportError, OSError) as err:
            raise NodeCallError(self.name, method, None, str(err)) from None

    def _client(self) -> SyncRpcClient:
        if self._rpc is None:
            try:
                credentials = read_cookie(cookie_path(self.datadir))
            except OSError as err:
                raise NodeCallError(self.name, "(cookie)", None, str(err)) from None
            url = f"http://{LOCALHOST}:{self.rpc_port}/"
            self._rpc = SyncRpcClient(url, credentials, timeout_seconds=RPC_CALL_TIMEOUT_S)
        return self._rpc

    def exited(self) -> int | None:
        """The exit code, or None while running (or not started)."""
        return None if self.proc is None else self.proc.poll()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> int:
        """Until the node answers getblockcount; its height. Raises at once if it exited."""

        def probe() -> int:
            code = self.exited()
            if code is not None:
                raise NodeStartError(self.name, f"exited with code {code}", self.log_tail())
            self._rpc = None  # the cookie is written anew by each start
            return int(self.call("getblockcount"))

        try:
            return wait_until(f"node {self.name} answering RPC", probe, _true, timeout_s=timeout_s)
        except ScenarioError as err:
            if isinstance(err, NodeStartError):
                raise
            raise NodeStartError(self.name, str(err), self.log_tail()) from None


def _true(_: object) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Link:
    """An open connection: `initiator` connected to `acceptor`, from `initiator_bind`."""

    initiator: str
    acceptor: str
    initiator_bind: str


class Cluster(CloseOnExit):
    """Named nodes under `root`; use as a context manager so they are always stopped."""

    def __init__(
        self,
        root: Path,
        names: Sequence[str],
        *,
        par: int = 1,
        progress: Progress = quiet,
    ) -> None:
        if len(set(names)) != len(names) or not names:
            raise ScenarioMisuse(f"node names must be distinct and not empty: {list(names)}")
        self.root = root
        self.par = par
        self.progress = progress
        ports = free_tcp_ports(2 * len(names), LOCALHOST)
        self.nodes = {
            name: NodeProcess(name, root / name, ports[2 * i], ports[2 * i + 1])
            for i, name in enumerate(names)
        }
        self.links: dict[frozenset[str], Link] = {}

    def __getitem__(self, name: str) -> NodeProcess:
        try:
            return self.nodes[name]
        except KeyError:
            raise ScenarioMisuse(f"no node {name!r}; nodes are {list(self.nodes)}") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.nodes)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, ScenarioError):
            exc.add_note(self.log_report())
        super().__exit__(exc_type, exc, tb)

    def close(self) -> None:
        self.stop()

    def start(self) -> None:
        """Start every node, then wait until each answers RPC."""
        self.progress(f"starting {len(self.nodes)} nodes: {', '.join(self.nodes)}")
        for node in self.nodes.values():
            node.spawn(self.par)
        for node in self.nodes.values():
            node.wait_ready()

    def stop(self) -> list[str]:
        """SIGTERM every node, SIGKILL those still running after the grace period; the
        names of the killed ones."""
        procs = {n.name: n.proc for n in self.nodes.values() if n.proc is not None}
        killed = stop_processes(procs, STOP_GRACE_S)
        self.links.clear()
        return killed

    def log_report(self) -> str:
        parts = [f"--- {node.log_path} (last lines) ---\n{node.log_tail()}" for node in self]
        return "\n".join(parts)

    def __iter__(self) -> Iterator[NodeProcess]:
        return iter(self.nodes.values())

    # -- connections ----------------------------------------------------------------------

    def link(self, initiator: str, acceptor: str) -> Link:
        """Connect `initiator` to `acceptor` (addnode onetry) and wait for the handshake."""
        key = frozenset((initiator, acceptor))
        if key in self.links or initiator == acceptor:
            raise ScenarioMisuse(f"{initiator} and {acceptor} are already linked (or the same)")
        a, b = self[initiator], self[acceptor]
        a.call("addnode", b.p2p_address, "onetry")
        outbound = _wait_handshake(a, b.p2p_address, f"{initiator} connected to {acceptor}")
        bind = str(outbound.get("addrbind"))
        _wait_handshake(b, bind, f"{acceptor} accepted {initiator}")
        self.links[key] = Link(initiator, acceptor, bind)
        return self.links[key]

    def unlink(self, one: str, other: str) -> None:
        """Close the connection between two linked nodes and wait until both see it gone."""
        link = self.links.pop(frozenset((one, other)), None)
        if link is None:
            raise ScenarioMisuse(f"{one} and {other} are not linked")
        a, b = self[link.initiator], self[link.acceptor]
        a.call("disconnectnode", b.p2p_address)
        _wait_peer_gone(a, b.p2p_address)
        _wait_peer_gone(b, link.initiator_bind)

    def connect_all(self, pairs: Iterable[tuple[str, str]]) -> None:
        for initiator, acceptor in pairs:
            self.link(initiator, acceptor)

    def isolate(self, name: str) -> list[tuple[str, str]]:
        """Unlink every connection of `name`; the (initiator, acceptor) pairs it had."""
        cut = [
            (k.initiator, k.acceptor)
            for k in self.links.values()
            if name in (k.initiator, k.acceptor)
        ]
        for initiator, acceptor in cut:
            self.unlink(initiator, acceptor)
        return cut

    def split(self, *groups: Sequence[str]) -> list[tuple[str, str]]:
        """Unlink every connection between different groups; the pairs it cut."""
        side = {name: i for i, group in enumerate(groups) for name in group}
        cut = [
            (k.initiator, k.acceptor)
            for k in self.links.values()
            if side.get(k.initiator, -1) != side.get(k.acceptor, -2)
        ]
        for initiator, acceptor in cut:
            self.unlink(initiator, acceptor)
        return cut


def _peer(node: NodeProcess, addr: str) -> dict[str, Any] | None:
    """The node's getpeerinfo entry for the peer at `addr`, if it has one."""
    peers = node.call("getpeerinfo")
    return next((p for p in peers if isinstance(p, dict) and p.get("addr") == addr), None)


def _wait_handshake(node: NodeProcess, addr: str, what: str) -> dict[str, Any]:
    """Until `node` has a peer at `addr` whose version handshake is done; its entry."""
    entry = wait_until(
        what,
        lambda: _peer(node, addr),
        lambda p: p is not None and int(p.get("version", 0)) > 0,
        timeout_s=LINK_TIMEOUT_S,
        show=lambda p: f"peer entry {p}",
    )
    return entry or {}  # `done` refused None


def _wait_peer_gone(node: NodeProcess, addr: str) -> None:
    wait_until(
        f"{node.name} disconnected from {addr}",
        lambda: _peer(node, addr),
        lambda p: p is None,
        timeout_s=LINK_TIMEOUT_S,
        show=lambda p: f"still a peer: {p}",
    )
