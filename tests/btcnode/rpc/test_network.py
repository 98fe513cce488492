"""Network methods over a PeerControl double with the peer manager's refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from btcnode.p2p.control import ConnectionType, PeerInfo
from btcnode.rpc import RpcError
from tests.btcnode.rpc.harness import Harness, serve


def _peer(peer_id: int, addr: str, *, inbound: bool = False, ping: float | None = 0.05) -> PeerInfo:
    return PeerInfo(
        id=peer_id,
        addr=addr,
        addrbind="127.0.0.1:18444",
        services=0x409,  # NETWORK, WITNESS, NETWORK_LIMITED
        relaytxes=True,
        lastsend=100,
        lastrecv=101,
        bytessent=2000,
        bytesrecv=3000,
        conntime=90,
        timeoffset=0,
        pingtime=ping,
        minping=ping,
        version=70016,
        subver="/Satoshi:28.0.0/",
        inbound=inbound,
        startingheight=5,
        synced_headers=5,
        synced_blocks=4,
        inflight=(5,),
        connection_type=ConnectionType.INBOUND if inbound else ConnectionType.OUTBOUND_FULL_RELAY,
        misbehavior_score=0,
    )


@pytest.fixture
def net() -> Iterator[Harness]:
    for harness in serve():
        harness.peers.peers.extend(
            [_peer(1, "127.0.0.1:50001"), _peer(2, "8.8.8.8:8333", inbound=True, ping=None)]
        )
        yield harness


def test_getpeerinfo(net: Harness) -> None:
    first, second = net.call("getpeerinfo")
    assert list(first) == [
        "id", "addr", "addrbind", "network", "services", "servicesnames", "relaytxes",
        "lastsend", "lastrecv", "bytessent", "bytesrecv", "conntime", "timeoffset", "pingtime",
        "minping", "version", "subver", "inbound", "startingheight", "synced_headers",
        "synced_blocks", "inflight", "connection_type", "transport_protocol_type",
    ]  # fmt: skip
    assert first["services"] == "0000000000000409"
    assert first["servicesnames"] == ["NETWORK", "WITNESS", "NETWORK_LIMITED"]
    assert first["network"] == "not_publicly_routable"
    assert first["connection_type"] == "outbound-full-relay"
    assert first["inflight"] == [5]
    assert second["network"] == "ipv4" and second["inbound"] is True
    assert "pingtime" not in second and "minping" not in second
    assert second["connection_type"] == "inbound"


def test_getconnectioncount_and_getnetworkinfo(net: Harness) -> None:
    assert net.call("getconnectioncount") == 2
    info = net.call("getnetworkinfo")
    assert list(info) == [
        "version", "subversion", "protocolversion", "localservices", "localservicesnames",
        "localrelay", "timeoffset", "networkactive", "connections", "connections_in",
        "connections_out", "networks", "relayfee", "incrementalfee", "localaddresses",
        "warnings",
    ]  # fmt: skip
    assert (info["connections"], info["connections_in"], info["connections_out"]) == (2, 1, 1)
    assert info["localservicesnames"] == ["NETWORK", "WITNESS"]
    assert info["protocolversion"] == 70016
    assert info["networkactive"] is True


def test_setnetworkactive(net: Harness) -> None:
    assert net.call("setnetworkactive", False) is False
    assert net.peers.active is False
    assert net.call("getnetworkinfo")["networkactive"] is False
    assert net.call("setnetworkactive", True) is True


def test_addnode(net: Harness) -> None:
    assert net.call("addnode", "10.0.0.1:18444", "add") is None
    with pytest.raises(RpcError) as info:
        net.call("addnode", "10.0.0.1:18444", "add")
    assert (info.value.code, info.value.message) == (-23, "Error: Node already added")
    assert net.call("addnode", "10.0.0.1:18444", "remove") is None
    with pytest.raises(RpcError) as info:
        net.call("addnode", "10.0.0.1:18444", "remove")
    assert info.value.code == -24
    assert (
        info.value.message == "Error: Node could not be removed. It has not been added previously."
    )
    assert net.call("addnode", "10.0.0.2:18444", "onetry") is None
    with pytest.raises(RpcError) as info:
        net.call("addnode", "10.0.0.1:18444", "connect")
    assert info.value.code == -1 and info.value.message.startswith('addnode "node" "command"')


def test_disconnectnode(net: Harness) -> None:
    assert net.call("disconnectnode", "127.0.0.1:50001") is None
    assert net.call("getconnectioncount") == 1
    assert net.call("disconnectnode", "", 2) is None
    assert net.call("getconnectioncount") == 0
    with pytest.raises(RpcError) as info:
        net.call("disconnectnode", "1.2.3.4:5")
    assert (info.value.code, info.value.message) == (-29, "Node not found in connected nodes")
    with pytest.raises(RpcError) as info:
        net.call("disconnectnode", "1.2.3.4:5", 3)
    assert info.value.code == -32602
    with pytest.raises(RpcError) as info:
        net.call("disconnectnode")
    assert info.value.code == -32602


def test_bans(net: Harness) -> None:
    assert net.call("listbanned") == []
    assert net.call("setban", "10.1.2.3", "add") is None
    assert net.call("setban", "2001:db8::1/128", "add", 60) is None
    banned = net.call("listbanned")
    assert banned == [
        {
            "address": "10.1.2.3/32",
            "ban_created": net.peers.now,
            "banned_until": net.peers.now + 86400,
            "ban_duration": 86400,
            "time_remaining": 86400,
        },
        {
            "address": "2001:db8::1/128",
            "ban_created": net.peers.now,
            "banned_until": net.peers.now + 60,
            "ban_duration": 60,
            "time_remaining": 60,
        },
    ]
    with pytest.raises(RpcError) as info:
        net.call("setban", "10.1.2.3", "add")
    assert (info.value.code, info.value.message) == (-23, "Error: IP/Subnet already banned")
    with pytest.raises(RpcError) as info:
        net.call("setban", "not-an-ip", "add")
    assert (info.value.code, info.value.message) == (-30, "Error: Invalid IP/Subnet")
    with pytest.raises(RpcError) as info:
        net.call("setban", "10.0.0.0/8", "add")
    assert info.value.code == -30
    with pytest.raises(RpcError) as info:
        net.call("setban", "10.9.9.9", "add", 5, True)
    assert (info.value.code, info.value.message) == (-8, "Error: Absolute timestamp is in the past")
    assert net.call("setban", "10.1.2.3", "remove") is None
    with pytest.raises(RpcError) as info:
        net.call("setban", "10.1.2.3", "remove")
    assert info.value.code == -30 and info.value.message.startswith("Error: Unban failed.")
    assert net.call("clearbanned") is None
    assert net.call("listbanned") == []
