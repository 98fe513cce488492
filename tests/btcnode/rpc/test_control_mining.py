"""generatetoaddress, stop, uptime and help."""

from __future__ import annotations

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.hashes import hash256_hex
from btcnode.rpc import RpcError
from tests.btcnode.rpc.harness import Harness
from tests.btcnode.scenarios.helpers import key, p2wpkh


def test_generatetoaddress_mines_to_the_address_and_is_durable(rpc: Harness) -> None:
    script = p2wpkh(key("miner"))
    address = address_for_script(script, rpc.node.params)
    hashes = rpc.call("generatetoaddress", 3, address)
    chain = rpc.node.chainstate
    assert hashes == [hash256_hex(chain.block_hash_at(h)) for h in (1, 2, 3)]
    assert rpc.call("getblockcount") == 3
    assert rpc.call("getbestblockhash") == hashes[-1]
    block = chain.get_block(chain.block_hash_at(2))
    assert block is not None and block.txs[0].vout[0].script_pubkey == script
    assert rpc.durable_calls == [3]


def test_generatetoaddress_negative_count_mines_nothing(rpc: Harness) -> None:
    address = address_for_script(p2wpkh(key("miner")), rpc.node.params)
    assert rpc.call("generatetoaddress", -1, address) == []
    assert rpc.call("getblockcount") == 0


@pytest.mark.parametrize(
    "address",
    ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZx", ""],
)
def test_generatetoaddress_refuses_bad_addresses(rpc: Harness, address: str) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("generatetoaddress", 1, address)
    assert info.value.code == -5
    assert info.value.message.startswith("Error: Invalid address")
    assert rpc.node.chainstate.tip_height == 0


def test_stop(rpc: Harness) -> None:
    assert rpc.call("stop") == "btcnode stopping"
    assert rpc.stops == [rpc.clock[0]]


def test_uptime_counts_from_server_start(rpc: Harness) -> None:
    assert rpc.call("uptime") == 0
    rpc.clock[0] += 42
    assert rpc.call("uptime") == 42


def test_help_lists_methods_by_category_and_explains_one(rpc: Harness) -> None:
    text = rpc.call("help")
    assert "== Blockchain ==" in text and "== Control ==" in text
    assert "getblockhash height" in text.splitlines()
    assert 'generatetoaddress nblocks "address" ( maxtries )' in text.splitlines()
    one = rpc.call("help", "getblockhash")
    assert one.startswith("getblockhash height\n\nReturns hash of block")
    assert rpc.call("help", "nosuch") == "help: unknown command: nosuch"
