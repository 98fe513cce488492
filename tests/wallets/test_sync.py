"""Wallet sync against a real in-process regtest node: blocks, maturity, reorgs, the gap
limit on restore, the wrong chain, a node that is down.

`InProcessNode` answers every call from btcnode's real RPC method table over a real
`Node` (the code `btcnode run` serves), with the JSON round trip `SyncRpcClient` does, so
the wallet sees exactly what it would over HTTP. Other wallet tests import it from here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.block import Block
from btcnode.consensus.params import MAINNET, REGTEST
from btcnode.node import Node
from btcnode.rpc import RpcContext, RpcCredentials, SyncRpcClient
from btcnode.rpc.jsonfmt import dumps
from btcnode.rpc.table import RPC_METHODS
from common.net import free_tcp_ports
from tests.btcnode.rpc.harness import FakePeers
from tests.btcnode.scenarios.helpers import T0, new_node
from wallets import AddressType, TxStatus, Wallet
from wallets._node import from_display_hex
from wallets.errors import WalletError
from wallets.keystore import ScryptParams
from wallets.state import GAP_LIMIT
from wallets.sync import NodeUnavailable, WrongChain

FAST_KDF = ScryptParams(n=2**4, r=1, p=1)  # the keystore is not under test here
COIN = 100_000_000
SUBSIDY = 50 * COIN
NOBODY = address_for_script(b"\x00\x20" + bytes(32), REGTEST)  # P2WSH of no known script


class InProcessNode:
    """A `NodeClient` calling btcnode's RPC method table on an in-process node."""

    def __init__(self, node: Node | None = None) -> None:
        self.node = node if node is not None else new_node()
        self.clock = [T0]
        self.calls: list[str] = []
        self.ctx = RpcContext(
            node=self.node,
            peers=FakePeers(),
            clock=lambda: self.clock[0],
            durable=lambda: None,
            request_stop=lambda: None,
        )

    def call(self, method: str, *params: Any) -> Any:
        self.calls.append(method)
        result = RPC_METHODS.execute(self.ctx, method, list(params))
        return json.loads(dumps(result), parse_float=Decimal)

    def mine(self, count: int, address: str) -> list[str]:
        hashes: list[str] = self.call("generatetoaddress", count, address)
        return hashes

    def mine_to_nobody(self, count: int = 1) -> list[str]:
        assert NOBODY is not None
        return self.mine(count, NOBODY)


def new_wallet(path: Path, name: str = "w", **kwargs: Any) -> tuple[Wallet, str]:
    return Wallet.create(path / name, REGTEST, "pw", kdf=FAST_KDF, **kwargs)


@pytest.fixture
def node() -> InProcessNode:
    return InProcessNode()


@pytest.fixture
def funded(tmp_path: Path, node: InProcessNode) -> Wallet:
    """A wallet that mined 101 blocks: one mature coinbase, a hundred immature."""
    wallet, _ = new_wallet(tmp_path)
    node.mine(101, wallet.new_address().address)
    wallet.sync(node)
    return wallet


def test_sync_counts_mature_and_immature_coinbase_as_core_does(
    funded: Wallet, node: InProcessNode
) -> None:
    # Core: a coinbase needs COINBASE_MATURITY + 1 = 101 confirmations (GetTxBlocksToMaturity)
    balance = funded.balance()
    assert (balance.confirmed, balance.unconfirmed, balance.immature) == (
        SUBSIDY,
        0,
        100 * SUBSIDY,
    )
    assert funded.tip_height == 101
    spendable = [c for c in funded.list_unspent() if c.spendable]
    assert [c.confirmations for c in spendable] == [101]
    assert len(funded.list_unspent(min_conf=100)) == 2  # heights 1 and 2


def test_sync_only_fetches_new_blocks(funded: Wallet, node: InProcessNode) -> None:
    node.calls.clear()
    report = funded.sync(node)
    assert report.blocks_scanned == 0 and report.start_height == report.tip_height == 101
    assert "getblock" not in node.calls
    node.mine_to_nobody(3)
    report = funded.sync(node)
    assert (report.blocks_scanned, report.tip_height) == (3, 104)
    assert node.calls.count("getblock") == 3


