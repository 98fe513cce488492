"""python-bitcoinlib's `bitcoin.rpc.Proxy` against the server, unchanged.

python-bitcoinlib keeps its network in a global (`SelectParams`); the fixture selects
regtest and restores the previous choice afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import bitcoin
import bitcoin.rpc
import pytest
from bitcoin.core import COutPoint, CTransaction, b2lx, lx
from bitcoin.wallet import CBitcoinAddress

from btcnode.address import address_for_script
from btcnode.consensus.hashes import hash256_hex
from tests.btcnode.rpc.conftest import Funded
from tests.btcnode.rpc.harness import CREDENTIALS
from tests.btcnode.scenarios.helpers import coinbase_coin, key, p2wpkh, pay


@pytest.fixture
def proxy(funded: Funded) -> Iterator[bitcoin.rpc.Proxy]:
    previous = (bitcoin.params, bitcoin.core.coreparams)
    bitcoin.SelectParams("regtest")
    netloc = urlsplit(funded.rpc.url).netloc
    url = f"http://{CREDENTIALS.user}:{CREDENTIALS.password}@{netloc}/"
    client = bitcoin.rpc.Proxy(service_url=url)
    try:
        yield client
    finally:
        client.close()
        bitcoin.params, bitcoin.core.coreparams = previous


def test_chain_queries(funded: Funded, proxy: bitcoin.rpc.Proxy) -> None:
    assert proxy.getblockcount() == 101
    best = proxy.getbestblockhash()
    assert b2lx(best) == funded.blocks[-1].header.hash_hex
    assert proxy.getblockhash(0) == lx(funded.rpc.node.params.genesis.header.hash_hex)
    with pytest.raises(IndexError):
        proxy.getblockhash(500)


def test_getblock_is_parsed_by_bitcoinlib(funded: Funded, proxy: bitcoin.rpc.Proxy) -> None:
    ours = funded.blocks[10]
    block = proxy.getblock(lx(ours.header.hash_hex))
    assert b2lx(block.GetHash()) == ours.header.hash_hex
    assert block.serialize() == ours.serialize()
    assert [b2lx(tx.GetTxid()) for tx in block.vtx] == [hash256_hex(tx.txid) for tx in ours.txs]
    with pytest.raises(IndexError):
        proxy.getblock(b"\x11" * 32)


def test_send_get_mine_and_gettxout(funded: Funded, proxy: bitcoin.rpc.Proxy) -> None:
    ours = pay(funded.owner, coinbase_coin(funded.blocks[0]), p2wpkh(funded.owner), 1000)
    tx = CTransaction.deserialize(ours.serialize())
    txid = proxy.sendrawtransaction(tx)
    assert b2lx(txid) == hash256_hex(ours.txid)
    fetched = proxy.getrawtransaction(txid)
    assert fetched.serialize() == ours.serialize()
    verbose = proxy.getrawtransaction(txid, True)
    assert verbose["tx"].serialize() == ours.serialize() and verbose["blockhash"] is None
    out = proxy.gettxout(COutPoint(txid, 0))
    assert out["confirmations"] == 0 and out["txout"].nValue == ours.vout[0].value
    address_text = address_for_script(p2wpkh(key("lib")), funded.rpc.node.params)
    address = CBitcoinAddress(address_text)
    hashes = list(proxy.generatetoaddress(2, address))
    assert [b2lx(h) for h in hashes] == [
        hash256_hex(funded.rpc.node.chainstate.block_hash_at(h)) for h in (102, 103)
    ]
    mined = proxy.getblock(hashes[0])
    assert b2lx(mined.vtx[1].GetTxid()) == hash256_hex(ours.txid)
    assert mined.vtx[0].vout[0].scriptPubKey == address.to_scriptPubKey()
    out = proxy.gettxout(COutPoint(txid, 0))
    assert out["confirmations"] == 2 and out["bestblock"] == hashes[1]
    with pytest.raises(IndexError):
        proxy.gettxout(COutPoint(txid, 7))


def test_errors_map_to_bitcoinlib_exceptions(funded: Funded, proxy: bitcoin.rpc.Proxy) -> None:
    ours = pay(funded.owner, coinbase_coin(funded.blocks[0]), p2wpkh(funded.owner), 1000)
    tx = CTransaction.deserialize(ours.serialize())
    proxy.sendrawtransaction(tx)
    conflict = pay(funded.owner, coinbase_coin(funded.blocks[0]), p2wpkh(key("c")), 2000)
    with pytest.raises(bitcoin.rpc.VerifyRejectedError) as info:
        proxy.sendrawtransaction(CTransaction.deserialize(conflict.serialize()))
    assert info.value.error["message"].startswith("txn-mempool-conflict")
    with pytest.raises(bitcoin.rpc.JSONRPCError) as method_info:
        proxy.call("getinfo")
    assert method_info.value.error["code"] == -32601
    with pytest.raises(IndexError):
        proxy.getrawtransaction(b"\x22" * 32)
