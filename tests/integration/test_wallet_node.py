"""A `Wallet` against a real `btcnode run` process over JSON-RPC with the node's cookie:
coinbase maturity, a payment between two wallets with an exact fee, a reorg and its
undoing, a restore from the mnemonic, and a wallet process killed with SIGKILL between
writing a signed transaction to its journal and broadcasting it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.params import REGTEST
from btcnode.daemon.layout import cookie_path
from btcnode.mempool.feerate import FeeRate
from btcnode.rpc import SyncRpcClient
from btcnode.rpc.auth import read_cookie
from tests.btcnode.node.processes import BtcNode
from wallets import AddressType, TxStatus, Wallet
from wallets.keystore import ScryptParams, read_keystore

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FAST_KDF = ScryptParams(n=2**4, r=1, p=1)
COIN = 100_000_000
SUBSIDY = 50 * COIN
_nobody = address_for_script(b"\x00\x20" + bytes(32), REGTEST)
assert _nobody is not None
NOBODY: str = _nobody  # P2WSH of no known script: blocks mined to nobody

# The child: open the wallet, sign and journal a payment, then die by SIGKILL before the
# broadcast, as a crash or the OOM killer would.
CRASHING_SEND = """
import os, signal, sys
from pathlib import Path
from btcnode.consensus.params import REGTEST
from wallets import Wallet
wallet = Wallet.open(Path(sys.argv[1]), REGTEST, "pw")
prepared = wallet.prepare_send([(sys.argv[2], 3 * 100_000_000)])
print(prepared.txid_hex, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def node(tmp_path: Path) -> Iterator[BtcNode]:
    n = BtcNode(tmp_path, "node")
    n.start()
    try:
        yield n
    finally:
        n.stop_quietly()


def _client(node: BtcNode) -> SyncRpcClient:
    credentials = read_cookie(cookie_path(node.datadir))
    return SyncRpcClient(f"http://127.0.0.1:{node.rpc_port}/", credentials, timeout_seconds=60)


def _funded(tmp_path: Path, node: BtcNode, rpc: SyncRpcClient) -> Wallet:
    wallet, _ = Wallet.create(tmp_path / "alice", REGTEST, "pw", kdf=FAST_KDF)
    node.rpc("generatetoaddress", 101, wallet.new_address().address)
    wallet.sync(rpc)
    return wallet


def test_pay_reorg_and_restore_against_a_node_process(tmp_path: Path, node: BtcNode) -> None:
    rpc = _client(node)
    alice = _funded(tmp_path, node, rpc)
    balance = alice.balance()
    assert (balance.confirmed, balance.unconfirmed, balance.immature) == (
        SUBSIDY,
        0,
        100 * SUBSIDY,
    )

    bob, _ = Wallet.create(tmp_path / "bob", REGTEST, "pw", kdf=FAST_KDF)
    sent = alice.send(rpc, [(bob.new_address(label="pay").address, 10 * COIN)])
    # regtest has no estimate: the fallback rate on the estimated size (one byte of slack for
    # a signature shorter than the 71 bytes estimated)
    assert FeeRate(20_000).fee(sent.vsize) <= sent.fee <= FeeRate(20_000).fee(sent.vsize + 1)
    entry = node.rpc("getmempoolentry", sent.txid_hex)
    assert entry["vsize"] == sent.vsize
    [block] = node.rpc("generatetoaddress", 1, NOBODY)
    alice.sync(rpc)
    bob.sync(rpc)
    assert bob.balance().confirmed == 10 * COIN
    assert alice.balance().confirmed == 2 * SUBSIDY - 10 * COIN - sent.fee  # block 2 matured
    assert alice.balance().immature == 99 * SUBSIDY

    node.rpc("invalidateblock", block)
    report = bob.sync(rpc)
    assert report.blocks_disconnected == 1
    assert (bob.balance().confirmed, bob.balance().unconfirmed) == (0, 10 * COIN)
    assert bob.history()[0].status is TxStatus.UNCONFIRMED
    node.rpc("reconsiderblock", block)
    bob.sync(rpc)
    assert (bob.balance().confirmed, bob.balance().unconfirmed) == (10 * COIN, 0)
    [payment] = bob.history()
    assert (payment.txid, payment.height, payment.amount, payment.label) == (
        sent.txid,
        102,
        10 * COIN,
        "pay",
    )

    alice.sync(rpc)
    mnemonic = read_keystore(tmp_path / "alice" / "keystore.json", "pw", REGTEST).mnemonic
    assert mnemonic is not None
    restored = Wallet.restore(tmp_path / "restored", REGTEST, mnemonic, "pw2", kdf=FAST_KDF)
    report = restored.sync(rpc)
    assert report.start_height == -1 and report.tip_height == 102
    assert restored.balance() == alice.balance()
    assert restored.history() == alice.history()
    assert restored.list_unspent() == alice.list_unspent()


def test_a_send_killed_before_broadcast_is_sent_by_the_next_sync(
    tmp_path: Path, node: BtcNode
) -> None:
    rpc = _client(node)
    alice = _funded(tmp_path, node, rpc)
    payee = alice.address_at(AddressType.P2WPKH, 5)  # pays itself: the fee is the only loss
    alice.close()  # the child process holds the database lock while it runs
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_SEND, str(tmp_path / "alice"), payee.address],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    txid_hex = child.stdout.strip()
    assert len(txid_hex) == 64
    assert txid_hex not in node.rpc("getrawmempool")

    with Wallet.open(tmp_path / "alice", REGTEST) as again:
        report = again.sync(rpc)
        assert [t[::-1].hex() for t in report.rebroadcast] == [txid_hex]
        assert txid_hex in node.rpc("getrawmempool")
        node.rpc("generatetoaddress", 1, NOBODY)
        again.sync(rpc)
        [entry] = [h for h in again.history() if h.txid_hex == txid_hex]
        assert entry.status is TxStatus.CONFIRMED and entry.fee is not None
        assert entry.amount == -entry.fee  # to itself
        assert again.state.journal == {}
