"""Bad bytes over real sockets: each bad peer is dropped (or its message ignored) the way
Core does it, nothing invalid reaches the chainstate, and the node keeps serving others.

All peers here are on 127.0.0.1, which Core never discourages (it disconnects local
misbehaving peers without banning them), so bans are checked through setban; the ban
itself for a remote misbehaving address is covered by the core tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from ipaddress import IPv4Address

import pytest

from btcnode.consensus.block import Block
from btcnode.node import Node
from btcnode.p2p.framing import encode_header
from btcnode.p2p.manager import PeerManager
from btcnode.p2p.messages import (
    MAX_ADDR_TO_SEND,
    MAX_INV_SZ,
    PROTOCOL_VERSION,
    AddrMessage,
    BlockMessage,
    GetHeadersMessage,
    HeadersMessage,
    PingMessage,
    PongMessage,
    TxMessage,
    encode_message,
)
from btcnode.p2p.netaddr import NetAddress, TimedNetAddress
from tests.btcnode.p2p.corekit import bad_pow, overpaying
from tests.btcnode.p2p.mininode import MiniNode
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

MINER = key("bad input")


@asynccontextmanager
async def peer(manager: PeerManager, node: Node) -> AsyncIterator[MiniNode]:
    client = MiniNode(node.params.message_start)
    await client.connect("127.0.0.1", manager.listen_port)
    await client.handshake()
    try:
        yield client
    finally:
        await client.close()


async def _still_serving(manager: PeerManager, node: Node) -> None:
    """A well-behaved peer still gets answers."""
    async with peer(manager, node) as good:
        genesis = node.chainstate.block_hash_at(0)
        good.send(GetHeadersMessage(PROTOCOL_VERSION, (genesis,), bytes(32)))
        reply = await good.expect(HeadersMessage)
        assert len(reply.headers) == node.chainstate.tip_height


async def test_framing_errors_bad_magic_and_oversize_disconnect_bad_checksum_does_not() -> None:
    node = new_node()
    node.generate(3, p2wpkh(MINER), T0)
    async with running(node) as manager:
        magic = node.params.message_start
        async with peer(manager, node) as client:
            frame = bytearray(encode_message(magic, PingMessage(1)))
            frame[20] ^= 0xFF  # checksum: Core drops the message, keeps the peer
            client.send_raw(bytes(frame))
            client.send(PingMessage(2))
            assert (await client.expect(PongMessage)).nonce == 2
        async with peer(manager, node) as client:
            client.send_raw(encode_message(b"\xf9\xbe\xb4\xd9", PingMessage(3)))
            await client.wait_closed()
        async with peer(manager, node) as client:
            header = bytearray(encode_header(magic, b"block", b""))
            header[16:20] = (4_000_001).to_bytes(4, "little")  # over MAX_PROTOCOL_MESSAGE_LENGTH
            client.send_raw(bytes(header))
            await client.wait_closed()
        await wait_for(lambda: manager.connection_counts().total == 0, what="all dropped")
        assert manager.list_banned() == []  # local peers are never banned (Core)
        await _still_serving(manager, node)
    assert node.chainstate.tip_height == 3


async def test_a_truncated_message_then_hang_up_leaves_the_node_unharmed() -> None:
    node = new_node()
    blocks = node.generate(2, p2wpkh(MINER), T0)
    async with running(node) as manager:
        async with peer(manager, node) as client:
            whole = encode_message(node.params.message_start, BlockMessage(blocks[0]))
            client.send_raw(whole[: len(whole) // 2])
        await wait_for(lambda: manager.connection_counts().total == 0, what="peer gone")
        await _still_serving(manager, node)
    assert node.chainstate.tip_hash == blocks[-1].hash


async def test_inv_and_addr_floods_disconnect() -> None:
    node = new_node()
    async with running(node) as manager:
        magic = node.params.message_start
        async with peer(manager, node) as client:
            count = MAX_INV_SZ + 1
            payload = b"\xfd" + count.to_bytes(2, "little") + bytes(36) * count
            client.send_raw(encode_header(magic, b"inv", payload) + payload)
            await client.wait_closed()
        async with peer(manager, node) as client:
            entry = TimedNetAddress(0, NetAddress(9, IPv4Address("198.51.100.9"), 8333))
            batch = AddrMessage((entry,) * MAX_ADDR_TO_SEND).serialize()
            payload = b"\xfd" + (MAX_ADDR_TO_SEND + 1).to_bytes(2, "little")
            payload += batch[3:] + entry.serialize()
            client.send_raw(encode_header(magic, b"addr", payload) + payload)
            await client.wait_closed()
        await _still_serving(manager, node)


async def test_invalid_headers_and_blocks_disconnect_and_stay_out_of_the_chainstate() -> None:
    node = new_node()
    source = new_node().generate(2, p2wpkh(MINER), T0)
    async with running(node) as manager:
        async with peer(manager, node) as client:
            forged = bad_pow(source[0].header)
            client.send(HeadersMessage((forged,)))
            await client.wait_closed()
        assert node.chainstate.get_index(forged.hash) is None
        bad: Block = overpaying(source[0], 50)
        async with peer(manager, node) as client:
            client.send(BlockMessage(bad))  # extends the tip, so it is processed, and fails
            await client.wait_closed()
        assert node.chainstate.tip_height == 0
        entry = node.chainstate.get_index(bad.hash)
        assert entry is not None and entry.status.failed
        async with peer(manager, node) as client:
            client.send(BlockMessage(source[0]))
            await wait_for(lambda: node.chainstate.tip_hash == source[0].hash, what="good block")


async def test_banned_hosts_are_refused_until_unbanned() -> None:
    node = new_node()
    async with running(node) as manager:
        async with peer(manager, node):
            await wait_for(lambda: manager.connection_counts().inbound == 1, what="connected")
            manager.set_ban("127.0.0.1", True, 3600)
            await wait_for(lambda: manager.connection_counts().total == 0, what="dropped")
        (entry,) = manager.list_banned()
        assert entry.address == "127.0.0.1" and entry.banned_until - entry.ban_created == 3600
        client = MiniNode(node.params.message_start)
        await client.connect("127.0.0.1", manager.listen_port)
        await client.wait_closed()  # refused before any handshake
        await client.close()
        manager.set_ban("127.0.0.1/32", False, 0)
        assert manager.list_banned() == []
        await _still_serving(manager, node)


async def test_an_internal_error_on_one_message_costs_only_that_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node, blocks = mature_node(MINER)

    def broken(self: Node, tx: object, now: int) -> None:
        raise RuntimeError("simulated fault in the mempool")

    monkeypatch.setattr(Node, "submit_transaction", broken)  # slots: patch the class
    async with running(node) as manager:
        async with peer(manager, node) as client:
            tx = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(key("x")), 10_000)
            client.send(TxMessage(tx))
            await client.wait_closed()
        await _still_serving(manager, node)
