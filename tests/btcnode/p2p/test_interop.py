"""Interoperability with a client that speaks exactly as Bitcoin Core's functional-test
P2PInterface: handshake, headers sync, witness block download, and pushing a transaction
and a block that the node accepts."""

from __future__ import annotations

from btcnode.p2p.config import P2PConfig
from btcnode.p2p.messages import (
    PROTOCOL_VERSION,
    BlockMessage,
    FeeFilterMessage,
    GetDataMessage,
    GetHeadersMessage,
    HeadersMessage,
    InvType,
    InvVector,
    PingMessage,
    SendHeadersMessage,
    TxMessage,
)
from tests.btcnode.p2p.mininode import CORE_MESSAGE_TYPES, P2P_SERVICES, MiniNode
from tests.btcnode.p2p.netutil import running, wait_for
from tests.btcnode.scenarios.helpers import (
    T0,
    coinbase_coin,
    key,
    mature_node,
    new_node,
    p2wpkh,
    pay,
)

OWNER = key("interop owner")


async def test_core_style_client_handshakes_syncs_and_pushes_a_tx_and_a_block() -> None:
    node, blocks = mature_node(OWNER)
    async with running(node, 5) as manager:
        client = MiniNode(node.params.message_start)
        await client.connect("127.0.0.1", manager.listen_port)
        await client.handshake()
        version = client.peer_version
        assert version is not None and version.version == PROTOCOL_VERSION
        assert version.services & P2P_SERVICES == P2P_SERVICES and version.relay
        assert version.start_height == 101
        assert version.user_agent == P2PConfig().user_agent.encode()
        await client.expect(SendHeadersMessage)
        await client.expect(FeeFilterMessage)
        await client.expect(PingMessage)  # answered by the client, as Core's would

        genesis = node.chainstate.block_hash_at(0)
        client.send(GetHeadersMessage(PROTOCOL_VERSION, (genesis,), bytes(32)))
        headers = await client.expect(HeadersMessage)
        assert [h.hash for h in headers.headers] == [b.hash for b in blocks]

        wanted = tuple(InvVector(InvType.MSG_WITNESS_BLOCK, b.hash) for b in blocks[:3])
        client.send(GetDataMessage(wanted))
        for expected in blocks[:3]:
            got = await client.expect(BlockMessage)
            assert got.block.hash == expected.hash
            assert got.serialize() == expected.serialize()

        twin = new_node()  # builds the pushed block on the same chain
        for block in blocks:
            twin.submit_block(block, T0)
        tx = pay(OWNER, coinbase_coin(blocks[0]), p2wpkh(key("interop payee")), 20_000)
        client.send(TxMessage(tx))
        await wait_for(lambda: tx.txid in node.mempool, what="tx accepted")
        assert twin.submit_transaction(tx, T0).accepted
        (pushed,) = twin.generate(1, p2wpkh(OWNER), T0)
        assert tx in pushed.txs
        client.send(BlockMessage(pushed))
        await wait_for(lambda: node.chainstate.tip_hash == pushed.hash, what="block accepted")
        assert tx.txid not in node.mempool
        (info,) = manager.peer_info()
        assert info.subver == "/python-p2p-tester:0.0.3/" and info.misbehavior_score == 0
        assert info.pingtime is not None
        assert set(client.received_commands) <= CORE_MESSAGE_TYPES
        assert b"headers" in client.received_commands and b"block" in client.received_commands
        await client.close()
