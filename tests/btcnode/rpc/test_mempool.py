"""getmempoolinfo, getrawmempool and getmempoolentry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcnode.consensus.hashes import hash256_hex
from btcnode.rpc import RpcError
from tests.btcnode.rpc.conftest import Funded
from tests.btcnode.scenarios.helpers import RBF_SEQUENCE, coinbase_coin, output_coin, p2wpkh, pay

ENTRY_KEYS = [
    "vsize", "weight", "time", "height", "descendantcount", "descendantsize", "ancestorcount",
    "ancestorsize", "wtxid", "fees", "depends", "spentby", "bip125-replaceable", "unbroadcast",
]  # fmt: skip


def test_getmempoolinfo_empty_and_with_a_transaction(funded: Funded) -> None:
    rpc = funded.rpc
    info = rpc.call("getmempoolinfo")
    assert info == {
        "loaded": True,
        "size": 0,
        "bytes": 0,
        "usage": 0,
        "total_fee": Decimal("0E-8"),
        "maxmempool": 300_000_000,
        "mempoolminfee": Decimal("0.00000100"),
        "minrelaytxfee": Decimal("0.00000100"),
        "incrementalrelayfee": Decimal("0.00000100"),
        "unbroadcastcount": 0,
        "fullrbf": False,
    }
    tx = pay(funded.owner, coinbase_coin(funded.blocks[0]), p2wpkh(funded.owner), 1234)
    rpc.call("sendrawtransaction", tx.serialize().hex())
    info = rpc.call("getmempoolinfo")
    assert (info["size"], info["bytes"], info["usage"]) == (1, tx.vsize, tx.total_size)
    assert info["total_fee"] == Decimal("0.00001234")


def test_amounts_are_written_with_eight_decimals(funded: Funded) -> None:
    _, _, raw = funded.rpc.post('{"method": "getmempoolinfo", "id": 1}')
    assert b'"total_fee":0.00000000,' in raw
    assert b'"mempoolminfee":0.00000100,' in raw


def test_getrawmempool_and_entries_with_a_chain(funded: Funded) -> None:
    rpc, owner = funded.rpc, funded.owner
    parent = pay(owner, coinbase_coin(funded.blocks[0]), p2wpkh(owner), 1000, sequence=RBF_SEQUENCE)
    child = pay(owner, output_coin(parent, 0), p2wpkh(owner), 2000)
    rpc.call("sendrawtransaction", parent.serialize().hex())
    rpc.call("sendrawtransaction", child.serialize().hex())
    assert rpc.call("getrawmempool") == [hash256_hex(parent.txid), hash256_hex(child.txid)]
    assert rpc.call("getrawmempool", False) == rpc.call("getrawmempool")
    verbose = rpc.call("getrawmempool", True)
    assert list(verbose) == [hash256_hex(parent.txid), hash256_hex(child.txid)]
    child_entry = verbose[hash256_hex(child.txid)]
    assert list(child_entry) == ENTRY_KEYS
    assert child_entry == rpc.call("getmempoolentry", hash256_hex(child.txid))
    assert child_entry["vsize"] == child.vsize and child_entry["weight"] == child.weight
    assert (child_entry["time"], child_entry["height"]) == (rpc.clock[0], 101)
    assert (child_entry["ancestorcount"], child_entry["descendantcount"]) == (2, 1)
    assert child_entry["ancestorsize"] == parent.vsize + child.vsize
    assert child_entry["fees"] == {
        "base": Decimal("0.00002000"),
        "modified": Decimal("0.00002000"),
        "ancestor": Decimal("0.00003000"),
        "descendant": Decimal("0.00002000"),
    }
    assert child_entry["depends"] == [hash256_hex(parent.txid)]
    assert child_entry["spentby"] == []
    assert child_entry["bip125-replaceable"] is True  # inherited from the signalling parent
    assert child_entry["wtxid"] == hash256_hex(child.wtxid)
    parent_entry = verbose[hash256_hex(parent.txid)]
    assert parent_entry["spentby"] == [hash256_hex(child.txid)]
    assert parent_entry["descendantcount"] == 2 and parent_entry["depends"] == []


def test_final_sequence_is_not_replaceable(funded: Funded) -> None:
    tx = pay(funded.owner, coinbase_coin(funded.blocks[0]), p2wpkh(funded.owner), 1000)
    funded.rpc.call("sendrawtransaction", tx.serialize().hex())
    assert funded.rpc.call("getmempoolentry", hash256_hex(tx.txid))["bip125-replaceable"] is False


def test_getmempoolentry_unknown(funded: Funded) -> None:
    with pytest.raises(RpcError) as info:
        funded.rpc.call("getmempoolentry", "44" * 32)
    assert (info.value.code, info.value.message) == (-5, "Transaction not in mempool")


def test_getrawmempool_sequence_is_refused(funded: Funded) -> None:
    with pytest.raises(RpcError) as info:
        funded.rpc.call("getrawmempool", True, True)
    assert info.value.message == "Verbose results cannot contain mempool sequence values."
    with pytest.raises(RpcError) as info:
        funded.rpc.call("getrawmempool", False, True)
    assert info.value.code == -8
