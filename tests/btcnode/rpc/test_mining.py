"""generateblock, submitblock, getmininginfo and estimatesmartfee."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.block import Block
from btcnode.consensus.hashes import hash256_hex
from btcnode.node import solve_template
from btcnode.rpc import RpcError
from btcnode.rpc.render_script import descriptor_checksum
from tests.btcnode.rpc.conftest import Funded
from tests.btcnode.rpc.harness import Harness
from tests.btcnode.scenarios.helpers import T0, coinbase_coin, key, output_coin, p2wpkh, pay


def _address(rpc: Harness, name: str = "miner") -> str:
    address = address_for_script(p2wpkh(key(name)), rpc.node.params)
    assert address is not None
    return address


def test_generateblock_with_mempool_txid_and_raw_tx(funded: Funded) -> None:
    rpc, owner = funded.rpc, funded.owner
    pooled = pay(owner, coinbase_coin(funded.blocks[0]), p2wpkh(owner), 1000)
    rpc.call("sendrawtransaction", pooled.serialize().hex())
    child = pay(owner, output_coin(pooled, 0), p2wpkh(owner), 1000)
    result = rpc.call(
        "generateblock", _address(rpc), [hash256_hex(pooled.txid), child.serialize().hex()]
    )
    assert list(result) == ["hash"]
    block = rpc.node.chainstate.get_block(bytes.fromhex(result["hash"])[::-1])
    assert block is not None
    assert [tx.txid for tx in block.txs[1:]] == [pooled.txid, child.txid]
    assert block.txs[0].vout[0].value == 50 * 10**8  # fees are forfeited, as in Core
    assert rpc.call("getbestblockhash") == result["hash"]
    assert len(rpc.node.mempool) == 0
    assert rpc.durable_calls[-1] == 102


def test_generateblock_without_submit_and_with_descriptors(funded: Funded) -> None:
    rpc = funded.rpc
    script = p2wpkh(key("d"))
    body = f"raw({script.hex()})"
    result = rpc.call("generateblock", f"{body}#{descriptor_checksum(body)}", [], False)
    assert list(result) == ["hash", "hex"]
    block = Block.deserialize(bytes.fromhex(result["hex"]))
    assert block.header.hash_hex == result["hash"]
    assert block.txs[0].vout[0].script_pubkey == script
    assert rpc.call("getblockcount") == 101  # not submitted
    assert rpc.call("submitblock", result["hex"]) is None
    assert rpc.call("getbestblockhash") == result["hash"]
    addr = f"addr({_address(rpc, 'e')})"
    assert list(rpc.call("generateblock", addr, [])) == ["hash"]


def test_generateblock_errors(funded: Funded) -> None:
    rpc, owner = funded.rpc, funded.owner
    with pytest.raises(RpcError) as info:
        rpc.call("generateblock", "notanaddress", [])
    assert info.value.code == -5
    assert info.value.message.startswith("Error: Invalid address or descriptor")
    with pytest.raises(RpcError) as info:
        rpc.call("generateblock", _address(rpc), ["55" * 32])
    assert (info.value.code, info.value.message) == (-5, f"Transaction {'55' * 32} not in mempool.")
    with pytest.raises(RpcError) as info:
        rpc.call("generateblock", _address(rpc), ["00"])
    assert info.value.code == -22
    with pytest.raises(RpcError) as info:
        rpc.call("generateblock", "raw(00)#aaaaaaaa", [])
    assert info.value.code == -5 and "checksum" in info.value.message
    parent = pay(owner, coinbase_coin(funded.blocks[0]), p2wpkh(owner), 1000)
    orphan = pay(owner, output_coin(parent, 0), p2wpkh(owner), 1000)
    with pytest.raises(RpcError) as info:
        rpc.call("generateblock", _address(rpc), [orphan.serialize().hex()])
    assert info.value.code == -25
    assert info.value.message.startswith("TestBlockValidity failed: bad-txns-inputs-missingorspent")
    assert rpc.call("getblockcount") == 101


def _next_block(rpc: Harness, payee: str = "s") -> Block:
    template = rpc.node.block_template(p2wpkh(key(payee)), T0)
    return solve_template(template)


def test_submitblock_results(funded: Funded) -> None:
    rpc = funded.rpc
    block = _next_block(rpc)
    assert rpc.call("submitblock", block.serialize().hex()) is None
    assert rpc.call("getbestblockhash") == block.header.hash_hex
    assert rpc.durable_calls[-1] == 102
    assert rpc.call("submitblock", block.serialize().hex()) == "duplicate"
    bad_time = _next_block(rpc)
    bad = Block(dataclasses.replace(bad_time.header, bits=0x207FFFFE), bad_time.txs)
    result = rpc.call("submitblock", bad.serialize().hex())
    assert result in ("bad-diffbits", "high-hash")
    assert rpc.call("getblockcount") == 102


def test_submitblock_invalid_then_duplicate_invalid(funded: Funded) -> None:
    rpc, owner = funded.rpc, funded.owner
    parent = pay(owner, coinbase_coin(funded.blocks[0]), p2wpkh(owner), 1000)
    orphan_tx = pay(owner, output_coin(parent, 0), p2wpkh(owner), 1000)
    result = rpc.call("generateblock", _address(rpc), [orphan_tx.serialize().hex()], False)
    assert rpc.call("submitblock", result["hex"]) == "bad-txns-inputs-missingorspent"
    assert rpc.call("submitblock", result["hex"]) == "duplicate-invalid"


def test_submitblock_orphan_and_fork_are_inconclusive(funded: Funded) -> None:
    rpc = funded.rpc
    first = _next_block(rpc)
    second_template = dataclasses.replace(
        rpc.node.block_template(p2wpkh(key("s")), T0),
        prev_hash=first.hash,
        height=103,
    )
    orphan = solve_template(second_template)
    assert rpc.call("submitblock", orphan.serialize().hex()) == "inconclusive"
    fork = _next_block(rpc, "t")  # a sibling of `first`, stored but not the tip
    assert rpc.call("submitblock", first.serialize().hex()) is None  # connects the orphan too
    assert rpc.call("getblockcount") == 103
    assert rpc.call("submitblock", fork.serialize().hex()) == "inconclusive"


def test_submitblock_decode_errors(rpc: Harness) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("submitblock", "00")
    assert (info.value.code, info.value.message) == (-22, "Block decode failed")
    block = rpc.node.params.genesis
    no_coinbase = Block(block.header, ())
    with pytest.raises(RpcError) as info:
        rpc.call("submitblock", no_coinbase.serialize().hex())
    assert (info.value.code, info.value.message) == (-22, "Block does not start with a coinbase")
    with pytest.raises(RpcError) as info:
        rpc.call("submitblock", "xyz")
    assert info.value.code == -8


def test_getmininginfo(funded: Funded) -> None:
    rpc = funded.rpc
    info = rpc.call("getmininginfo")
    assert list(info) == ["blocks", "difficulty", "networkhashps", "pooledtx", "chain", "warnings"]
    assert info["blocks"] == 101 and info["pooledtx"] == 0 and info["chain"] == "regtest"
    assert info["difficulty"] == Decimal("4.656542373906925E-10")
    times = [rpc.node.chainstate.block_time(h) for h in range(0, 102)]
    # Core's GetNetworkHashPS: chain work over the lookup window / its time span
    assert info["networkhashps"] == Decimal(str(101 * 2 / (max(times) - min(times))))


def test_getmininginfo_hashrate_over_time(rpc: Harness) -> None:
    address = _address(rpc)
    for i in range(5):
        rpc.clock[0] = T0 + 600 * i
        rpc.call("generatetoaddress", 1, address)
    # 4 blocks of work 2 each between the first and the last, 2400 seconds apart
    times = [rpc.node.chainstate.block_time(h) for h in range(0, 6)]
    span = max(times) - min(times)
    assert rpc.call("getmininginfo")["networkhashps"] == Decimal(str(5 * 2 / span))


def test_estimatesmartfee(rpc: Harness) -> None:
    assert rpc.call("estimatesmartfee", 6) == {
        "errors": ["Insufficient data or no feerate found"],
        "blocks": 0,
    }
    assert rpc.call("estimatesmartfee", 2, "CONSERVATIVE")["blocks"] == 0
    for target in (0, 1009):
        with pytest.raises(RpcError) as info:
            rpc.call("estimatesmartfee", target)
        assert (info.value.code, info.value.message) == (
            -8,
            "Invalid conf_target, must be between 1 and 1008",
        )
    with pytest.raises(RpcError) as info:
        rpc.call("estimatesmartfee", 1, "fast")
    assert info.value.code == -8
