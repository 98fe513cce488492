"""`opentrust devnet`: start a local network of every component that exists, on 127.0.0.1.

Today that is a 3-node Raft KV cluster, a single-replica Certificate Transparency log (with a
development PKI whose certificates it accepts), two gossiping auditors watching the log and
three Bitcoin regtest nodes in a line (n1 <- n2 <- n3, each `--connect`ing to the one
before), n1 mining a block every 5 s to the devnet miner's address after a premine of 111
blocks: blocks 1-10 pay the devnet wallet, 11-111 the miner, so the wallet's 500 BTC and the
miner's first coinbase are spendable at once. The miner's key is fixed and public
(`DEVNET_MINER_WIF`, also written to `<data dir>/btc-miner-key.txt`), and so is the devnet
wallet's mnemonic (`DEVNET_WALLET_MNEMONIC`; the wallet is restored from it with the `wallet`
command into `<data dir>/btc-wallet/`, its password in `btc-wallet-password.txt`):
development only. A data directory premined before the wallet existed has no wallet coins.
Components are started as processes through their own command lines, so the shared core
imports none of them. Configuration and secrets are written once under the data directory
and reused, so a restarted devnet keeps its data. Ctrl-C (or SIGTERM) stops
every process with SIGTERM and waits for it; a process that does not stop in time is killed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import click

from common.kv.config import (
    ClusterConfig,
    consecutive_ports,
    load_cluster_config,
    write_cluster_files,
)

STOP_GRACE_S = 10.0  # how long a peer gets to shut down cleanly before SIGKILL
DEVNET_KV_BASE_PORT = 7100
CTLOG_PORT_OFFSET = 50  # the log's peer port is base+51, its HTTP port base+151
AUDITOR_PORT_OFFSET = 300  # auditors listen on base+301 and base+302
AUDITORS = ("auditor-1", "auditor-2")
BTC_PORT_OFFSET = 400  # btcnode nI: P2P port base+400+I, RPC port base+410+I
BTC_NODES = ("n1", "n2", "n3")
BTC_MINE_INTERVAL_S = 5
BTC_WALLET_PREMINE_HEIGHT = 10  # blocks 1-10 pay the devnet wallet (500 BTC)
BTC_PREMINE_HEIGHT = 111  # coinbases mature after 100 blocks: block 11's is spendable at 111
# The devnet miner's key: derived from a public string, so anyone can spend its coins. Never
# use it outside a devnet. tests/btcnode/node/test_devnet_key.py checks the three agree.
DEVNET_MINER_KEY_HEX = "7e48d1b3ec0d4f8ce41c008a47ad83491199cc5fd256865039dad26926a8c00a"
DEVNET_MINER_WIF = "cRpBWsFbxxDSw4L9HTb88hyJWgVYumXv51kDeYS6tZGs2pe8mDwM"
DEVNET_MINER_ADDRESS = "bcrt1qw4398d59vylh5wm34pc7c3uqsxwem7tqcwp2mp"  # P2WPKH of that key
# The devnet wallet: BIP39 entropy sha256("opentrust devnet wallet")[:16], public like the
# miner's key. Its first receiving address (m/84'/1'/0'/0/0) takes the premine's first blocks.
DEVNET_WALLET_MNEMONIC = "crisp churn appear bargain oval blood such lucky six process glory abuse"
DEVNET_WALLET_PASSWORD = "devnet"
DEVNET_WALLET_ADDRESS = "bcrt1qnwu3g36jttwe6l3dazsn94arrxd96u4c3udc66"


def spawn_logged(cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `cmd`, appending its output (JSON lines) to `log_path`."""
    with log_path.open("ab") as log_file:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)


def spawn_kv_replica(
    config_path: Path, node_id: str, log_path: Path, *extra_args: str
) -> subprocess.Popen[bytes]:
    """Start `opentrust kv serve` for `node_id`, appending its output (JSON lines) to log_path."""
    cmd = [sys.executable, "-m", "common.cli", "kv", "serve", "--id", node_id]
    return spawn_logged([*cmd, "--config", str(config_path), "--log-json", *extra_args], log_path)


def ctlog_url(base_port: int) -> str:
    return f"http://127.0.0.1:{base_port + CTLOG_PORT_OFFSET + 101}"


