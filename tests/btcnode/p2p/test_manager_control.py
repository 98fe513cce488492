"""The PeerManager as PeerControl over real sockets: addnode, disconnectnode, reconnects,
network activity, the inbound limit, the send-queue bound and self-connections."""

from __future__ import annotations

import asyncio
import logging

import pytest

from btcnode.p2p.control import AddNodeCommand
from btcnode.p2p.errors import P2PMisuse
from btcnode.p2p.manager import PeerManager
from btcnode.p2p.messages import PROTOCOL_VERSION, GetHeadersMessage
from tests.btcnode.p2p.mininode import MiniNode
from tests.btcnode.p2p.netutil import fast_config, running, wait_for
from tests.btcnode.scenarios.helpers import T0, key, new_node, p2wpkh


def _connected(manager: PeerManager) -> list[int]:
    return [info.id for info in manager.peer_info() if info.version]


async def test_addnode_connects_refuses_duplicates_and_remove_stops_reconnecting() -> None:
    a, b = new_node(), new_node()
    async with running(a, 1) as ma, running(b, 2) as mb:
        target = f"127.0.0.1:{ma.listen_port}"
        mb.add_node(target, AddNodeCommand.ADD)
        with pytest.raises(P2PMisuse, match="already added"):
            mb.add_node(target, AddNodeCommand.ADD)
        await wait_for(lambda: len(_connected(mb)) == 1, what="added node connected")
        (first,) = _connected(mb)
        mb.disconnect_node(node_id=first)
        await wait_for(lambda: _connected(mb) not in ([], [first]), what="reconnected")
        mb.add_node(target, AddNodeCommand.REMOVE)
        with pytest.raises(P2PMisuse, match="not been added"):
            mb.add_node(target, AddNodeCommand.REMOVE)
        (second,) = _connected(mb)
        mb.disconnect_node(address=target)
        await wait_for(lambda: mb.connection_counts().total == 0, what="dropped")
        with pytest.raises(P2PMisuse, match="not found"):
            mb.disconnect_node(node_id=second)
        mb.add_node(target, AddNodeCommand.ONETRY)
        await wait_for(lambda: len(_connected(mb)) == 1, what="onetry connected")


async def test_network_inactive_drops_everyone_and_refuses_until_active_again() -> None:
    a, b = new_node(), new_node()
    async with running(a, 1) as ma, running(b, 2, connect=(("127.0.0.1", ma.listen_port),)):
        await wait_for(lambda: len(_connected(ma)) == 1, what="connected")
        ma.set_network_active(False)
        assert not ma.network_active
        await wait_for(lambda: ma.connection_counts().total == 0, what="dropped")
        await asyncio.sleep(0.3)  # B keeps retrying meanwhile; every try is refused
        assert ma.connection_counts().total == 0
        ma.set_network_active(True)
        await wait_for(lambda: len(_connected(ma)) == 1, what="B reconnects")


async def test_inbound_connections_beyond_max_inbound_are_refused() -> None:
    node = new_node()
    async with running(node, max_inbound=1) as manager:
        first = MiniNode(node.params.message_start)
        await first.connect("127.0.0.1", manager.listen_port)
        await first.handshake()
        second = MiniNode(node.params.message_start)
        await second.connect("127.0.0.1", manager.listen_port)
        await second.wait_closed()
        assert manager.connection_counts().inbound == 1
        await first.close()
        await second.close()


async def test_a_peer_that_does_not_read_overflows_its_queue_and_is_dropped() -> None:
    node = new_node()
    node.generate(100, p2wpkh(key("queue")), T0)
    async with running(node, max_send_queue_bytes=4_000) as manager:
        client = MiniNode(node.params.message_start)
        await client.connect("127.0.0.1", manager.listen_port)
        await client.handshake()
        genesis = node.chainstate.block_hash_at(0)
        client.send(GetHeadersMessage(PROTOCOL_VERSION, (genesis,), bytes(32)))  # ~8 kB reply
        await client.wait_closed()
        assert manager.connection_counts().total == 0
        await client.close()


async def test_a_connection_to_ourselves_is_detected_and_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    node = new_node()
    caplog.set_level(logging.DEBUG, logger="btcnode.p2p")
    async with running(node) as manager:
        manager.add_node(f"127.0.0.1:{manager.listen_port}", AddNodeCommand.ONETRY)
        await wait_for(lambda: "self-connection" in caplog.text, what="self-connection found")
        await wait_for(lambda: manager.connection_counts().total == 0, what="both ends gone")
        assert manager.core.peers == {}


async def test_a_manager_that_does_not_listen_has_no_port() -> None:
    manager = PeerManager(new_node(), fast_config(listen=False))
    await manager.start()
    try:
        with pytest.raises(P2PMisuse, match="not listening"):
            _ = manager.listen_port
    finally:
        await manager.stop()
