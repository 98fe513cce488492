"""Blockchain methods: shapes field by field against Core 28, and their errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.hashes import hash256_hex
from btcnode.rpc import RpcError
from tests.btcnode.rpc.conftest import Funded
from tests.btcnode.rpc.harness import Harness
from tests.btcnode.scenarios.helpers import COIN, coinbase_coin, key, output_coin, p2wpkh, pay

HEADER_KEYS = [
    "hash", "confirmations", "height", "version", "versionHex", "merkleroot", "time",
    "mediantime", "nonce", "bits", "difficulty", "chainwork", "nTx", "previousblockhash",
    "nextblockhash",
]  # fmt: skip
TX_KEYS = ["txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout"]
BLOCK_KEYS = [*HEADER_KEYS, "strippedsize", "size", "weight", "tx"]
REGTEST_DIFFICULTY = Decimal("4.656542373906925E-10")


def test_getblockchaininfo(funded: Funded) -> None:
    rpc = funded.rpc
    info = rpc.call("getblockchaininfo")
    tip = rpc.node.chainstate.tip
    assert list(info) == [
        "chain", "blocks", "headers", "bestblockhash", "difficulty", "time", "mediantime",
        "verificationprogress", "initialblockdownload", "chainwork", "size_on_disk", "pruned",
        "warnings",
    ]  # fmt: skip
    assert info["chain"] == "regtest"
    assert info["blocks"] == info["headers"] == 101
    assert info["bestblockhash"] == hash256_hex(tip.hash)
    assert info["difficulty"] == REGTEST_DIFFICULTY
    assert info["time"] == tip.time
    assert info["mediantime"] == rpc.node.chainstate.median_time_past(101)
    assert info["initialblockdownload"] is False
    assert info["chainwork"] == f"{tip.chain_work:064x}" and len(info["chainwork"]) == 64
    assert info["chainwork"] == "00000000000000000000000000000000000000000000000000000000000000cc"
    assert (info["pruned"], info["warnings"]) == (False, [])


def test_a_day_old_tip_is_initial_download(rpc: Harness) -> None:
    assert rpc.call("getblockchaininfo")["initialblockdownload"] is False
    rpc.clock[0] = rpc.node.chainstate.tip.time + 24 * 60 * 60 + 1
    assert rpc.call("getblockchaininfo")["initialblockdownload"] is True


def test_getblock_verbosity_1(funded: Funded) -> None:
    rpc = funded.rpc
    block = funded.blocks[49]  # height 50
    result = rpc.call("getblock", block.header.hash_hex)
    assert list(result) == BLOCK_KEYS
    chain = rpc.node.chainstate
    assert result["hash"] == block.header.hash_hex
    assert result["confirmations"] == 52
    assert result["height"] == 50
    assert result["version"] == block.header.version
    assert result["versionHex"] == f"{block.header.version:08x}"
    assert result["merkleroot"] == hash256_hex(block.header.merkle_root)
    assert result["time"] == block.header.time
    assert result["mediantime"] == chain.median_time_past(50)
    assert result["nonce"] == block.header.nonce
    assert result["bits"] == "207fffff"
    assert result["difficulty"] == REGTEST_DIFFICULTY
    assert result["chainwork"] == f"{50 * 2 + 2:064x}"
    assert result["nTx"] == 1
    assert result["previousblockhash"] == funded.blocks[48].header.hash_hex
    assert result["nextblockhash"] == funded.blocks[50].header.hash_hex
    assert result["strippedsize"] == block.base_size
    assert result["size"] == block.total_size
    assert result["weight"] == block.weight
    assert result["tx"] == [hash256_hex(block.txs[0].txid)]
    assert rpc.call("getblock", block.header.hash_hex, True) == result


def test_getblock_genesis_has_no_previous_and_tip_no_next(funded: Funded) -> None:
    rpc = funded.rpc
    genesis = rpc.call("getblock", rpc.call("getblockhash", 0))
    assert "previousblockhash" not in genesis and genesis["confirmations"] == 102
    tip = rpc.call("getblock", rpc.call("getbestblockhash"))
    assert "nextblockhash" not in tip and tip["confirmations"] == 1


def test_getblock_verbosity_0_is_the_raw_block(funded: Funded) -> None:
    block = funded.blocks[0]
    assert funded.rpc.call("getblock", block.header.hash_hex, 0) == block.serialize().hex()
    assert funded.rpc.call("getblock", block.header.hash_hex, False) == block.serialize().hex()


def test_getblock_verbosity_2_decodes_transactions_with_fees(funded: Funded) -> None:
    rpc, owner = funded.rpc, funded.owner
    parent = pay(owner, coinbase_coin(funded.blocks[0]), p2wpkh(owner), 1000)
    child = pay(owner, output_coin(parent, 0), p2wpkh(key("x")), 500)
    rpc.call("sendrawtransaction", parent.serialize().hex())
    rpc.call("sendrawtransaction", child.serialize().hex())
    [block_hash] = rpc.call("generatetoaddress", 1, _address(rpc))
    result = rpc.call("getblock", block_hash, 2)
    assert list(result) == [k for k in BLOCK_KEYS if k != "nextblockhash"]
    coinbase, first, second = result["tx"]
    assert list(first) == [*TX_KEYS, "hex"]  # its input's block is another: fee unknown
    assert list(second) == [*TX_KEYS, "fee", "hex"]
    assert first["txid"] == hash256_hex(parent.txid)
    assert first["hex"] == parent.serialize().hex()
    assert second["fee"] == Decimal("0.00000500")  # its input is the block's own output
    assert list(coinbase) == [*TX_KEYS, "hex"]
    assert list(coinbase["vin"][0]) == ["coinbase", "txinwitness", "sequence"]
    assert list(second["vin"][0]) == ["txid", "vout", "scriptSig", "txinwitness", "sequence"]
    result3 = rpc.call("getblock", block_hash, 3)
    script = parent.vout[0].script_pubkey
    assert result3["tx"][2]["vin"][0]["prevout"] == {
        "generated": False,
        "height": 102,
        "value": Decimal(parent.vout[0].value) / COIN,
        "scriptPubKey": {
            "asm": "0 " + script[2:].hex(),
            "desc": result3["tx"][1]["vout"][0]["scriptPubKey"]["desc"],
            "hex": script.hex(),
            "address": address_for_script(script, rpc.node.params),
            "type": "witness_v0_keyhash",
        },
    }
    assert "prevout" not in result3["tx"][1]["vin"][0]


def _address(rpc: Harness) -> str:
    address = address_for_script(p2wpkh(key("miner")), rpc.node.params)
    assert address is not None
    return address


def test_getblockheader(funded: Funded) -> None:
    rpc = funded.rpc
    block = funded.blocks[9]
    header = rpc.call("getblockheader", block.header.hash_hex)
    assert list(header) == HEADER_KEYS
    full = rpc.call("getblock", block.header.hash_hex)
    assert header == {k: full[k] for k in HEADER_KEYS}
    raw = rpc.call("getblockheader", block.header.hash_hex, False)
    assert raw == block.header.serialize().hex() and len(raw) == 160


@pytest.mark.parametrize("method", ["getblock", "getblockheader"])
def test_unknown_and_malformed_block_hashes(funded: Funded, method: str) -> None:
    rpc = funded.rpc
    with pytest.raises(RpcError) as info:
        rpc.call(method, "11" * 32)
    assert (info.value.code, info.value.message) == (-5, "Block not found")
    with pytest.raises(RpcError) as info:
        rpc.call(method, "abc")
    assert info.value.code == -8
    assert "must be of length 64 (not 3, for 'abc')" in info.value.message
    with pytest.raises(RpcError) as info:
        rpc.call(method, "zz" * 32)
    assert info.value.code == -8 and "must be hexadecimal string" in info.value.message


def test_getblockhash_out_of_range(funded: Funded) -> None:
    for height in (-1, 102):
        with pytest.raises(RpcError) as info:
            funded.rpc.call("getblockhash", height)
        assert (info.value.code, info.value.message) == (-8, "Block height out of range")


def test_getdifficulty(rpc: Harness) -> None:
    assert rpc.call("getdifficulty") == REGTEST_DIFFICULTY


def test_invalidate_and_reconsider_with_chaintips(funded: Funded) -> None:
    rpc = funded.rpc
    tips = rpc.call("getchaintips")
    assert tips == [
        {
            "height": 101,
            "hash": funded.blocks[-1].header.hash_hex,
            "branchlen": 0,
            "status": "active",
        }
    ]
    target = funded.blocks[99]  # height 100
    assert rpc.call("invalidateblock", target.header.hash_hex) is None
    assert rpc.call("getblockcount") == 99
    assert rpc.durable_calls[-1] == 99
    tips = rpc.call("getchaintips")
    assert {"height": 101, "hash": funded.blocks[-1].header.hash_hex, "branchlen": 2,
            "status": "invalid"} in tips  # fmt: skip
    assert {"height": 99, "hash": funded.blocks[98].header.hash_hex, "branchlen": 0,
            "status": "active"} in tips  # fmt: skip
    assert rpc.call("getblock", target.header.hash_hex)["confirmations"] == -1
    assert rpc.call("reconsiderblock", target.header.hash_hex) is None
    assert rpc.call("getblockcount") == 101
    with pytest.raises(RpcError) as info:
        rpc.call("invalidateblock", "22" * 32)
    assert (info.value.code, info.value.message) == (-5, "Block not found")


def test_gettxout_confirmed_mempool_and_spent(funded: Funded) -> None:
    rpc, owner = funded.rpc, funded.owner
    coinbase = funded.blocks[0].txs[0]
    txid = hash256_hex(coinbase.txid)
    out = rpc.call("gettxout", txid, 0)
    assert list(out) == ["bestblock", "confirmations", "value", "scriptPubKey", "coinbase"]
    assert out["bestblock"] == funded.blocks[-1].header.hash_hex
    assert out["confirmations"] == 101
    assert out["value"] == Decimal("50.00000000")
    assert out["coinbase"] is True
    script = out["scriptPubKey"]
    assert list(script) == ["asm", "desc", "hex", "address", "type"]
    assert script["type"] == "witness_v0_keyhash"
    assert script["address"].startswith("bcrt1q")
    assert script["asm"] == "0 " + coinbase.vout[0].script_pubkey[2:].hex()
    assert rpc.call("gettxout", txid, 5) is None
    spend = pay(owner, coinbase_coin(funded.blocks[0]), p2wpkh(owner), 1000)
    rpc.call("sendrawtransaction", spend.serialize().hex())
    assert rpc.call("gettxout", txid, 0) is None  # spent in the mempool
    assert rpc.call("gettxout", txid, 0, False)["value"] == Decimal(50)
    unconfirmed = rpc.call("gettxout", hash256_hex(spend.txid), 0)
    assert unconfirmed["confirmations"] == 0 and unconfirmed["coinbase"] is False
    assert rpc.call("gettxout", hash256_hex(spend.txid), 0, False) is None
    with pytest.raises(RpcError) as info:
        rpc.call("gettxout", txid, -1)
    assert info.value.code == -1


def test_gettxoutsetinfo(funded: Funded) -> None:
    rpc = funded.rpc
    stats = rpc.node.chainstate.utxo_stats()
    info = rpc.call("gettxoutsetinfo")
    assert info == {
        "height": 101,
        "bestblock": funded.blocks[-1].header.hash_hex,
        "txouts": stats.coins,
        "total_amount": Decimal(101 * 50),
    }
    assert stats.coins == 101  # one payout per block; commitments and genesis are not coins
    assert rpc.call("gettxoutsetinfo", "none") == info
    with pytest.raises(RpcError) as err:
        rpc.call("gettxoutsetinfo", "hash_serialized_3")
    assert err.value.code == -8
    with pytest.raises(RpcError) as err:
        rpc.call("gettxoutsetinfo", "none", 5)
    assert err.value.code == -8 and "coinstatsindex" in err.value.message
