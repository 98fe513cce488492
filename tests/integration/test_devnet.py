"""`opentrust devnet` starts a working cluster and stops it cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_devnet_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "devnet"
    base = 31000 + (int(time.time() * 1000) % 200) * 10  # avoid clashing with a running devnet
    cmd = [sys.executable, "-m", "common.cli", "devnet", "--data-dir", str(data)]
    proc = subprocess.Popen(
        [*cmd, "--base-port", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    config = str(data / "kv" / "cluster.toml")
    try:
        deadline = time.monotonic() + 30
        put = None
        while time.monotonic() < deadline:
            put = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "common.cli",
                    "kv",
                    "put",
                    "hello",
                    "devnet",
                    "--config",
                    config,
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if put.returncode == 0:
                break
            time.sleep(0.5)
        assert put is not None and put.returncode == 0, put.stderr if put else "no attempt"
        got = subprocess.run(
            [sys.executable, "-m", "common.cli", "kv", "get", "hello", "--config", config],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert got.stdout.strip() == "devnet"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "opentrust devnet is running" in out
    assert f"http://127.0.0.1:{base + 101}" in out
    assert out.rstrip().endswith("devnet stopped.")
    assert sorted(p.name for p in (data / "logs").iterdir()) == [
        "kv-n1.log",
        "kv-n2.log",
        "kv-n3.log",
    ]
