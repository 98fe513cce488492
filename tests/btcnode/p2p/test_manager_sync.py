"""Two or three real PeerManagers over 127.0.0.1: headers-first sync, relay of a
transaction and a block along a line of nodes, and following a heavier fork."""

from __future__ import annotations

from btcnode.p2p.control import ConnectionType
from btcnode.p2p.messages import PROTOCOL_VERSION
from tests.btcnode.p2p.netutil import addr_of, running, wait_for
from tests.btcnode.scenarios.helpers import (
    T0,
    coinbase_coin,
    key,
    mature_node,
    new_node,
    p2wpkh,
    pay,
)

MINER = key("p2p miner")


async def test_outbound_peer_syncs_250_blocks_headers_first() -> None:
    a = new_node()
    blocks = a.generate(250, p2wpkh(MINER), T0)
    b = new_node()
    async with running(a, 1) as ma, running(b, 2, connect=(addr_of(ma),)) as mb:
        await wait_for(lambda: b.chainstate.tip_hash == blocks[-1].hash, what="B at A's tip")
        (info,) = mb.peer_info()
        assert info.connection_type is ConnectionType.MANUAL and not info.inbound
        assert info.version == PROTOCOL_VERSION and info.startingheight == 250
        assert info.synced_headers == 250 and info.inflight == ()
        assert info.bytesrecv > 250 * 80  # at least every header and block came in
        (served,) = ma.peer_info()
        assert served.inbound and served.connection_type is ConnectionType.INBOUND
        assert ma.connection_counts().inbound == 1 and mb.connection_counts().outbound == 1
    assert b.chainstate.block_hash_at(125) == blocks[124].hash


async def test_a_line_of_three_relays_a_transaction_and_a_block() -> None:
    a, blocks = mature_node(MINER)
    b, c = new_node(), new_node()
    async with (
        running(a, 1) as ma,
        running(b, 2, connect=(addr_of(ma),)) as mb,
        running(c, 3, connect=(addr_of(mb),)),
    ):
        await wait_for(lambda: c.chainstate.tip_height == a.chainstate.tip_height, what="sync")
        tx = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(key("payee")), 10_000)
        assert a.submit_transaction(tx, T0).accepted
        await wait_for(lambda: tx.txid in c.mempool, what="tx reaches C through B")
        assert tx.txid in b.mempool
        (block,) = a.generate(1, p2wpkh(MINER), T0)
        assert tx in block.txs
        await wait_for(lambda: c.chainstate.tip_hash == block.hash, what="block reaches C")
        assert tx.txid not in c.mempool and tx.txid not in b.mempool


async def test_a_heavier_fork_announced_by_a_peer_is_followed() -> None:
    a, b = new_node(), new_node()
    for block in a.generate(5, p2wpkh(MINER), T0):
        b.submit_block(block, T0)
    a_only = a.generate(1, p2wpkh(key("a")), T0)
    b_fork = b.generate(3, p2wpkh(key("b")), T0)
    assert a.chainstate.tip_hash == a_only[-1].hash
    async with running(b, 1) as mb, running(a, 2, connect=(addr_of(mb),)):
        await wait_for(lambda: a.chainstate.tip_hash == b_fork[-1].hash, what="A reorgs to B")
        assert not a.chainstate.is_on_active_chain(a_only[0].hash)
        more = b.generate(2, p2wpkh(key("b")), T0)  # announced live, by headers
        await wait_for(lambda: a.chainstate.tip_hash == more[-1].hash, what="A follows B")
        assert b.chainstate.tip_height == 10
