"""Network methods, served from the peer manager's `PeerControl` (Core 28's rpc/net.cpp).

getpeerinfo shows the fields `PeerInfo` carries (Core's names and meanings) and leaves out
those it does not (per-message byte counts, addr relay counters, BIP152 flags,
permissions). getnetworkinfo reports this node's own constants for version, subversion and
local services, since `PeerControl` does not expose the configured ones. The peer
manager's refusals (`P2PMisuse`) become Core's codes and messages.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from btcnode.p2p.control import DEFAULT_MISBEHAVING_BANTIME, AddNodeCommand, BanEntry, PeerInfo
from btcnode.p2p.errors import P2PMisuse
from btcnode.p2p.messages import PROTOCOL_VERSION
from btcnode.p2p.netaddr import ServiceFlags
from btcnode.rpc.args import get_bool, get_int, get_str
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import Amount
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind

__all__ = ["LOCAL_SERVICES", "METHODS", "SUBVERSION"]

CATEGORY = "network"
CLIENT_VERSION = 10000  # this node's version number in Core's encoding (0.1.0)
SUBVERSION = "/opentrust-btcnode:0.1.0/"  # the P2P layer's default user agent
LOCAL_SERVICES = ServiceFlags.NODE_NETWORK | ServiceFlags.NODE_WITNESS
_SERVICE_NAMES: dict[int, str] = {
    ServiceFlags.NODE_NETWORK: "NETWORK",
    ServiceFlags.NODE_BLOOM: "BLOOM",
    ServiceFlags.NODE_WITNESS: "WITNESS",
    ServiceFlags.NODE_COMPACT_FILTERS: "COMPACT_FILTERS",
    ServiceFlags.NODE_NETWORK_LIMITED: "NETWORK_LIMITED",
    ServiceFlags.NODE_P2P_V2: "P2P_V2",
}


def service_names(services: int) -> list[str]:
    """Core's GetServicesNames: known bits by name, others as UNKNOWN[2^n]."""
    names = []
    for bit in range(64):
        flag = 1 << bit
        if services & flag:
            names.append(_SERVICE_NAMES.get(flag, f"UNKNOWN[2^{bit}]"))
    return names


def _host(address: str) -> str:
    """The host of "host:port" or "[v6]:port"."""
    if address.startswith("["):
        return address[1 : address.find("]")]
    return address.rpartition(":")[0] if address.count(":") == 1 else address


def network_of(address: str) -> str:
    """Core's network name of a peer address: ipv4, ipv6 or not_publicly_routable."""
    try:
        ip = ipaddress.ip_address(_host(address))
    except ValueError:
        return "not_publicly_routable"
    if not ip.is_global:
        return "not_publicly_routable"
    return "ipv4" if ip.version == 4 else "ipv6"


def peer_json(peer: PeerInfo) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": peer.id,
        "addr": peer.addr,
        "addrbind": peer.addrbind,
        "network": network_of(peer.addr),
        "services": f"{peer.services:016x}",
        "servicesnames": service_names(peer.services),
        "relaytxes": peer.relaytxes,
        "lastsend": peer.lastsend,
        "lastrecv": peer.lastrecv,
        "bytessent": peer.bytessent,
        "bytesrecv": peer.bytesrecv,
        "conntime": peer.conntime,
        "timeoffset": peer.timeoffset,
    }
    if peer.pingtime is not None:
        result["pingtime"] = peer.pingtime
    if peer.minping is not None:
        result["minping"] = peer.minping
    result |= {
        "version": peer.version,
        "subver": peer.subver,
        "inbound": peer.inbound,
        "startingheight": peer.startingheight,
        "synced_headers": peer.synced_headers,
        "synced_blocks": peer.synced_blocks,
        "inflight": list(peer.inflight),
        "connection_type": peer.connection_type.value,
        "transport_protocol_type": "v1",
    }
    return result


def getpeerinfo(call: Call) -> Any:
    return [peer_json(peer) for peer in call.ctx.peers.peer_info()]


