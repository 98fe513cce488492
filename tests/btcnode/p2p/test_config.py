"""`P2PConfig` and the host:port parser behind --connect and addnode."""

from __future__ import annotations

import pytest

from btcnode.p2p.config import P2PConfig, parse_host_port
from btcnode.p2p.errors import P2PMisuse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 18444)),
        ("127.0.0.1:18555", ("127.0.0.1", 18555)),
        ("localhost:1", ("localhost", 1)),
        ("[::1]:18444", ("::1", 18444)),
        ("[::1]", ("::1", 18444)),
        ("::1", ("::1", 18444)),  # a bare IPv6 address has no port
    ],
)
def test_addresses_parse(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text, 18444) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("127.0.0.1:0", "port must be"),
        ("127.0.0.1:65536", "port must be"),
        ("127.0.0.1:x", "port must be"),
        (":18444", "no host"),
        ("[::1", "IPv6"),
        ("[::1]x", "IPv6"),
    ],
)
def test_bad_addresses_say_why(text: str, why: str) -> None:
    with pytest.raises(P2PMisuse, match=why):
        parse_host_port(text, 18444)


def test_config_refuses_impossible_values() -> None:
    with pytest.raises(P2PMisuse, match="not a TCP port"):
        P2PConfig(listen_port=70000)
    with pytest.raises(P2PMisuse, match="negative"):
        P2PConfig(max_inbound=-1)
    with pytest.raises(P2PMisuse, match=r"reconnect_delay 5\.0 exceeds reconnect_delay_max 2\.0"):
        P2PConfig(reconnect_delay=5.0, reconnect_delay_max=2.0)
