"""Core's wallet RPC methods (`wallets.rpc`) on an in-process node, through the table the
daemon serves (`btcnode.daemon.wallets.wallet_rpc`): shapes, amounts, codes and messages."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.params import REGTEST
from btcnode.daemon.wallets import wallet_rpc
from btcnode.rpc import RpcContext, RpcError
from btcnode.rpc.jsonfmt import dumps
from tests.btcnode.rpc.harness import FakePeers
from tests.btcnode.scenarios.helpers import T0, new_node
from wallets.keystore import ScryptParams
from wallets.rpc import WalletManager

FAST_KDF = ScryptParams(n=2**4, r=1, p=1)  # the keystore is not under test here
NOBODY = address_for_script(b"\x00\x20" + bytes(32), REGTEST)  # P2WSH of no known script


class WalletNode:
    """A node with the wallet methods, called as a client on `/` or `/wallet/<name>` sees it."""

    def __init__(self, walletdir: Path) -> None:
        self.clock = [T0]
        self.ctx = RpcContext(
            node=new_node(),
            peers=FakePeers(),
            clock=lambda: self.clock[0],
            durable=lambda: None,
            request_stop=lambda: None,
        )
        self.table, self.manager = wallet_rpc(walletdir, REGTEST)
        self.manager.kdf = FAST_KDF

    def call(self, method: str, *params: Any, wallet: str | None = None) -> Any:
        uri = "/" if wallet is None else f"/wallet/{wallet}"
        result = self.table.execute(self.ctx, method, list(params), uri=uri)
        return json.loads(dumps(result), parse_float=Decimal)

    def error(self, method: str, *params: Any, wallet: str | None = None) -> tuple[int, str]:
        with pytest.raises(RpcError) as caught:
            self.call(method, *params, wallet=wallet)
        return caught.value.code, caught.value.message


@pytest.fixture
def node(tmp_path: Path) -> WalletNode:
    return WalletNode(tmp_path / "wallets")


@pytest.fixture
def funded(node: WalletNode) -> WalletNode:
    """alice (unencrypted) mined 101 blocks; bob (encrypted, passphrase "secret") has none."""
    assert node.call("createwallet", "alice") == {"name": "alice"}
    node.call("generatetoaddress", 101, node.call("getnewaddress", wallet="alice"))
    node.call("createwallet", "bob", False, False, "secret")
    return node


def test_wallets_are_created_loaded_and_unloaded_as_core_does(
    node: WalletNode, tmp_path: Path
) -> None:
    assert node.call("listwallets") == []
    assert node.error("getnewaddress") == (
        -18,
        "No wallet is loaded. Load a wallet using loadwallet or create a new one with "
        "createwallet. (Note: A default wallet is no longer automatically created)",
    )
    assert node.call("createwallet", "w1", None, None, "") == {
        "name": "w1",
        "warnings": ["Empty string given as passphrase, wallet will not be encrypted."],
    }
    code, message = node.error("createwallet", "w1")
    assert code == -36 and message.endswith("Database already exists.")
    assert node.error("loadwallet", "w1") == (-35, 'Wallet "w1" is already loaded.')
    assert node.call("unloadwallet", "w1") == {}
    assert node.call("listwallets") == []
    assert node.call("loadwallet", "w1") == {"name": "w1"}
    code, message = node.error("loadwallet", "nope")
    assert code == -18 and message.endswith("Path does not exist.")
    assert node.error("createwallet", "../escape")[0] == -8
    assert not (tmp_path / "escape").exists()
    assert node.error("createwallet", "w2", True)[0] == -8
    assert node.error("createwallet", "w2", False, True)[0] == -8
    assert node.call("listwallets") == ["w1"]


def test_the_wallet_comes_from_the_uri_or_is_the_only_one(node: WalletNode) -> None:
    node.call("createwallet", "a")
    alone = node.call("getnewaddress")
    node.call("createwallet", "b")
    assert node.error("getnewaddress") == (
        -19,
        "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
    )
    assert node.error("getnewaddress", wallet="c") == (
        -18,
        "Requested wallet does not exist or is not loaded",
    )
    assert node.call("getnewaddress", wallet="a") != alone
    assert node.call("getblockcount", wallet="a") == 0  # node methods work on any URI
    assert node.error("unloadwallet", "b", wallet="a")[0] == -8


def test_address_types_by_core_names(node: WalletNode) -> None:
    node.call("createwallet", "w")
    assert node.call("getnewaddress").startswith("bcrt1q")
    assert node.call("getnewaddress", "", "bech32").startswith("bcrt1q")
    assert node.call("getnewaddress", "", "p2sh-segwit").startswith("2")
    assert node.call("getnewaddress", "", "legacy")[0] in "mn"
    assert node.error("getnewaddress", "", "base58") == (-5, "Unknown address type 'base58'")
    assert node.error("getnewaddress", "", "bech32m")[0] == -8
    assert node.error("getnewaddress", "*") == (-11, "Invalid label name")


def test_balances_follow_the_chain(funded: WalletNode) -> None:
    node = funded
    assert node.call("getbalance", wallet="alice") == Decimal("50.00000000")
    assert node.call("getbalance", "*", 101, wallet="alice") == Decimal("50.00000000")
    assert node.call("getbalance", "*", 102, wallet="alice") == 0
    assert node.error("getbalance", "x", wallet="alice")[0] == -32
    balances = node.call("getbalances", wallet="alice")
    assert balances == {
        "mine": {
            "trusted": Decimal("50.00000000"),
            "untrusted_pending": Decimal("0E-8"),
            "immature": Decimal("5000.00000000"),
        },
        "lastprocessedblock": {"hash": node.call("getbestblockhash"), "height": 101},
    }
    node.call("generatetoaddress", 1, NOBODY)
    assert node.call("getbalance", wallet="alice") == Decimal("100.00000000")  # synced


def test_sendtoaddress_pays_the_fee_rate_asked(funded: WalletNode) -> None:
    node = funded
    to_bob = node.call("getnewaddress", wallet="bob")
    txid = node.call(
        "sendtoaddress", to_bob, "1.5", None, None, None, None, None, None, None, 2, wallet="alice"
    )
    entry = node.call("getmempoolentry", txid)
    fee = int(entry["fees"]["base"] * 100_000_000)
    assert fee == 2 * entry["vsize"]
    assert node.call("getbalance", wallet="alice") == Decimal("48.5") - Decimal(fee) / 10**8
    pending = node.call("getbalances", wallet="bob")["mine"]
    assert pending["untrusted_pending"] == Decimal("1.50000000")
    assert pending["trusted"] == 0
    assert node.call("listunspent", wallet="bob") == []  # minconf 1
    (coin,) = node.call("listunspent", 0, wallet="bob")
    assert coin["txid"] == txid and coin["address"] == to_bob
    assert coin["amount"] == Decimal("1.50000000") and coin["confirmations"] == 0
    assert set(coin) == {
        "txid",
        "vout",
        "address",
        "label",
        "scriptPubKey",
        "amount",
        "confirmations",
        "spendable",
        "solvable",
        "safe",
    }
    assert (coin["spendable"], coin["safe"]) == (False, False)  # someone else's unconfirmed tx
    node.call("generatetoaddress", 1, NOBODY)
    assert node.call("getbalance", wallet="bob") == Decimal("1.50000000")
    assert node.call("listunspent", 1, 9, [to_bob], wallet="bob")[0]["safe"] is True


def test_send_errors_have_cores_codes(funded: WalletNode) -> None:
    node = funded
    to_bob = node.call("getnewaddress", wallet="bob")
    assert node.error("sendtoaddress", to_bob, 60, wallet="alice") == (-6, "Insufficient funds")
    assert node.error("sendtoaddress", to_bob, "0.00000100", wallet="alice") == (
        -6,
        "Transaction amount too small",
    )
    code, message = node.error("sendtoaddress", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 1)
    assert code == -19  # two wallets loaded: the address is not even looked at
    code, message = node.error(
        "sendtoaddress", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 1, wallet="alice"
    )
    assert code == -5 and "bcrt" in message
    assert node.error("sendtoaddress", to_bob, 1, None, None, True, wallet="alice")[0] == -8
    assert node.error("sendtoaddress", to_bob, 0, wallet="alice") == (-3, "Invalid amount for send")
    assert node.call("getrawmempool") == []


def test_an_encrypted_wallet_signs_only_while_unlocked(funded: WalletNode) -> None:
    node = funded
    to_bob = node.call("getnewaddress", wallet="bob")
    node.call("sendtoaddress", to_bob, 2, wallet="alice")
    node.call("generatetoaddress", 1, NOBODY)
    locked = (-13, "Error: Please enter the wallet passphrase with walletpassphrase first.")
    assert node.error("sendtoaddress", NOBODY, 1, wallet="bob") == locked
    assert node.error("walletpassphrase", "wrong", 60, wallet="bob") == (
        -14,
        "Error: The wallet passphrase entered was incorrect.",
    )
    assert node.error("walletpassphrase", "secret", -1, wallet="bob")[0] == -8
    unencrypted = "Error: running with an unencrypted wallet, but {} was called."
    assert node.error("walletpassphrase", "pw", 60, wallet="alice") == (
        -15,
        unencrypted.format("walletpassphrase"),
    )
    assert node.error("walletlock", wallet="alice") == (-15, unencrypted.format("walletlock"))
    assert node.call("walletpassphrase", "secret", 60, wallet="bob") is None
    assert len(node.call("sendtoaddress", NOBODY, 1, wallet="bob")) == 64
    node.clock[0] += 61
    assert node.error("sendtoaddress", NOBODY, "0.1", wallet="bob") == locked
    node.call("walletpassphrase", "secret", 600, wallet="bob")
    node.call("walletlock", wallet="bob")
    assert node.error("sendtoaddress", NOBODY, "0.1", wallet="bob") == locked
    node.call("unloadwallet", "bob")
    node.call("loadwallet", "bob")  # found encrypted again: its keystore has a passphrase
    assert node.error("sendtoaddress", NOBODY, "0.1", wallet="bob") == locked


def test_signrawtransactionwithwallet_signs_its_own_coins(funded: WalletNode) -> None:
    node = funded
    (coin,) = node.call("listunspent", wallet="alice")
    outpoint = {"txid": coin["txid"], "vout": coin["vout"]}
    raw = node.call("createrawtransaction", [outpoint], {NOBODY: "49.9999"})
    signed = node.call("signrawtransactionwithwallet", raw, wallet="alice")
    assert signed["complete"] is True and "errors" not in signed
    assert node.call("testmempoolaccept", [signed["hex"]])[0]["allowed"] is True
    stranger = {"txid": "11" * 32, "vout": 0}
    raw = node.call("createrawtransaction", [outpoint, stranger], {NOBODY: 49})
    sequence = node.call("decoderawtransaction", raw)["vin"][1]["sequence"]
    partial = node.call("signrawtransactionwithwallet", raw, wallet="alice")
    assert partial["complete"] is False
    assert partial["errors"] == [
        {
            "txid": "11" * 32,
            "vout": 0,
            "witness": [],
            "scriptSig": "",
            "sequence": sequence,
            "error": "Input not found or already spent",
        }
    ]
    assert (
        node.error("signrawtransactionwithwallet", raw, [{"txid": "11" * 32}], wallet="alice")[0]
        == -8
    )
    locked = node.error("signrawtransactionwithwallet", raw, wallet="bob")
    assert locked[0] == -13


def test_manager_closes_every_wallet(node: WalletNode) -> None:
    node.call("createwallet", "a")
    node.call("createwallet", "b")
    manager: WalletManager = node.manager
    manager.close_all()
    assert node.call("listwallets") == []
