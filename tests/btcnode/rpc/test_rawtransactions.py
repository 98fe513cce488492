"""Raw transaction methods: decode, create, get, send and test-accept, with Core's errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.rpc import RpcError
from tests.btcnode.rpc.conftest import Funded
from tests.btcnode.rpc.harness import Harness
from tests.btcnode.scenarios.helpers import (
    RBF_SEQUENCE,
    coinbase_coin,
    key,
    output_coin,
    p2pkh,
    p2wpkh,
    pay,
    spend,
)

TX_KEYS = ["txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout"]


def _spend(funded: Funded, block: int = 0, fee: int = 1000, **kwargs: object) -> Tx:
    owner = funded.owner
    return pay(owner, coinbase_coin(funded.blocks[block]), p2wpkh(owner), fee, **kwargs)  # type: ignore[arg-type]


def test_decoderawtransaction_shape(funded: Funded) -> None:
    rpc = funded.rpc
    tx = spend(
        funded.owner,
        [coinbase_coin(funded.blocks[0])],
        [(p2pkh(key("a")), 10 * 10**8), (bytes.fromhex("6a0401020304"), 0)],
        lock_time=7,
    )
    result = rpc.call("decoderawtransaction", tx.serialize().hex())
    assert list(result) == TX_KEYS
    assert result["txid"] == hash256_hex(tx.txid)
    assert result["hash"] == hash256_hex(tx.wtxid) != result["txid"]
    assert (result["version"], result["locktime"]) == (2, 7)
    assert (result["size"], result["vsize"], result["weight"]) == (
        tx.total_size,
        tx.vsize,
        tx.weight,
    )
    [vin] = result["vin"]
    assert vin == {
        "txid": hash256_hex(funded.blocks[0].txs[0].txid),
        "vout": 0,
        "scriptSig": {"asm": "", "hex": ""},
        "txinwitness": [item.hex() for item in tx.vin[0].witness],
        "sequence": 0xFFFFFFFF,
    }
    pay_out, data_out = result["vout"]
    assert pay_out == {
        "value": Decimal("10.00000000"),
        "n": 0,
        "scriptPubKey": {
            "asm": f"OP_DUP OP_HASH160 {p2pkh(key('a'))[3:23].hex()} OP_EQUALVERIFY OP_CHECKSIG",
            "desc": pay_out["scriptPubKey"]["desc"],
            "hex": p2pkh(key("a")).hex(),
            "address": address_for_script(p2pkh(key("a")), rpc.node.params),
            "type": "pubkeyhash",
        },
    }
    assert pay_out["scriptPubKey"]["desc"].startswith("addr(m") or pay_out["scriptPubKey"][
        "desc"
    ].startswith("addr(n")
    assert data_out["scriptPubKey"] == {
        "asm": "OP_RETURN 67305985",
        "desc": data_out["scriptPubKey"]["desc"],
        "hex": "6a0401020304",
        "type": "nulldata",
    }
    assert data_out["scriptPubKey"]["desc"].startswith("raw(6a0401020304)#")


def test_decoderawtransaction_p2pkh_scriptsig_shows_sighash(funded: Funded) -> None:
    owner = funded.owner
    legacy_coin_tx = pay(owner, coinbase_coin(funded.blocks[0]), p2pkh(owner), 1000)
    child = pay(owner, output_coin(legacy_coin_tx, 0), p2wpkh(owner), 1000)
    result = funded.rpc.call("decoderawtransaction", child.serialize().hex())
    asm = result["vin"][0]["scriptSig"]["asm"]
    signature, pubkey = asm.split(" ")
    assert signature.endswith("[ALL]")
    assert pubkey == owner.public_key.format(compressed=True).hex()
    assert "txinwitness" not in result["vin"][0]


@pytest.mark.parametrize("bad", ["", "00", "zz", "0200000001", "abc"])
def test_decoderawtransaction_refuses_garbage(rpc: Harness, bad: str) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("decoderawtransaction", bad)
    assert info.value.code == -22
    assert info.value.message.startswith("TX decode failed")


def test_createrawtransaction(funded: Funded) -> None:
    rpc = funded.rpc
    params = rpc.node.params
    address = address_for_script(p2wpkh(key("b")), params)
    txid = hash256_hex(funded.blocks[0].txs[0].txid)
    raw = rpc.call(
        "createrawtransaction",
        [{"txid": txid, "vout": 0}],
        {address: 1.5, "data": "cafe"},
    )
    tx = Tx.deserialize(bytes.fromhex(raw))
    assert tx.version == 2 and tx.lock_time == 0
    assert tx.vin[0].sequence == 0xFFFFFFFF and tx.vin[0].script_sig == b""
    assert [(o.value, o.script_pubkey) for o in tx.vout] == [
        (150_000_000, p2wpkh(key("b"))),
        (0, bytes.fromhex("6a02cafe")),
    ]
    raw = rpc.call("createrawtransaction", [{"txid": txid, "vout": 0}], [{address: "0.1"}], 5, True)
    tx = Tx.deserialize(bytes.fromhex(raw))
    assert (tx.lock_time, tx.vin[0].sequence, tx.vout[0].value) == (5, RBF_SEQUENCE, 10_000_000)
    raw = rpc.call("createrawtransaction", [{"txid": txid, "vout": 0}], {address: 1}, 5)
    assert Tx.deserialize(bytes.fromhex(raw)).vin[0].sequence == 0xFFFFFFFE


@pytest.mark.parametrize(
    ("inputs", "outputs", "code", "message"),
    [
        ([{"txid": "00" * 32}], {}, -8, "Invalid parameter, missing vout key"),
        ([{"txid": "00" * 32, "vout": -1}], {}, -8, "Invalid parameter, vout cannot be negative"),
        ([{"txid": "xyz", "vout": 0}], {}, -8, "txid must be of length 64 (not 3, for 'xyz')"),
        ([{"txid": "00" * 32, "vout": 0, "sequence": 2**32}], {}, -8,
         "Invalid parameter, sequence number is out of range"),
        ([], {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4": 1}, -5,
         "Invalid Bitcoin address: bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
        ([], {"data": "zz"}, -8, "Data must be hexadecimal string (not 'zz')"),
        ([], [{"data": "00"}, {"data": "01"}], -8, "Invalid parameter, duplicate key: data"),
        ([], [{"data": "00", "x": 1}], -8,
         "Invalid parameter, key-value pair must contain exactly one key"),
        ([], ["x"], -8, "Invalid parameter, key-value pair not an object as expected"),
        ([], None, -8, "Invalid parameter, output argument must be non-null"),
        ([], "x", -3, "JSON value of type string is not of expected type array"),
    ],
)  # fmt: skip
def test_createrawtransaction_errors(
    rpc: Harness, inputs: object, outputs: object, code: int, message: str
) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("createrawtransaction", inputs, outputs)
    assert info.value.code == code
    assert info.value.message.startswith(message)


def test_createrawtransaction_amount_errors(rpc: Harness) -> None:
    address = address_for_script(p2wpkh(key("b")), rpc.node.params)
    for amount, message in [
        (-1, "Amount out of range"),
        ("0.000000001", "Invalid amount"),
        ("1e", "Invalid amount"),
        (21_000_001, "Amount out of range"),
        ([1], "Amount is not a number or string"),
    ]:
        with pytest.raises(RpcError) as info:
            rpc.call("createrawtransaction", [], {address: amount})
        assert (info.value.code, info.value.message) == (-3, message)


def test_createrawtransaction_duplicate_address(rpc: Harness) -> None:
    address = address_for_script(p2wpkh(key("b")), rpc.node.params)
    assert address is not None
    with pytest.raises(RpcError) as info:
        rpc.call("createrawtransaction", [], [{address: 1}, {address.upper(): 2}])
    assert info.value.code == -8
    assert info.value.message.startswith("Invalid parameter, duplicated address")


def test_decodescript(rpc: Harness) -> None:
    pkh = p2pkh(key("c"))
    result = rpc.call("decodescript", pkh.hex())
    assert list(result) == ["asm", "desc", "address", "type", "p2sh", "segwit"]
    assert result["type"] == "pubkeyhash"
    assert result["p2sh"].startswith("2")
    segwit = result["segwit"]
    assert list(segwit) == ["asm", "desc", "hex", "address", "type", "p2sh-segwit"]
    assert segwit["hex"] == p2wpkh(key("c")).hex()
    assert segwit["type"] == "witness_v0_keyhash"
    data = rpc.call("decodescript", "6a0401020304")
    assert data == {
        "asm": "OP_RETURN 67305985",
        "desc": data["desc"],
        "type": "nulldata",
    }
    empty = rpc.call("decodescript", "")
    assert empty["asm"] == "" and empty["type"] == "nonstandard"
    assert "p2sh" in empty  # Core wraps even the empty script
    unknown = rpc.call("decodescript", "deadbeef")
    assert unknown == {  # BIP380's checksum vector
        "asm": "OP_UNKNOWN OP_CHECKSIGVERIFY OP_UNKNOWN OP_UNKNOWN",
        "desc": "raw(deadbeef)#89f8spxm",
        "type": "nonstandard",
    }
    broken = rpc.call("decodescript", "4c05ab")
    assert broken["asm"] == "[error]" and "p2sh" not in broken
    with pytest.raises(RpcError) as info:
        rpc.call("decodescript", "0")
    assert info.value.code == -8


# -- getrawtransaction -------------------------------------------------------------------------


def test_getrawtransaction_mempool_and_by_block(funded: Funded) -> None:
    rpc = funded.rpc
    tx = _spend(funded)
    txid = rpc.call("sendrawtransaction", tx.serialize().hex())
    assert rpc.call("getrawtransaction", txid) == tx.serialize().hex()
    verbose = rpc.call("getrawtransaction", txid, True)
    assert list(verbose) == [*TX_KEYS, "hex"]
    assert rpc.call("getrawtransaction", txid, 2) == verbose
    [block_hash] = rpc.call(
        "generatetoaddress", 1, address_for_script(p2wpkh(key("m")), rpc.node.params)
    )
    with pytest.raises(RpcError) as info:
        rpc.call("getrawtransaction", txid)
    assert info.value.code == -5 and info.value.message.startswith("No such mempool transaction.")
    confirmed = rpc.call("getrawtransaction", txid, 1, block_hash)
    assert list(confirmed) == [
        "in_active_chain",
        *TX_KEYS,
        "hex",
        "blockhash",
        "confirmations",
        "time",
        "blocktime",
    ]
    assert confirmed["in_active_chain"] is True and confirmed["confirmations"] == 1
    assert confirmed["blockhash"] == block_hash
    other_block = funded.blocks[3].header.hash_hex
    with pytest.raises(RpcError) as info:
        rpc.call("getrawtransaction", txid, 0, other_block)
    assert info.value.code == -5 and info.value.message.startswith("No such transaction found")
    with pytest.raises(RpcError) as info:
        rpc.call("getrawtransaction", txid, 0, "33" * 32)
    assert (info.value.code, info.value.message) == (-5, "Block not found")


def test_getrawtransaction_genesis_coinbase(rpc: Harness) -> None:
    genesis_coinbase = hash256_hex(rpc.node.params.genesis.txs[0].txid)
    with pytest.raises(RpcError) as info:
        rpc.call("getrawtransaction", genesis_coinbase)
    assert info.value.code == -5 and "genesis block coinbase" in info.value.message


# -- sendrawtransaction and testmempoolaccept ---------------------------------------------------


def test_sendrawtransaction_accepts_and_is_idempotent(funded: Funded) -> None:
    rpc = funded.rpc
    tx = _spend(funded)
    assert rpc.call("sendrawtransaction", tx.serialize().hex()) == hash256_hex(tx.txid)
    assert tx.txid in rpc.node.mempool
    assert rpc.call("sendrawtransaction", tx.serialize().hex()) == hash256_hex(tx.txid)


def test_double_spend_is_rejected_26(funded: Funded) -> None:
    rpc = funded.rpc
    first = _spend(funded, fee=1000)
    second = pay(funded.owner, coinbase_coin(funded.blocks[0]), p2wpkh(key("z")), 2000)
    rpc.call("sendrawtransaction", first.serialize().hex())
    with pytest.raises(RpcError) as info:
        rpc.call("sendrawtransaction", second.serialize().hex())
    assert info.value.code == -26
    assert info.value.message.startswith("txn-mempool-conflict")
    assert second.txid not in rpc.node.mempool


def test_already_in_chain_is_27(funded: Funded) -> None:
    rpc = funded.rpc
    tx = _spend(funded)
    rpc.call("sendrawtransaction", tx.serialize().hex())
    rpc.call("generatetoaddress", 1, address_for_script(p2wpkh(key("m")), rpc.node.params))
    with pytest.raises(RpcError) as info:
        rpc.call("sendrawtransaction", tx.serialize().hex())
    assert (info.value.code, info.value.message) == (-27, "Transaction already in block chain")


def test_missing_inputs_is_25_and_not_kept_as_orphan(funded: Funded) -> None:
    rpc = funded.rpc
    parent = _spend(funded)
    child = pay(funded.owner, output_coin(parent, 0), p2wpkh(funded.owner), 1000)
    with pytest.raises(RpcError) as info:
        rpc.call("sendrawtransaction", child.serialize().hex())
    assert info.value.code == -25
    assert info.value.message.startswith("bad-txns-inputs-missingorspent")
    assert rpc.node.mempool.orphans is not None and child.txid not in rpc.node.mempool.orphans


def test_immature_coinbase_spend_is_rejected(funded: Funded) -> None:
    tx = _spend(funded, block=5)
    with pytest.raises(RpcError) as info:
        funded.rpc.call("sendrawtransaction", tx.serialize().hex())
    assert info.value.code == -26
    assert info.value.message.startswith("bad-txns-premature-spend-of-coinbase")


def test_max_fee_rate(funded: Funded) -> None:
    rpc = funded.rpc
    expensive = _spend(funded, fee=10**7)  # about 0.1 BTC for ~110 vbytes: far above 0.10/kvB
    with pytest.raises(RpcError) as info:
        rpc.call("sendrawtransaction", expensive.serialize().hex())
    assert (info.value.code, info.value.message) == (
        -25,
        "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
    )
    assert expensive.txid not in rpc.node.mempool
    with pytest.raises(RpcError) as info:
        rpc.call("sendrawtransaction", expensive.serialize().hex(), 1)
    assert info.value.code == -8
    assert rpc.call("sendrawtransaction", expensive.serialize().hex(), 0) == hash256_hex(
        expensive.txid
    )


def test_sendrawtransaction_refuses_garbage(rpc: Harness) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("sendrawtransaction", "deadbeef")
    assert (info.value.code, info.value.message) == (
        -22,
        "TX decode failed. Make sure the tx has at least one input.",
    )


def test_burn_amount(funded: Funded) -> None:
    owner = funded.owner
    burn = spend(
        owner,
        [coinbase_coin(funded.blocks[0])],
        [(bytes.fromhex("6a00"), 1000), (p2wpkh(owner), 50 * 10**8 - 3000)],
    )
    with pytest.raises(RpcError) as info:
        funded.rpc.call("sendrawtransaction", burn.serialize().hex())
    assert info.value.code == -25 and "maxburnamount" in info.value.message


def test_testmempoolaccept(funded: Funded) -> None:
    rpc = funded.rpc
    tx = _spend(funded, fee=1000)
    [result] = rpc.call("testmempoolaccept", [tx.serialize().hex()])
    assert list(result) == ["txid", "wtxid", "allowed", "vsize", "fees"]
    assert result["txid"] == hash256_hex(tx.txid) and result["wtxid"] == hash256_hex(tx.wtxid)
    assert result["allowed"] is True and result["vsize"] == tx.vsize
    assert result["fees"] == {
        "base": Decimal("0.00001000"),
        "effective-feerate": Decimal(1000 * 1000 // tx.vsize) / 10**8,
        "effective-includes": [hash256_hex(tx.wtxid)],
    }
    assert tx.txid not in rpc.node.mempool  # nothing changed
    rpc.call("sendrawtransaction", tx.serialize().hex())
    conflict = pay(funded.owner, coinbase_coin(funded.blocks[0]), p2wpkh(key("q")), 1000)
    [result] = rpc.call("testmempoolaccept", [conflict.serialize().hex()])
    assert result == {
        "txid": hash256_hex(conflict.txid),
        "wtxid": hash256_hex(conflict.wtxid),
        "allowed": False,
        "reject-reason": "txn-mempool-conflict",
    }
    orphan = pay(funded.owner, output_coin(_spend(funded, block=1), 0), p2wpkh(key("q")), 500)
    [result] = rpc.call("testmempoolaccept", [orphan.serialize().hex()])
    assert result["reject-reason"] == "missing-inputs"
    expensive = _spend(funded, block=1, fee=10**7)
    [result] = rpc.call("testmempoolaccept", [expensive.serialize().hex()])
    assert (result["allowed"], result["reject-reason"]) == (False, "max-fee-exceeded")


def test_testmempoolaccept_errors(funded: Funded) -> None:
    rpc = funded.rpc
    with pytest.raises(RpcError) as info:
        rpc.call("testmempoolaccept", [])
    assert info.value.code == -8
    with pytest.raises(RpcError) as info:
        rpc.call("testmempoolaccept", ["zz"])
    assert info.value.code == -22
    with pytest.raises(RpcError) as info:
        rpc.call("testmempoolaccept", "00")
    assert info.value.code == -3