def getconnectioncount(call: Call) -> Any:
    return call.ctx.peers.connection_counts().total


def getnetworkinfo(call: Call) -> Any:
    peers = call.ctx.peers
    counts = peers.connection_counts()
    mempool = call.ctx.node.mempool
    return {
        "version": CLIENT_VERSION,
        "subversion": SUBVERSION,
        "protocolversion": PROTOCOL_VERSION,
        "localservices": f"{int(LOCAL_SERVICES):016x}",
        "localservicesnames": service_names(int(LOCAL_SERVICES)),
        "localrelay": True,
        "timeoffset": 0,
        "networkactive": peers.network_active,
        "connections": counts.total,
        "connections_in": counts.inbound,
        "connections_out": counts.outbound,
        "networks": [],
        "relayfee": Amount(mempool.policy.min_relay_fee.sat_per_kvb),
        "incrementalfee": Amount(mempool.policy.incremental_relay_fee.sat_per_kvb),
        "localaddresses": [],
        "warnings": [],
    }


def addnode(call: Call) -> Any:
    node = get_str(call.arg(0))
    command = get_str(call.arg(1))
    spec = call.table.get("addnode")
    if command not in ("add", "remove", "onetry"):
        raise RpcError(RpcErrorCode.MISC_ERROR, spec.help_text() if spec else "bad command")
    try:
        call.ctx.peers.add_node(node, AddNodeCommand(command))
    except P2PMisuse:
        if command == "add":
            raise RpcError(
                RpcErrorCode.CLIENT_NODE_ALREADY_ADDED, "Error: Node already added"
            ) from None
        if command == "remove":
            raise RpcError(
                RpcErrorCode.CLIENT_NODE_NOT_ADDED,
                "Error: Node could not be removed. It has not been added previously.",
            ) from None
        raise
    return None


def disconnectnode(call: Call) -> Any:
    address, node_id = call.arg(0), call.arg(1)
    peers = call.ctx.peers
    try:
        if address is not None and node_id is None:
            peers.disconnect_node(address=get_str(address))
        elif node_id is not None and (address is None or address == ""):
            peers.disconnect_node(node_id=get_int(node_id, -(2**63), 2**63 - 1))
        else:
            raise RpcError(
                RpcErrorCode.INVALID_PARAMS, "Only one of address and nodeid should be provided."
            )
    except P2PMisuse:
        raise RpcError(
            RpcErrorCode.CLIENT_NODE_NOT_CONNECTED, "Node not found in connected nodes"
        ) from None
    return None


def setnetworkactive(call: Call) -> Any:
    peers = call.ctx.peers
    peers.set_network_active(get_bool(call.arg(0)))
    return peers.network_active


def _ban_json(entry: BanEntry, now: int) -> dict[str, Any]:
    address = entry.address
    if "/" not in address:
        address += "/128" if ":" in address else "/32"
    return {
        "address": address,
        "ban_created": entry.ban_created,
        "banned_until": entry.banned_until,
        "ban_duration": entry.banned_until - entry.ban_created,
        "time_remaining": max(0, entry.banned_until - now),
    }


def listbanned(call: Call) -> Any:
    now = call.ctx.clock()
    return [_ban_json(entry, now) for entry in call.ctx.peers.list_banned()]


def _ban_host(text: str) -> str:
    """One address (a /32 or /128 subnet is the address): the only bans PeerControl keeps."""
    host, slash, bits = text.partition("/")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise RpcError(
            RpcErrorCode.CLIENT_INVALID_IP_OR_SUBNET, "Error: Invalid IP/Subnet"
        ) from None
    if slash and bits != str(ip.max_prefixlen):
        raise RpcError(
            RpcErrorCode.CLIENT_INVALID_IP_OR_SUBNET,
            "Error: Invalid IP/Subnet (only single addresses can be banned on this node)",
        )
    return str(ip)


