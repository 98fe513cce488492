"""Hypothesis strategies for P2P values, each drawing only values a peer may legally send."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import strategies as st

from btcnode.consensus.block import Block, BlockHeader
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.p2p import (
    AddrV2Entry,
    BIP155Network,
    InvVector,
    NetAddress,
    TimedNetAddress,
    VersionMessage,
)

U16 = st.integers(0, 2**16 - 1)
U32 = st.integers(0, 2**32 - 1)
U64 = st.integers(0, 2**64 - 1)
I32 = st.integers(-(2**31), 2**31 - 1)
I64 = st.integers(-(2**63), 2**63 - 1)
HASHES = st.binary(min_size=32, max_size=32)

IPS = st.one_of(
    st.builds(IPv4Address, U32),
    st.builds(IPv6Address, st.integers(0, 2**128 - 1)).filter(lambda ip: ip.ipv4_mapped is None),
)
NET_ADDRESSES = st.builds(NetAddress, U64, IPS, U16)
TIMED_ADDRESSES = st.builds(TimedNetAddress, U32, NET_ADDRESSES)

_KNOWN_SIZES = {
    BIP155Network.IPV4: 4,
    BIP155Network.IPV6: 16,
    BIP155Network.TORV3: 32,
    BIP155Network.I2P: 32,
    BIP155Network.CJDNS: 16,
}


@st.composite
def addrv2_entries(draw: st.DrawFn) -> AddrV2Entry:
    network: int
    if draw(st.booleans()):
        network = draw(st.sampled_from(sorted(_KNOWN_SIZES)))
        address = draw(st.binary(min_size=_KNOWN_SIZES[network], max_size=_KNOWN_SIZES[network]))
    else:
        network = draw(st.integers(0, 255).filter(lambda n: n not in _KNOWN_SIZES))
        address = draw(st.binary(max_size=40))
    return AddrV2Entry(draw(U32), draw(U64), network, address, draw(U16))


INV_VECTORS = st.builds(InvVector, U32, HASHES)

VERSIONS = st.builds(
    VersionMessage,
    I32,
    U64,
    I64,
    NET_ADDRESSES,
    NET_ADDRESSES,
    U64,
    st.binary(max_size=256),
    I32,
    st.booleans(),
)

HEADERS = st.builds(BlockHeader, I32, HASHES, HASHES, U32, U32, U32)

_SCRIPTS = st.binary(max_size=60)
_TXINS = st.builds(
    TxIn,
    st.builds(OutPoint, HASHES, U32),
    _SCRIPTS,
    U32,
    st.lists(_SCRIPTS, max_size=3).map(tuple),
)
TXS = st.builds(
    Tx,
    I32,
    st.lists(_TXINS, min_size=1, max_size=3).map(tuple),
    st.lists(st.builds(TxOut, I64, _SCRIPTS), max_size=3).map(tuple),
    U32,
)
BLOCKS = st.builds(Block, HEADERS, st.lists(TXS, max_size=3).map(tuple))
