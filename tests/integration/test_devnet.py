"""`opentrust devnet` starts a working cluster and stops it cleanly on Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.devnet import DEVNET_MINER_ADDRESS, wallet_command, wallet_password_file

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
        the_btcnodes_sync_the_premined_chain(data, base)
        the_devnet_wallet_has_the_premine_and_pays(data, base)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "opentrust devnet is running" in out
    assert f"http://127.0.0.1:{base + 101}" in out
    assert out.rstrip().endswith("devnet stopped.")
    assert f"btcnode rpc --datadir {data / 'btc-n3'} --rpc-port {base + 413}" in out
    assert f"{wallet_command(data, base)} send {DEVNET_MINER_ADDRESS} 1.5 --password-file" in out
    assert sorted(p.name for p in (data / "logs").iterdir()) == [
        "auditor-1.log",
        "auditor-2.log",
        "btc-n1.log",
        "btc-n2.log",
        "btc-n3.log",
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


def btcnode_rpc(data: Path, node: str, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "btcnode.cli", "rpc", "--datadir", str(data / f"btc-{node}")]
    cmd += ["--rpc-port", str(port), "--rpcwait", "--rpcwaittimeout", "20", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def the_btcnodes_sync_the_premined_chain(data: Path, base: int) -> None:
    """n1 was premined to 101 blocks; n3 reaches it through n2 (the banner's commands)."""
    premined = btcnode_rpc(data, "n1", base + 411, "getblockhash", "101")
    assert premined.returncode == 0, premined.stderr
    deadline = time.monotonic() + 20
    while True:
        best = btcnode_rpc(data, "n3", base + 413, "getblockhash", "101")
        if best.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert best.stdout == premined.stdout, best.stderr
    assert f"address = {DEVNET_MINER_ADDRESS}\n" in (data / "btc-miner-key.txt").read_text()


def the_devnet_wallet_has_the_premine_and_pays(data: Path, base: int) -> None:
    """The banner's wallet command: the wallet holds blocks 1-10's 500 BTC and can pay."""
    wallet = [sys.executable, "-m", "wallets.cli", *wallet_command(data, base).split()[1:]]
    balance = subprocess.run(
        [*wallet, "balance", "--json"], capture_output=True, text=True, timeout=60
    )
    assert balance.returncode == 0, balance.stderr
    assert json.loads(balance.stdout)["confirmed"] == 500
    password = ["--password-file", str(wallet_password_file(data))]
    sent = subprocess.run(
        [*wallet, "send", DEVNET_MINER_ADDRESS, "1.5", *password, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    assert len(json.loads(sent.stdout)["txid"]) == 64