def setban(call: Call) -> Any:
    ctx = call.ctx
    command = get_str(call.arg(1))
    if command not in ("add", "remove"):
        spec = call.table.get("setban")
        raise RpcError(RpcErrorCode.MISC_ERROR, spec.help_text() if spec else "bad command")
    host = _ban_host(get_str(call.arg(0)))
    if command == "remove":
        try:
            ctx.peers.set_ban(host, False, 0)
        except P2PMisuse:
            raise RpcError(
                RpcErrorCode.CLIENT_INVALID_IP_OR_SUBNET,
                "Error: Unban failed. Requested address/subnet was not previously manually banned.",
            ) from None
        return None
    if any(entry.address == host for entry in ctx.peers.list_banned()):
        raise RpcError(RpcErrorCode.CLIENT_NODE_ALREADY_ADDED, "Error: IP/Subnet already banned")
    ban_time = 0 if call.arg(2) is None else get_int(call.arg(2), -(2**63), 2**63 - 1)
    absolute = False if call.arg(3) is None else get_bool(call.arg(3))
    now = ctx.clock()
    if absolute and ban_time < now:
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, "Error: Absolute timestamp is in the past")
    seconds = (
        ban_time - now if absolute else (ban_time if ban_time > 0 else DEFAULT_MISBEHAVING_BANTIME)
    )
    ctx.peers.set_ban(host, True, seconds)
    return None


def clearbanned(call: Call) -> Any:
    call.ctx.peers.clear_banned()
    return None


METHODS = (
    MethodSpec(
        "addnode",
        CATEGORY,
        addnode,
        "Attempts to add or remove a node from the addnode list.\n"
        "Or try a connection to a node once.",
        (
            Param("node", ParamKind.STR, "The address of the peer to connect to", required=True),
            Param(
                "command",
                ParamKind.STR,
                "'add' to add a node to the list, 'remove' to remove a node from the list, "
                "'onetry' to try a connection to the node once",
                required=True,
            ),
        ),
    ),
    MethodSpec("clearbanned", CATEGORY, clearbanned, "Clear all banned IPs."),
    MethodSpec(
        "disconnectnode",
        CATEGORY,
        disconnectnode,
        "Immediately disconnects from the specified peer node.\n\n"
        "Strictly one out of 'address' and 'nodeid' can be provided to identify the node.",
        (
            Param("address", ParamKind.STR, "The IP address/port of the node"),
            Param("nodeid", ParamKind.NUM, "The node ID (see getpeerinfo for node IDs)"),
        ),
    ),
    MethodSpec(
        "getconnectioncount",
        CATEGORY,
        getconnectioncount,
        "Returns the number of connections to other nodes.",
    ),
    MethodSpec(
        "getnetworkinfo",
        CATEGORY,
        getnetworkinfo,
        "Returns an object containing various state info regarding P2P networking.",
    ),
    MethodSpec(
        "getpeerinfo",
        CATEGORY,
        getpeerinfo,
        "Returns data about each connected network peer as a json array of objects.",
    ),
    MethodSpec("listbanned", CATEGORY, listbanned, "List all manually banned IPs/Subnets."),
    MethodSpec(
        "setban",
        CATEGORY,
        setban,
        "Attempts to add or remove an IP/Subnet from the banned list.",
        (
            Param("subnet", ParamKind.STR, "The IP/Subnet (a single address here)", required=True),
            Param(
                "command",
                ParamKind.STR,
                "'add' to add an IP/Subnet to the list, 'remove' to remove it from the list",
                required=True,
            ),
            Param(
                "bantime",
                ParamKind.NUM,
                "time in seconds how long (or until when if [absolute] is set) the IP is "
                "banned (0 or empty means using the default time of 24h)",
                default="0",
            ),
            Param(
                "absolute",
                ParamKind.BOOL,
                "If set, the bantime must be an absolute timestamp expressed in UNIX epoch time",
                default="false",
            ),
        ),
    ),
    MethodSpec(
        "setnetworkactive",
        CATEGORY,
        setnetworkactive,
        "Disable/enable all p2p network activity.",
        (
            Param(
                "state",
                ParamKind.BOOL,
                "true to enable networking, false to disable",
                required=True,
            ),
        ),
    ),
)
