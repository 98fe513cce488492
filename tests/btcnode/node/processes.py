"""`btcnode run` as a real process for integration tests: start, call, kill, restart.

Each node gets a data directory under the test's tmp_path and free ports; its output goes
to `<root>/<name>.log`. RPC calls go through `btcnode.cli_rpc` (the code `btcnode rpc`
runs), in this process, so a test can make many of them quickly; `cli()` runs the real
`btcnode rpc` command when the command itself is under test.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from btcnode.cli_rpc import RpcEndpoint, RpcFailure, call_rpc, call_with_wait
from btcnode.rpc.auth import RpcCredentials, basic_authorization
from common.net import free_tcp_ports

START_TIMEOUT_S = 20.0  # a cold start imports the whole stack; 2 shared cores are slow
STOP_TIMEOUT_S = 15.0
RPC_TIMEOUT_S = 30.0
LOG_TAIL_CHARS = 3000


def btcnode_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "btcnode.cli", *args]


class BtcNode:
    """One `btcnode run` process, restartable on the same data directory and ports."""

    def __init__(self, root: Path, name: str, *, par: int = 1) -> None:
        self.name = name
        self.datadir = root / name
        self.log_path = root / f"{name}.log"
        self.p2p_port, self.rpc_port = free_tcp_ports(2)
        self.par = par
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = RpcEndpoint("127.0.0.1", self.rpc_port, str(self.datadir))

    def args(self, *extra: str) -> list[str]:
        return [
            "run",
            "--datadir",
            str(self.datadir),
            "--p2p-port",
            str(self.p2p_port),
            "--rpc-port",
            str(self.rpc_port),
            "--par",
            str(self.par),
            "--log-json",
            *extra,
        ]

    def start(self, *extra: str, wait: bool = True) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                btcnode_command(*self.args(*extra)),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a shell job has
            )
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        try:
            call_with_wait(self.endpoint, "getblockcount", [], START_TIMEOUT_S)
        except RpcFailure as exc:
            raise AssertionError(f"{self.name} did not answer: {exc.text}\n{self.tail()}") from exc

    def rpc(self, method: str, *params: Any) -> Any:
        try:
            return call_rpc(self.endpoint, method, list(params), RPC_TIMEOUT_S)
        except RpcFailure as exc:
            raise AssertionError(f"{method} failed: {exc.text}\n{self.tail()}") from exc

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The real `btcnode rpc` command against this node."""
        cmd = btcnode_command(
            "rpc", "--datadir", str(self.datadir), "--rpc-port", str(self.rpc_port), *args
        )
        return subprocess.run(cmd, capture_output=True, text=True, timeout=RPC_TIMEOUT_S)

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def terminate(self) -> int:
        """SIGTERM and wait; the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None
        return code

    def interrupt_group(self) -> int:
        """Ctrl-C on a terminal: SIGINT to the node's whole process group; the exit code."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None
        return code

    def wait_exit(self) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None
        return code

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log_text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def tail(self) -> str:
        return self.log_text()[-LOG_TAIL_CHARS:]

    def wait_for(self, what: str, check: Any, timeout_s: float = 20.0) -> Any:
        """Poll `check()` until it returns something truthy."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {what} not within {timeout_s} s\n{self.tail()}")


class SseStream:
    """A `GET /events` stream read line by line: `next_event()` gives (event, data)."""

    def __init__(self, node: BtcNode, topics: str, timeout_s: float = 20.0) -> None:
        auth = basic_authorization(RpcCredentials(*node.endpoint.credentials()))
        self.conn = http.client.HTTPConnection("127.0.0.1", node.rpc_port, timeout=timeout_s)
        self.conn.request("GET", f"/events?topics={topics}", headers={"Authorization": auth})
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.headers["Content-Type"] == "text/event-stream"
        assert self.response.readline().startswith(b": subscribed")  # registered from here on

    def next_event(self) -> tuple[str, dict[str, Any]]:
        """The next event (comments and ids skipped); data parsed as JSON."""
        event, data = "", ""
        while True:
            line = self.response.readline().decode()
            if not line:
                raise AssertionError("the stream ended")
            line = line.rstrip("\n")
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
            elif not line and event:
                return event, json.loads(data)

    def close(self) -> None:
        self.conn.close()


__all__ = ["BtcNode", "SseStream", "btcnode_command"]
