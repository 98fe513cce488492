"""The `wallet` command against a real `btcnode run`: create, fund by mining, pay another
wallet, bump a stuck payment, sign a PSBT on a second "machine", restore from the mnemonic;
bad input is one line and a non-zero exit. Also the node's wallet RPC over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.params import REGTEST
from btcnode.daemon.layout import cookie_path
from btcnode.rpc import RpcError, SyncRpcClient
from btcnode.rpc.auth import read_cookie
from common.net import free_tcp_ports
from tests.btcnode.node.processes import BtcNode

pytestmark = pytest.mark.integration

COIN = 100_000_000
_NOBODY = address_for_script(b"\x00\x20" + bytes(32), REGTEST)  # P2WSH of no known script
assert _NOBODY is not None
NOBODY: str = _NOBODY
CLI_TIMEOUT_S = 60


@pytest.fixture
def node(tmp_path: Path) -> Iterator[BtcNode]:
    btc = BtcNode(tmp_path, "node")
    btc.start()
    yield btc
    btc.stop_quietly()


class WalletCli:
    """`wallet --datadir <dir> --node <url> --rpc-cookie <cookie> ...` as a subprocess."""

    def __init__(self, node: BtcNode, datadir: Path, password_file: Path) -> None:
        self.base = [sys.executable, "-m", "wallets.cli", "--datadir", str(datadir)]
        self.base += ["--node", f"http://127.0.0.1:{node.rpc_port}"]
        self.base += ["--rpc-cookie", str(cookie_path(node.datadir))]
        self.password = ["--password-file", str(password_file)]

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout, parse_float=Decimal)

    def fails(self, *args: str, stdin: str = "") -> str:
        """The one line a refused command prints (asserting a non-zero exit)."""
        done = self.run(*args, stdin=stdin)
        assert done.returncode != 0, done.stdout
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        return lines[0]

    def sats(self, what: str = "confirmed") -> int:
        return int(self.json("balance")[what] * COIN)


def secret_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def mine(node: BtcNode, count: int, address: str) -> None:
    done = node.cli("generatetoaddress", str(count), address)
    assert done.returncode == 0, done.stderr


def test_wallet_cli_end_to_end(node: BtcNode, tmp_path: Path) -> None:
    alice = WalletCli(node, tmp_path / "alice", secret_file(tmp_path, "pw-a", "alice pw"))
    mnemonic_file = tmp_path / "alice.mnemonic"
    created = alice.json("create", *alice.password, "--mnemonic-out", str(mnemonic_file))
    assert "mnemonic" not in created and created["mnemonic_file"] == str(mnemonic_file)
    assert mnemonic_file.stat().st_mode & 0o777 == 0o600
    assert len(mnemonic_file.read_text().split()) == 12
    first = alice.json("address", "--type", "p2wpkh")
    assert set(first) == {"address", "path"} and first["path"] == "m/84'/1'/0'/0/0"
    assert alice.json("address", "--index", "7")["path"] == "m/84'/1'/0'/0/7"
    assert alice.json("address", "--type", "p2sh-p2wpkh")["address"].startswith("2")

    mine(node, 101, first["address"])
    assert alice.json("balance") == {
        "confirmed": Decimal("50.00000000"),
        "unconfirmed": Decimal("0E-8"),
        "immature": Decimal("5000.00000000"),
    }

    bob = WalletCli(node, tmp_path / "bob", secret_file(tmp_path, "pw-b", "bob pw"))
    assert "mnemonic" in bob.json("create", *bob.password)
    to_bob = bob.json("address")["address"]
    sent = alice.json("send", to_bob, "1.5", "--fee-rate", "2", *alice.password)
    fee = int(sent["fee"] * COIN)
    assert fee == 2 * sent["vsize"] and len(sent["txid"]) == 64
    assert bob.sats("unconfirmed") == 150_000_000
    mine(node, 1, NOBODY)
    assert bob.sats() == 150_000_000
    assert alice.sats() == 100 * COIN - 150_000_000 - fee  # block 2's coinbase matured too
    paid = [e for e in alice.json("history") if e["txid"] == sent["txid"]]
    assert paid == [
        {
            "txid": sent["txid"],
            "status": "confirmed",
            "confirmations": 1,
            "height": 102,
            "time": paid[0]["time"],
            "amount": -(Decimal("1.5") + Decimal(fee) / COIN),
            "fee": Decimal(fee) / COIN,
            "label": "",
        }
    ]

    stuck = alice.json("send", to_bob, "0.5", "--fee-rate", "1", *alice.password)
    bumped = alice.json("bump", stuck["txid"], *alice.password)
    assert int(bumped["fee"] * COIN) > int(stuck["fee"] * COIN)
    mempool = json.loads(node.cli("getrawmempool").stdout)
    assert bumped["txid"] in mempool and stuck["txid"] not in mempool

    psbt_file = tmp_path / "pay.psbt"
    alice.run("export-psbt", to_bob, "0.25", "--out", str(psbt_file)).check_returncode()
    carol = WalletCli(node, tmp_path / "carol", secret_file(tmp_path, "pw-c", "carol pw"))
    carol.json("restore", "--mnemonic-file", str(mnemonic_file), *carol.password)
    broadcast = carol.json("sign-psbt", str(psbt_file), "--broadcast", *carol.password)
    assert broadcast["txid"] in json.loads(node.cli("getrawmempool").stdout)
    mine(node, 1, NOBODY)

    assert bob.sats() == 150_000_000 + 50_000_000 + 25_000_000
    assert carol.json("balance") == alice.json("balance")
    history = alice.json("history")
    assert [e["txid"] for e in history if e["status"] == "replaced"] == [stuck["txid"]]
    # a restored wallet sees the chain only: the replaced payment left no trace there
    assert carol.json("history") == [e for e in history if e["status"] != "replaced"]


def test_bad_input_is_one_line_and_a_non_zero_exit(node: BtcNode, tmp_path: Path) -> None:
    pw = secret_file(tmp_path, "pw", "right")
    wrong = secret_file(tmp_path, "wrong", "wrong")
    alice = WalletCli(node, tmp_path / "alice", pw)
    alice.run("create", *alice.password).check_returncode()
    mine(node, 101, alice.json("address")["address"])
    mnemonic = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    other = WalletCli(node, tmp_path / "other", pw)
    swapped = "winner legal thank year wave sausage worth useful legal winner thank yellow"
    assert "checksum" in other.fails(
        "restore", "--mnemonic-file", "-", *other.password, stdin=swapped
    )
    typo = mnemonic.replace("wave", "wavy")
    assert "word 5 of 12" in other.fails(
        "restore", "--mnemonic-file", "-", *other.password, stdin=typo
    )
    assert "wavy" not in other.fails("restore", "--mnemonic-file", "-", *other.password, stdin=typo)
    assert not (tmp_path / "other").exists()  # nothing written by a failed restore
    assert "already exists" in alice.fails("create", *alice.password)
    assert "wrong password" in alice.fails("send", NOBODY, "1", "--password-file", str(wrong))
    mainnet = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    assert "not a regtest address" in alice.fails("send", mainnet, "1", *alice.password)
    assert "insufficient funds: 60.0000" in alice.fails("send", NOBODY, "60", *alice.password)
    assert "dust" in alice.fails("send", NOBODY, "0.00000100", *alice.password)
    assert "more than 8 decimals" in alice.fails("send", NOBODY, "0.000000001", *alice.password)
    (closed,) = free_tcp_ports(1)
    down = alice.run("--node", f"http://127.0.0.1:{closed}", "balance")
    assert down.returncode == 3 and "cannot reach the node" in down.stderr
    assert alice.json("balance")["unconfirmed"] == 0  # nothing was sent by any of those


def test_the_node_serves_the_wallet_rpc_by_uri(node: BtcNode) -> None:
    url = f"http://127.0.0.1:{node.rpc_port}"
    creds = read_cookie(cookie_path(node.datadir))
    root = SyncRpcClient(url + "/", creds)
    assert root.call("createwallet", "w1") == {"name": "w1"}
    root.call("createwallet", "w2", False, False, "pass")
    assert (node.datadir / "regtest" / "wallets" / "w2").is_dir()
    with pytest.raises(RpcError) as caught:
        root.call("getnewaddress")
    assert caught.value.code == -19
    w1 = SyncRpcClient(url + "/wallet/w1", creds)
    mine(node, 101, w1.call("getnewaddress"))
    assert w1.call("getbalance") == Decimal("50.00000000")
    to_w2 = SyncRpcClient(url + "/wallet/w2", creds).call("getnewaddress", "", "legacy")
    txid = w1.call("sendtoaddress", to_w2, "2.5")
    assert txid in root.call("getrawmempool")
    balances = SyncRpcClient(url + "/wallet/w2", creds).call("getbalances")
    assert balances["mine"]["untrusted_pending"] == Decimal("2.50000000")