def auditor_port(base_port: int, i: int) -> int:
    return base_port + AUDITOR_PORT_OFFSET + 1 + i


def prepare_ctlog(root: Path, base_port: int) -> Path:
    """`ctlog init` a single-replica log under root/ctlog once; return its log.toml."""
    config_path = root / "ctlog" / "log.toml"
    if not config_path.exists():
        cmd = [sys.executable, "-m", "ctlog.cli", "init", "--out", str(config_path.parent)]
        cmd += ["--name", "devnet", "--base-port", str(base_port + CTLOG_PORT_OFFSET)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return config_path


def prepare_auditors(root: Path, base_port: int) -> list[Path]:
    """Write one config per auditor (each the other's gossip peer), once; return their paths."""
    paths = []
    for i, name in enumerate(AUDITORS):
        path = root / "auditors" / f"{name}.toml"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            peers = [
                f'[[peers]]\nname = "{other}"\n'
                f'url = "http://127.0.0.1:{auditor_port(base_port, j)}"\n'
                for j, other in enumerate(AUDITORS)
                if other != name
            ]
            path.write_text(
                f'name = "{name}"\ndata_dir = "{name}-data"\n'
                f"listen_port = {auditor_port(base_port, i)}\n"
                "poll_interval_s = 5.0\ngossip_interval_s = 2.0\n\n"
                f'[[logs]]\nurl = "{ctlog_url(base_port)}"\n'
                'key_file = "../ctlog/log.pub"\n\n'  # relative to this file: no path to escape
                + "\n".join(peers)
            )
        paths.append(path)
    return paths


def btc_ports(base_port: int, i: int) -> tuple[int, int]:
    """(P2P port, RPC port) of btcnode number `i` (0-based)."""
    return base_port + BTC_PORT_OFFSET + 1 + i, base_port + BTC_PORT_OFFSET + 11 + i


def btc_datadir(root: Path, i: int) -> Path:
    return root / f"btc-{BTC_NODES[i]}"


def btc_cookie(root: Path) -> Path:
    """n1's RPC cookie, where `btcnode run` writes it (`<datadir>/regtest/.cookie`)."""
    return btc_datadir(root, 0) / "regtest" / ".cookie"


def write_miner_key(root: Path) -> Path:
    """Write the devnet miner's (public) key where a developer can find it; return the path."""
    path = root / "btc-miner-key.txt"
    if not path.exists():
        path.write_text(
            "# The devnet miner's key. It is public (derived from a fixed string): for a\n"
            "# local devnet only, never for real coins. n1 mines to its address.\n"
            f"private_key_hex = {DEVNET_MINER_KEY_HEX}\n"
            f"wif = {DEVNET_MINER_WIF}\n"
            f"address = {DEVNET_MINER_ADDRESS}\n"
        )
    return path


def btcnode_premine(root: Path, address: str, height: int) -> subprocess.CompletedProcess[str]:
    """`btcnode premine` n1 to `height`, paying `address` (nothing on a restarted devnet)."""
    cmd = [sys.executable, "-m", "btcnode.cli", "premine", "--datadir", str(btc_datadir(root, 0))]
    cmd += ["--to", address, "--height", str(height)]
    return subprocess.run(cmd, capture_output=True, text=True)


def wallet_datadir(root: Path) -> Path:
    return root / "btc-wallet"


def wallet_password_file(root: Path) -> Path:
    return root / "btc-wallet-password.txt"


def wallet_command(root: Path, base_port: int) -> str:
    """The `wallet` command line for the devnet wallet against n1 (add a sub-command)."""
    cookie = btc_cookie(root)
    node = f"http://127.0.0.1:{btc_ports(base_port, 0)[1]}"
    return f"wallet --datadir {wallet_datadir(root)} --node {node} --rpc-cookie {cookie}"


def prepare_wallet(root: Path) -> subprocess.CompletedProcess[str] | None:
    """`wallet restore` the devnet wallet once (None when it is there already)."""
    password = wallet_password_file(root)
    if not password.exists():
        password.write_text(DEVNET_WALLET_PASSWORD + "\n")
        password.chmod(0o600)
    if wallet_datadir(root).exists():
        return None
    cmd = [sys.executable, "-m", "wallets.cli", "--datadir", str(wallet_datadir(root))]
    cmd += ["restore", "--mnemonic-file", "-", "--password-file", str(password)]
    return subprocess.run(cmd, input=DEVNET_WALLET_MNEMONIC, capture_output=True, text=True)


def spawn_btcnode(root: Path, base_port: int, i: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `btcnode run` number `i`: n1 mines, each other one connects to the one before."""
    p2p_port, rpc_port = btc_ports(base_port, i)
    cmd = [sys.executable, "-m", "btcnode.cli", "run", "--datadir", str(btc_datadir(root, i))]
    cmd += ["--p2p-port", str(p2p_port), "--rpc-port", str(rpc_port), "--par", "1", "--log-json"]
    if i == 0:
        cmd += ["--mine-to", DEVNET_MINER_ADDRESS, "--mine-interval", str(BTC_MINE_INTERVAL_S)]
    else:
        cmd += ["--connect", f"127.0.0.1:{btc_ports(base_port, i - 1)[0]}"]
    return spawn_logged(cmd, log_path)


def stop_processes(
    procs: Mapping[str, subprocess.Popen[bytes]], grace_s: float = STOP_GRACE_S
) -> list[str]:
    """SIGTERM every live process, wait up to `grace_s` in all, SIGKILL (and reap) the ones
    still running. Returns the names of the processes that had to be killed."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    killed = []
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            killed.append(name)
            proc.kill()
            proc.wait()
    return killed


def _start_btcnodes(
    procs: dict[str, subprocess.Popen[bytes]], root: Path, base_port: int, log_dir: Path
) -> None:
    """Restore the devnet wallet and premine n1 (once each), then start the three btcnodes."""
    write_miner_key(root)
    _check_step(procs, "wallet restore", prepare_wallet(root))
    premines = (
        (DEVNET_WALLET_ADDRESS, BTC_WALLET_PREMINE_HEIGHT),
        (DEVNET_MINER_ADDRESS, BTC_PREMINE_HEIGHT),
    )
    for address, height in premines:
        _check_step(procs, "btcnode premine", btcnode_premine(root, address, height))
    for i, name in enumerate(BTC_NODES):
        procs[f"btc-{name}"] = spawn_btcnode(root, base_port, i, log_dir / f"btc-{name}.log")


def _check_step(
    procs: dict[str, subprocess.Popen[bytes]],
    name: str,
    done: subprocess.CompletedProcess[str] | None,
) -> None:
    """Stop everything and exit if a preparing command failed."""
    if done is not None and done.returncode != 0:
        click.echo(f"{name} failed: {done.stderr.strip()}", err=True)
        _stop_all(procs)
        sys.exit(1)


def _stop_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for name in stop_processes(procs):
        click.echo(f"{name} did not stop in {STOP_GRACE_S:g} s and was killed", err=True)


def _print_banner(config: ClusterConfig, config_path: Path, root: Path, base_port: int) -> None:
    click.echo("opentrust devnet is running:\n")
    click.echo("  component  node       API                        peer port")
    for node in config.cluster.nodes:
        click.echo(f"  raft-kv    {node.id:<10} {node.client_url:<26} {node.peer_port}")
    ct_url = ctlog_url(base_port)
    click.echo(f"  ct-log     n1         {ct_url:<26} {base_port + CTLOG_PORT_OFFSET + 1}")
    for i, name in enumerate(AUDITORS):
        click.echo(f"  auditor    {name:<10} http://127.0.0.1:{auditor_port(base_port, i)}")
    for i, name in enumerate(BTC_NODES):
        p2p_port, rpc_port = btc_ports(base_port, i)
        role = f"mines every {BTC_MINE_INTERVAL_S} s" if i == 0 else f"<- {BTC_NODES[i - 1]}"
        api = f"rpc 127.0.0.1:{rpc_port}"
        click.echo(f"  btcnode    {name:<10} {api:<26} {p2p_port}  ({role})")
    ct = root / "ctlog"
    click.echo(f"\n  configs: {config_path}, {ct / 'log.toml'}, {root / 'auditors'}/")
    click.echo(f"  btc:     {root}/btc-n1..n3/; the miner's key (public, dev only) is in")
    click.echo(f"           {root / 'btc-miner-key.txt'} (address {DEVNET_MINER_ADDRESS})")
    click.echo(f"  wallet:  {wallet_datadir(root)}/, 500 BTC premined; its mnemonic (public,")
    click.echo(f"           dev only) is {DEVNET_WALLET_MNEMONIC!r}")
    click.echo(f"  logs:    {root / 'logs'}/\n")
    log_args = f"--log {ct_url} --log-key {ct / 'log.pub'}"
    click.echo("Try:")
    for line in (
        f"opentrust kv put greeting hello --config {config_path}",
        f"opentrust kv get greeting --config {config_path}",
        f"ctlog dev-cert --pki {ct / 'devpki'} --name www.example.test --out chain.pem",
        f"ctlog submit {log_args} chain.pem --out sct.json",
        f"ctlog prove {log_args} --cert chain.pem --sct sct.json",
        f"ctlog monitor {log_args} --match '.example.test' --once",
    ):
        click.echo(f"  .venv/bin/{line}")
    click.echo(f"  curl -s http://127.0.0.1:{auditor_port(base_port, 0)}/status")
    for i in range(len(BTC_NODES)):
        rpc_port = btc_ports(base_port, i)[1]
        rpc = f"btcnode rpc --datadir {btc_datadir(root, i)} --rpc-port {rpc_port}"
        click.echo(f"  .venv/bin/{rpc} getblockchaininfo")
    cookie = btc_cookie(root)
    events = f"http://127.0.0.1:{btc_ports(base_port, 0)[1]}/events"
    click.echo(f'  curl -sN -u "$(cat {cookie})" {events}  # new blocks and txs')
    wallet = f".venv/bin/{wallet_command(root, base_port)}"
    click.echo(f"  {wallet} balance")
    pay = f"send {DEVNET_MINER_ADDRESS} 1.5 --password-file {wallet_password_file(root)}"
    click.echo(f"  {wallet} {pay}")
    click.echo("\nCtrl-C stops everything.")


@click.command()
@click.option("--data-dir", default="./devnet-data", show_default=True, type=click.Path())
@click.option("--kv-nodes", default=3, show_default=True, type=click.IntRange(1, 7))
@click.option(
    "--base-port",
    default=DEVNET_KV_BASE_PORT,
    show_default=True,
    type=click.IntRange(1024, 65000),
    help="KV peer ports base+1.., client ports base+101..; CT log base+51/151; "
    "auditors base+301.. (on first start); btcnode P2P base+401..403, RPC base+411..413",
)
def devnet(data_dir: str, kv_nodes: int, base_port: int) -> None:
    """Run a local network of opentrust peers until Ctrl-C."""
    root = Path(data_dir).resolve()
    log_dir = root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    ports = consecutive_ports(kv_nodes, base_port)
    config_path = write_cluster_files(root / "kv", name="devnet", ports=ports)
    config = load_cluster_config(config_path)
    procs = {
        f"kv-{n.id}": spawn_kv_replica(config_path, n.id, log_dir / f"kv-{n.id}.log")
        for n in config.cluster.nodes
    }
    ctlog_config = prepare_ctlog(root, base_port)
    serve = [sys.executable, "-m", "ctlog.cli", "serve", "--config", str(ctlog_config)]
    procs["ctlog-n1"] = spawn_logged([*serve, "--id", "n1", "--log-json"], log_dir / "ctlog-n1.log")
    for name, path in zip(AUDITORS, prepare_auditors(root, base_port), strict=True):
        cmd = [sys.executable, "-m", "ctlog.cli", "auditor", "--config", str(path)]
        procs[name] = spawn_logged(cmd, log_dir / f"{name}.log")
    _start_btcnodes(procs, root, base_port, log_dir)
    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    _print_banner(config, config_path, root, base_port)
    try:
        while not stop_requested:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    click.echo(
                        f"{name} exited with code {proc.returncode}; see {log_dir}", err=True
                    )
                    stop_requested = True
            time.sleep(0.2)
    finally:
        click.echo("stopping devnet ...")
        _stop_all(procs)
        click.echo("devnet stopped.")


__all__ = [
    "DEVNET_MINER_ADDRESS",
    "DEVNET_MINER_KEY_HEX",
    "DEVNET_MINER_WIF",
    "DEVNET_WALLET_ADDRESS",
    "DEVNET_WALLET_MNEMONIC",
    "btc_ports",
    "devnet",
    "spawn_btcnode",
    "spawn_kv_replica",
    "spawn_logged",
    "stop_processes",
    "wallet_command",
    "wallet_password_file",
]