def test_incoming_payment_is_unconfirmed_then_confirmed(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    address = receiver.new_address(label="rent").address
    sent = funded.send(node, [(address, 3 * COIN)])
    receiver.sync(node)
    assert receiver.balance().unconfirmed == 3 * COIN
    [entry] = receiver.history()
    assert (entry.txid, entry.status, entry.amount, entry.label) == (
        sent.txid,
        TxStatus.UNCONFIRMED,
        3 * COIN,
        "rent",
    )
    node.mine_to_nobody()
    receiver.sync(node)
    assert receiver.balance().confirmed == 3 * COIN
    assert receiver.history()[0].status is TxStatus.CONFIRMED
    assert receiver.history()[0].height == 102


def test_reorg_moves_a_payment_back_to_unconfirmed_and_back(
    tmp_path: Path, funded: Wallet, node: InProcessNode
) -> None:
    receiver, _ = new_wallet(tmp_path, "r")
    sent = funded.send(node, [(receiver.new_address().address, 2 * COIN)])
    [block_hash] = node.mine_to_nobody()
    receiver.sync(node)
    assert receiver.balance().confirmed == 2 * COIN

    node.call("invalidateblock", block_hash)
    report = receiver.sync(node)
    assert report.blocks_disconnected == 1 and report.tip_height == 101
    assert receiver.balance().confirmed == 0 and receiver.balance().unconfirmed == 2 * COIN
    assert receiver.history()[0].status is TxStatus.UNCONFIRMED

    node.call("reconsiderblock", block_hash)
    report = receiver.sync(node)
    assert report.tip_height == 102 and sent.txid in report.touched
    assert receiver.balance().confirmed == 2 * COIN
    assert receiver.history()[0].height == 102


def test_reorg_to_a_longer_chain_drops_a_vanished_coinbase(
    funded: Wallet, node: InProcessNode
) -> None:
    [mine] = node.mine(1, funded.new_address().address)
    funded.sync(node)
    assert funded.balance().immature == 100 * SUBSIDY  # block 2 matured, block 102 arrived
    node.call("invalidateblock", mine)
    other = node.mine_to_nobody(2)
    report = funded.sync(node)
    assert (report.blocks_disconnected, report.blocks_scanned, report.tip_height) == (1, 2, 103)
    assert report.tip_hash == bytes.fromhex(other[-1])[::-1]
    lost = [h for h in funded.history() if h.status is TxStatus.CONFLICTED]
    assert len(lost) == 1 and lost[0].amount == SUBSIDY
    # blocks 1..3 are mature at height 103; the vanished coinbase is nowhere
    assert funded.balance().confirmed == 3 * SUBSIDY
    assert funded.balance().immature == 98 * SUBSIDY


def test_restore_finds_payments_beyond_the_first_gap_window(
    tmp_path: Path, funded: Wallet, node: InProcessNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    far = funded.address_at(AddressType.P2WPKH, GAP_LIMIT - 1)  # last of the first window
    farther = funded.address_at(AddressType.P2WPKH, 2 * GAP_LIMIT - 2)  # only after `far`
    legacy = funded.address_at(AddressType.P2PKH, 3)
    funded.send(node, [(far.address, COIN), (farther.address, COIN), (legacy.address, COIN)])
    node.mine_to_nobody()  # all three in one block: the window grows while it is scanned
    funded.sync(node)
    restored = Wallet.restore(
        tmp_path / "restored", REGTEST, _mnemonic_of(tmp_path), "pw", kdf=FAST_KDF
    )
    decoded = _count_block_decodes(monkeypatch)
    restored.sync(node)
    assert restored.balance() == funded.balance()
    paths = {c.path for c in restored.list_unspent()}
    assert {far.path, farther.path, legacy.path} <= paths
    assert len(decoded) == restored.tip_height + 1  # each block once, though the window grew


def _count_block_decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record every `Block.deserialize` call's input from now on."""
    original = Block.deserialize.__func__  # type: ignore[attr-defined]
    seen: list[bytes] = []

    def counting(cls: type[Block], data: bytes) -> Block:
        seen.append(data)
        block: Block = original(cls, data)
        return block

    monkeypatch.setattr(Block, "deserialize", classmethod(counting))
    return seen


def _mnemonic_of(tmp_path: Path) -> str:
    from wallets.keystore import read_keystore

    secret = read_keystore(tmp_path / "w" / "keystore.json", "pw", REGTEST)
    assert secret.mnemonic is not None
    return secret.mnemonic


def test_a_node_on_another_chain_is_refused(tmp_path: Path, node: InProcessNode) -> None:
    wallet, _ = Wallet.create(tmp_path / "main", MAINNET, "pw", kdf=FAST_KDF)
    with pytest.raises(WrongChain) as caught:
        wallet.sync(node)
    assert caught.value.expected == MAINNET.genesis_hash
    assert caught.value.found == REGTEST.genesis_hash
    assert wallet.tip_height == -1


def test_a_node_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    wallet, _ = new_wallet(tmp_path)
    (port,) = free_tcp_ports(1)
    client = SyncRpcClient(f"http://127.0.0.1:{port}/", RpcCredentials("u", "p"), timeout_seconds=5)
    with pytest.raises(NodeUnavailable, match="cannot reach the node"):
        wallet.sync(client)
    assert wallet.tip_height == -1


def test_sync_state_survives_reopening(tmp_path: Path, funded: Wallet, node: InProcessNode) -> None:
    before = (funded.balance(), funded.history(), funded.list_unspent())
    funded.close()
    with Wallet.open(tmp_path / "w", REGTEST) as again:
        assert (again.balance(), again.history(), again.list_unspent()) == before
        node.calls.clear()
        again.sync(node)
        assert "getblock" not in node.calls


@pytest.mark.parametrize("sent", ["zz" * 32, "ab" * 31, 7, None, "ab" * 33])
def test_a_node_that_sends_a_malformed_hash_is_a_wallet_error(sent: object) -> None:
    with pytest.raises(WalletError, match="where a hash was expected"):
        from_display_hex(sent)


def test_a_displayed_hash_is_read_in_internal_byte_order() -> None:
    assert from_display_hex("00" * 31 + "ff") == b"\xff" + bytes(31)
