"""Value types and backoff: validation, errors, jittered delays."""

from __future__ import annotations

import random

import pytest

from common.errors import ConfigError, PeerError, UsageError
from common.net import (
    MAX_MSG_BYTES_DEFAULT,
    AuthError,
    DecodeError,
    Envelope,
    MessageTooLarge,
    NetError,
    PeerAddress,
    RejectReason,
)
from common.net._backoff import Backoff


def test_peer_address_accepts_a_valid_address() -> None:
    addr = PeerAddress("n1", "127.0.0.1", 7001)
    assert eval(repr(addr)) == addr


@pytest.mark.parametrize(
    ("node_id", "host", "port", "fragment"),
    [
        ("", "h", 1, "node id"),
        ("a b", "h", 1, "whitespace"),
        ("x" * 65, "h", 1, "node id"),
        ("n1", "", 1, "host"),
        ("n1", "h", 0, "port"),
        ("n1", "h", 65536, "port"),
        ("n1", "h", True, "port"),
    ],
)
def test_peer_address_rejects(node_id: str, host: str, port: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        PeerAddress(node_id, host, port)
    assert fragment in str(info.value)


def test_envelope_requires_bytes() -> None:
    assert Envelope("a", b"x").payload == b"x"
    with pytest.raises(TypeError):
        Envelope("a", "text")  # type: ignore[arg-type]


def test_errors_say_whose_fault() -> None:
    decode = DecodeError("bad", what="frame count")
    assert isinstance(decode, NetError) and isinstance(decode, PeerError)
    assert decode.http_status == 400 and decode.what == "frame count"
    auth = AuthError(RejectReason.BAD_PROOF, "secrets differ", remote_id="n2")
    assert isinstance(auth, PeerError) and auth.http_status == 401
    assert str(auth) == "bad_proof: secrets differ"
    too_large = MessageTooLarge(MAX_MSG_BYTES_DEFAULT + 1, MAX_MSG_BYTES_DEFAULT)
    assert isinstance(too_large, UsageError) and not isinstance(too_large, PeerError)
    assert too_large.limit == 4 * 1024 * 1024


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(0.1, 1.0)
    rng = random.Random(5)
    delays = [backoff.next_delay(rng) for _ in range(8)]
    bases = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0]
    for delay, base in zip(delays, bases, strict=True):
        assert base * 0.5 <= delay < base
    backoff.reset()
    assert backoff.next_delay(rng) < 0.1


def test_backoff_is_validated() -> None:
    with pytest.raises(ConfigError):
        Backoff(0.0, 1.0)
    with pytest.raises(ConfigError):
        Backoff(2.0, 1.0)
