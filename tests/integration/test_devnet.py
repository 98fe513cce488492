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
        submit_to_the_ct_log(data, base, tmp_path)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "opentrust devnet is running" in out
    assert f"http://127.0.0.1:{base + 101}" in out
    assert out.rstrip().endswith("devnet stopped.")
    assert sorted(p.name for p in (data / "logs").iterdir()) == [
        "auditor-1.log",
        "auditor-2.log",
        "ctlog-n1.log",
        "kv-n1.log",
        "kv-n2.log",
        "kv-n3.log",
    ]


def ctlog(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "ctlog.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def submit_to_the_ct_log(data: Path, base: int, tmp_path: Path) -> None:
    """The banner's CT commands work: a fresh dev certificate is logged and proven."""
    ct = data / "ctlog"
    chain = str(tmp_path / "chain.pem")
    issued = ctlog(
        "dev-cert", "--pki", str(ct / "devpki"), "--name", "t.example.test", "--out", chain
    )
    assert issued.returncode == 0, issued.stderr
    log_args = ["--log", f"http://127.0.0.1:{base + 151}", "--log-key", str(ct / "log.pub")]
    sct = str(tmp_path / "sct.json")
    submitted = ctlog("submit", *log_args, chain, "--out", sct)
    assert submitted.returncode == 0, submitted.stderr
    deadline = time.monotonic() + 20
    while True:  # the next tree head covers the entry within the publish interval
        proved = ctlog("prove", *log_args, "--cert", chain, "--sct", sct, "--json")
        if proved.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert proved.returncode == 0, proved.stdout + proved.stderr
