"""A harness for driving the sans-I/O `NetProcessor` in tests: peers by id, handshakes,
messages in, effects out, and builders for header chains and bad headers."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address

import pytest

from btcnode.consensus.block import Block, BlockHeader, merkle_root
from btcnode.consensus.params import REGTEST
from btcnode.consensus.pow import check_proof_of_work
from btcnode.consensus.tx import Tx, TxOut
from btcnode.node import Node
from btcnode.p2p.config import P2PConfig
from btcnode.p2p.control import ConnectionType
from btcnode.p2p.effects import BanAddress, DisconnectPeer, Effect, SendMessage
from btcnode.p2p.errors import MessageDecodeError
from btcnode.p2p.messages import (
    PROTOCOL_VERSION,
    OutboundMessage,
    SendAddrV2Message,
    SendHeadersMessage,
    VerackMessage,
    VersionMessage,
    WtxidRelayMessage,
    decode_message,
)
from btcnode.p2p.netaddr import NetAddress, ServiceFlags
from btcnode.p2p.peer import PeerAddress, PeerState
from btcnode.p2p.processor import NetProcessor
from tests.btcnode.scenarios.helpers import T0, new_node

NOW = float(T0 + 100)
REMOTE = "203.0.113.7"  # TEST-NET-3: not local, so misbehaviour bans it
SERVICES = int(ServiceFlags.NODE_NETWORK | ServiceFlags.NODE_WITNESS)


def peer_version(
    *,
    version: int = PROTOCOL_VERSION,
    services: int = SERVICES,
    nonce: int = 0xC0FFEE,
    start_height: int = 0,
    relay: bool = True,
) -> VersionMessage:
    addr = NetAddress(0, IPv4Address("0.0.0.0"), 0)
    return VersionMessage(
        version, services, int(NOW), addr, addr, nonce, b"/test:1/", start_height, relay
    )


@dataclass
class Harness:
    node: Node = field(default_factory=new_node)
    config: P2PConfig = field(default_factory=P2PConfig)
    now: float = NOW
    core: NetProcessor = field(init=False)

    def __post_init__(self) -> None:
        self.core = NetProcessor(self.node, self.config, nonces=random.Random(7))

    def connect(
        self,
        peer_id: int,
        *,
        inbound: bool = True,
        host: str = REMOTE,
        connection_type: ConnectionType | None = None,
    ) -> list[Effect]:
        addr = PeerAddress(host, 18444 + peer_id)
        kind = connection_type or (
            ConnectionType.INBOUND if inbound else ConnectionType.OUTBOUND_FULL_RELAY
        )
        return self.core.on_connected(peer_id, addr, kind, self.now)

    def deliver(self, peer_id: int, *messages: object) -> list[Effect]:
        effects: list[Effect] = []
        for message in messages:
            effects += self.core.on_message(peer_id, message, self.now)
        return effects

    def tick(self, advance: float = 0.0) -> list[Effect]:
        self.now += advance
        return self.core.on_tick(self.now)

    def handshake(
        self,
        peer_id: int,
        *,
        inbound: bool = True,
        host: str = REMOTE,
        connection_type: ConnectionType | None = None,
        sendheaders: bool = False,
        **version: object,
    ) -> list[Effect]:
        """Connect and complete the handshake as a modern Core peer would."""
        effects = self.connect(peer_id, inbound=inbound, host=host, connection_type=connection_type)
        negotiation = [peer_version(**version), WtxidRelayMessage(), SendAddrV2Message()]  # type: ignore[arg-type]
        effects += self.deliver(peer_id, *negotiation, VerackMessage())
        if sendheaders:
            effects += self.deliver(peer_id, SendHeadersMessage())
        return effects

    def peer(self, peer_id: int) -> PeerState:
        return self.core.peers[peer_id]


def sent(effects: Sequence[Effect], peer_id: int | None = None) -> list[OutboundMessage]:
    return [
        e.message
        for e in effects
        if isinstance(e, SendMessage) and (peer_id is None or e.peer_id == peer_id)
    ]


def commands(effects: Sequence[Effect], peer_id: int | None = None) -> list[bytes]:
    return [m.command for m in sent(effects, peer_id)]


def of_type(effects: Sequence[Effect], kind: type) -> list:
    return [m for m in sent(effects) if isinstance(m, kind)]


def disconnects(effects: Sequence[Effect]) -> list[DisconnectPeer]:
    return [e for e in effects if isinstance(e, DisconnectPeer)]


def bans(effects: Sequence[Effect]) -> list[BanAddress]:
    return [e for e in effects if isinstance(e, BanAddress)]


def decode_error(command: bytes, payload: bytes) -> MessageDecodeError:
    """The error `decode_message` raises for a payload that must be refused."""
    with pytest.raises(MessageDecodeError) as info:
        decode_message(command, payload)
    return info.value


def grind(header: BlockHeader) -> BlockHeader:
    """The first nonce that meets the header's (regtest) target."""
    nonce = 0
    while not check_proof_of_work(header.with_nonce(nonce).hash, header.bits, REGTEST):
        nonce += 1
    return header.with_nonce(nonce)


def header_chain(prev: BlockHeader, count: int, salt: int = 0) -> list[BlockHeader]:
    """`count` valid headers after `prev` (no block bodies exist for them)."""
    headers = []
    for i in range(count):
        merkle = (salt * 1_000_003 + i).to_bytes(32, "little")
        header = grind(BlockHeader(4, prev.hash, merkle, prev.time + 1, prev.bits, 0))
        headers.append(header)
        prev = header
    return headers


def bad_pow(header: BlockHeader) -> BlockHeader:
    """`header` with a nonce whose hash misses the target."""
    nonce = 0
    while check_proof_of_work(header.with_nonce(nonce).hash, header.bits, REGTEST):
        nonce += 1
    return header.with_nonce(nonce)


def overpaying(block: Block, extra: int) -> Block:
    """`block` with its coinbase paying `extra` more: well-formed, valid PoW, and refused
    when connected ("bad-cb-amount")."""
    coinbase = block.txs[0]
    first = coinbase.vout[0]
    vout = (TxOut(first.value + extra, first.script_pubkey), *coinbase.vout[1:])
    paid = Tx(coinbase.version, coinbase.vin, vout, coinbase.lock_time)
    txs = (paid, *block.txs[1:])
    root, _ = merkle_root([tx.txid for tx in txs])
    old = block.header
    header = grind(BlockHeader(old.version, old.prev_block, root, old.time, old.bits, 0))
    return Block(header, txs)
