"""`btcnode run` and `btcnode rpc` as real processes on 127.0.0.1, killed with SIGKILL."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.block import Block
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import REGTEST
from common.net import free_tcp_ports
from tests.btcnode.node.processes import BtcNode, SseStream, btcnode_command
from tests.btcnode.scenarios.helpers import coinbase_coin, key, p2wpkh, pay
from tests.integration._cluster import child_pids, running

pytestmark = pytest.mark.integration

MINER = key("btcnode process miner")
_address = address_for_script(p2wpkh(MINER), REGTEST)
assert _address is not None
MINER_ADDRESS: str = _address


@pytest.fixture
def node(tmp_path: Path) -> Iterator[BtcNode]:
    n = BtcNode(tmp_path, "n1")
    n.start()
    try:
        yield n
    finally:
        n.stop_quietly()


def test_rpc_with_the_cookie_and_the_sse_feed_reports_new_blocks(node: BtcNode) -> None:
    cookie = node.datadir / "regtest" / ".cookie"
    assert stat.S_IMODE(cookie.stat().st_mode) == 0o600
    assert cookie.read_text().startswith("__cookie__:")
    info = node.cli("getblockchaininfo")
    assert info.returncode == 0, info.stderr
    assert '"chain": "regtest"' in info.stdout and '"blocks": 0' in info.stdout
    stream = SseStream(node, "hashblock,sequence")
    try:
        mined = node.cli("generatetoaddress", "101", MINER_ADDRESS)
        assert mined.returncode == 0, mined.stderr
        hashes = [line.strip(' ",') for line in mined.stdout.splitlines()[1:-1]]
        assert len(hashes) == 101
        assert stream.next_event() == (
            "sequence",
            {"hash": hashes[0], "label": "C", "mempool_sequence": None},
        )
        assert stream.next_event() == ("hashblock", {"hash": hashes[0], "height": 1})
        last = None
        while last is None or last[1].get("height") != 101:
            last = stream.next_event()
        assert last == ("hashblock", {"hash": hashes[-1], "height": 101})
    finally:
        stream.close()
    assert node.cli("getblockcount").stdout == "101\n"


def test_rpc_errors_and_unreachable_nodes_are_one_clear_answer(node: BtcNode) -> None:
    out_of_range = node.cli("getblockhash", "5")
    assert out_of_range.returncode == 1
    assert out_of_range.stderr == "error code: -8\nerror message:\nBlock height out of range\n"
    bad_json = node.cli("getblockhash", "five")
    assert (bad_json.returncode, bad_json.stderr) == (1, "error: Error parsing JSON: five\n")
    [closed_port] = free_tcp_ports(1)
    cmd = btcnode_command("rpc", "--datadir", str(node.datadir), "--rpc-port", str(closed_port))
    refused = subprocess.run([*cmd, "getblockcount"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: could not connect to the server 127.0.0.1:")
    assert refused.stderr.count("\n") == 1
    wrong = btcnode_command("rpc", "--rpc-port", str(node.rpc_port), "--rpcuser", "u")
    denied = subprocess.run(
        [*wrong, "--rpcpassword", "nope", "getblockcount"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (denied.returncode, denied.stderr) == (
        1,
        "error: Authorization failed: Incorrect rpcuser or rpcpassword\n",
    )


def test_an_accepted_transaction_survives_sigkill(node: BtcNode) -> None:
    node.rpc("generatetoaddress", 101, MINER_ADDRESS)
    first = Block.deserialize(bytes.fromhex(node.rpc("getblock", node.rpc("getblockhash", 1), 0)))
    tx = pay(MINER, coinbase_coin(first), p2wpkh(key("alice")), 10_000)
    txid = node.rpc("sendrawtransaction", tx.serialize().hex())
    assert txid == hash256_hex(tx.txid)
    node.kill()
    node.start()
    assert node.rpc("getrawmempool") == [txid]
    assert '"msg": "mempool loaded", "offered": 1, "accepted": 1, "dropped": 0' in node.tail()
    [block_hash] = node.rpc("generatetoaddress", 1, MINER_ADDRESS)
    assert node.rpc("getrawmempool") == []
    assert txid in node.rpc("getblock", block_hash, 1)["tx"]


def test_sigkill_while_mining_restarts_on_a_consistent_chain(tmp_path: Path) -> None:
    node = BtcNode(tmp_path, "miner")
    mining = ("--mine-to", MINER_ADDRESS, "--mine-interval", "0.05")
    try:
        for _ in range(2):
            node.start(*mining)
            seen = node.wait_for("20 blocks", lambda: (n := node.rpc("getblockcount")) >= 20 and n)
            node.kill()
            node.start()
            height = node.rpc("getblockcount")
            assert height >= seen  # everything an RPC answer showed was durable
            assert node.rpc("getbestblockhash") == node.rpc("getblockhash", height)
            info = node.rpc("getblockchaininfo")
            assert (info["blocks"], info["headers"]) == (height, height)
            node.kill()
    finally:
        node.stop_quietly()
    assert '"msg": "mined block"' in node.log_text()


def test_sigterm_exits_0_closes_the_workers_and_removes_the_cookie(tmp_path: Path) -> None:
    node = BtcNode(tmp_path, "n1", par=2)  # one script-check worker process
    try:
        node.start()
        workers = child_pids(node.proc.pid)  # type: ignore[union-attr]
        assert len(workers) >= 1
        node.rpc("generatetoaddress", 3, MINER_ADDRESS)
        assert node.terminate() == 0
        node.wait_for("the workers to exit", lambda: running(workers) == [], 5)
        assert not (node.datadir / "regtest" / ".cookie").exists()
        assert '"msg": "stopped", "height": 3' in node.tail()
        node.start()
        assert node.rpc("getblockcount") == 3
        workers = child_pids(node.proc.pid)  # type: ignore[union-attr]
        assert node.interrupt_group() == 0  # Ctrl-C reaches the workers too
        node.wait_for("the workers to exit", lambda: running(workers) == [], 5)
        assert "Traceback" not in node.log_text()
    finally:
        node.stop_quietly()


def test_a_second_node_on_the_same_datadir_is_refused(node: BtcNode, tmp_path: Path) -> None:
    other = BtcNode(tmp_path, "n1")  # same datadir, other ports
    cmd = btcnode_command(*other.args())
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert second.stderr.startswith(f"error: data directory {node.datadir / 'regtest'} is in use")
    assert f"pid {node.proc.pid}" in second.stderr  # type: ignore[union-attr]
    assert second.stderr.count("\n") == 1
    assert node.rpc("getblockcount") == 0  # the first one is undisturbed


def test_a_bad_mine_to_address_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cmd = btcnode_command("run", "--datadir", str(tmp_path / "x"), "--mine-to", "bc1qnope")
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: --mine-to: 'bc1qnope' is not a regtest address")
    assert bad.stderr.count("\n") == 1
    assert not (tmp_path / "x").exists()  # refused before anything was created


def test_two_nodes_connected_with_connect_sync_blocks_and_relay_transactions(
    tmp_path: Path,
) -> None:
    n1, n2 = BtcNode(tmp_path, "n1"), BtcNode(tmp_path, "n2")
    try:
        n1.start()
        n1.rpc("generatetoaddress", 101, MINER_ADDRESS)
        n2.start("--connect", f"127.0.0.1:{n1.p2p_port}")
        tip = n1.rpc("getbestblockhash")
        n2.wait_for("initial sync", lambda: n2.rpc("getbestblockhash") == tip)
        first = Block.deserialize(bytes.fromhex(n2.rpc("getblock", n2.rpc("getblockhash", 1), 0)))
        tx = pay(MINER, coinbase_coin(first), p2wpkh(key("bob")), 10_000)
        txid = n2.rpc("sendrawtransaction", tx.serialize().hex())
        n1.wait_for("the relayed transaction", lambda: n1.rpc("getrawmempool") == [txid])
        [block_hash] = n1.rpc("generatetoaddress", 1, MINER_ADDRESS)
        n2.wait_for("the new block", lambda: n2.rpc("getbestblockhash") == block_hash)
        assert n2.rpc("getrawmempool") == []
        for node in (n1, n2):  # the monitor polls the peer list once a second
            node.wait_for(
                "the peer logged", lambda n=node: '"msg": "peer connected"' in n.log_text()
            )
    finally:
        n2.stop_quietly()
        n1.stop_quietly()


def test_premine_mines_up_to_the_height_once_named_arguments_and_the_stop_rpc(
    tmp_path: Path,
) -> None:
    datadir = str(tmp_path / "n1")
    cmd = btcnode_command("premine", "--datadir", datadir, "--to", MINER_ADDRESS, "--height", "5")
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert first.stdout == f"chain at height 5; mined 5 block(s) to {MINER_ADDRESS}\n"
    assert again.stdout == f"chain at height 5; mined 0 block(s) to {MINER_ADDRESS}\n"
    node = BtcNode(tmp_path, "n1")
    try:
        node.start()
        named = node.cli("-named", "getblockhash", "height=5")
        assert named.returncode == 0, named.stderr
        assert named.stdout == node.rpc("getbestblockhash") + "\n"
        stopping = node.cli("stop")
        assert stopping.returncode == 0, stopping.stderr
        assert node.wait_exit() == 0
        assert not (node.datadir / "regtest" / ".cookie").exists()
    finally:
        node.stop_quietly()
