"""The cluster handshake: proofs, state machines, replay and wire decoding."""

from __future__ import annotations

import pytest

from common.errors import ConfigError, UsageError
from common.net import AuthError, ClusterAuth, DecodeError, RejectReason
from common.net._auth import MAC_BYTES, NONCE_BYTES, Role
from common.net._handshake import (
    MAGIC,
    MAX_HANDSHAKE_BYTES,
    Challenge,
    ClientHandshake,
    Hello,
    MsgType,
    Proof,
    ServerHandshake,
)

AUTH = ClusterAuth(b"s" * 32)
KNOWN = frozenset({"a", "b", "c"})


def nonce(n: int) -> bytes:
    return bytes([n]) * NONCE_BYTES


def run(
    client_auth: ClusterAuth, server_auth: ClusterAuth, c_nonce: int = 1, s_nonce: int = 2
) -> tuple[ClientHandshake, ServerHandshake]:
    client = ClientHandshake(client_auth, "a", "b", nonce(c_nonce))
    server = ServerHandshake(server_auth, "b", KNOWN, nonce(s_nonce))
    challenge = server.on_hello(client.hello())
    proof = client.on_challenge(challenge)
    accept = server.on_proof(proof)
    client.on_accept(accept)
    return client, server


def test_matching_secrets_complete_both_sides() -> None:
    client, server = run(AUTH, AUTH)
    assert client.done and server.done
    assert server.client_id == "a"


def test_client_with_wrong_secret_is_refused_by_server() -> None:
    client = ClientHandshake(ClusterAuth(b"x" * 32), "a", "b", nonce(1))
    server = ServerHandshake(AUTH, "b", KNOWN, nonce(2))
    proof = client.on_challenge(server.on_hello(client.hello()))
    with pytest.raises(AuthError) as info:
        server.on_proof(proof)
    assert info.value.reason is RejectReason.BAD_PROOF
    assert info.value.remote_id == "a"
    assert not server.done


def test_server_with_wrong_secret_is_refused_by_client() -> None:
    client = ClientHandshake(AUTH, "a", "b", nonce(1))
    server = ServerHandshake(AUTH, "b", KNOWN, nonce(2))
    proof = client.on_challenge(server.on_hello(client.hello()))
    server.on_proof(proof)
    forged = Proof(ClusterAuth(b"y" * 32).proof(Role.SERVER, "a", "b", nonce(1), nonce(2)))
    with pytest.raises(AuthError) as info:
        client.on_accept(Proof(forged.mac, MsgType.ACCEPT).serialize())
    assert info.value.reason is RejectReason.BAD_PROOF
    assert info.value.remote_id == "b"
    assert not client.done


def test_replayed_proof_fails_against_a_fresh_server_nonce() -> None:
    recorded_client = ClientHandshake(AUTH, "a", "b", nonce(1))
    first = ServerHandshake(AUTH, "b", KNOWN, nonce(2))
    hello = recorded_client.hello()
    recorded_proof = recorded_client.on_challenge(first.on_hello(hello))
    first.on_proof(recorded_proof)
    # An attacker replays the recorded hello and proof; the server draws a new nonce.
    second = ServerHandshake(AUTH, "b", KNOWN, nonce(3))
    second.on_hello(hello)
    with pytest.raises(AuthError) as info:
        second.on_proof(recorded_proof)
    assert info.value.reason is RejectReason.BAD_PROOF


def test_replayed_accept_fails_against_a_fresh_client_nonce() -> None:
    recorded, _ = run(AUTH, AUTH, c_nonce=1, s_nonce=2)
    assert recorded.done
    old_accept = Proof(AUTH.proof(Role.SERVER, "a", "b", nonce(1), nonce(2)), MsgType.ACCEPT)
    client = ClientHandshake(AUTH, "a", "b", nonce(9))
    client.hello()
    client.on_challenge(Challenge(nonce(2)).serialize())
    with pytest.raises(AuthError) as info:
        client.on_accept(old_accept.serialize())
    assert info.value.reason is RejectReason.BAD_PROOF


def test_client_proof_cannot_be_reflected_as_server_proof() -> None:
    client = ClientHandshake(AUTH, "a", "b", nonce(1))
    client.hello()
    proof = client.on_challenge(Challenge(nonce(2)).serialize())
    reflected = Proof(Proof.deserialize(proof, MsgType.PROOF).mac, MsgType.ACCEPT).serialize()
    with pytest.raises(AuthError) as info:
        client.on_accept(reflected)
    assert info.value.reason is RejectReason.BAD_PROOF


def test_proof_binds_both_node_ids() -> None:
    args = (nonce(1), nonce(2))
    assert AUTH.proof(Role.CLIENT, "a", "b", *args) != AUTH.proof(Role.CLIENT, "c", "b", *args)
    assert AUTH.proof(Role.CLIENT, "a", "b", *args) != AUTH.proof(Role.CLIENT, "a", "c", *args)
    # length prefixes keep ("ab", "c") and ("a", "bc") apart
    assert AUTH.proof(Role.CLIENT, "ab", "c", *args) != AUTH.proof(Role.CLIENT, "a", "bc", *args)
    assert len(AUTH.proof(Role.CLIENT, "a", "b", *args)) == MAC_BYTES


@pytest.mark.parametrize(
    ("client_id", "server_id", "reason"),
    [
        ("z", "b", RejectReason.UNKNOWN_NODE),
        ("b", "b", RejectReason.UNKNOWN_NODE),
        ("a", "c", RejectReason.WRONG_DESTINATION),
    ],
    ids=["unknown-client", "claims-server-id", "addressed-elsewhere"],
)
def test_server_refuses_hello(client_id: str, server_id: str, reason: RejectReason) -> None:
    server = ServerHandshake(AUTH, "b", KNOWN, nonce(2))
    with pytest.raises(AuthError) as info:
        server.on_hello(Hello(client_id, server_id, nonce(1)).serialize())
    assert info.value.reason is reason
    assert info.value.remote_id == client_id


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"GET / HTTP/1.1\r\n\r\n",
        MAGIC,
        MAGIC + bytes([MsgType.PROOF]) + b"\x00" * MAC_BYTES,
        Hello("a", "b", nonce(1)).serialize()[:-1],
        Hello("a", "b", nonce(1)).serialize() + b"\x00",
        MAGIC + bytes([MsgType.HELLO]) + b"\xff\xff" + b"a" * 40,
        MAGIC + bytes([MsgType.HELLO]) + b"\x00\x02\xff\xfe\x00\x01b" + nonce(1),
        MAGIC + bytes([MsgType.HELLO]) + b"\x00\x02a \x00\x01b" + nonce(1),
        b"\x00" * (MAX_HANDSHAKE_BYTES + 1),
    ],
    ids=[
        "empty",
        "http",
        "magic-only",
        "wrong-type",
        "truncated",
        "trailing",
        "huge-id-length",
        "not-utf8",
        "whitespace-id",
        "oversize",
    ],
)
def test_malformed_hello_is_refused(frame: bytes) -> None:
    server = ServerHandshake(AUTH, "b", KNOWN, nonce(2))
    with pytest.raises(AuthError) as info:
        server.on_hello(frame)
    assert info.value.reason is RejectReason.MALFORMED
    assert isinstance(info.value.__cause__, DecodeError)


def test_decode_error_names_the_field() -> None:
    with pytest.raises(DecodeError) as info:
        Challenge.deserialize(MAGIC + bytes([MsgType.CHALLENGE]) + b"\x00" * 5)
    assert info.value.what == "challenge nonce"
    assert info.value.http_status == 400


def test_messages_round_trip() -> None:
    hello = Hello("nöde-1", "b", nonce(7))
    assert Hello.deserialize(hello.serialize()) == hello
    assert Challenge.deserialize(Challenge(nonce(3)).serialize()) == Challenge(nonce(3))
    accept = Proof(b"m" * MAC_BYTES, MsgType.ACCEPT)
    assert Proof.deserialize(accept.serialize(), MsgType.ACCEPT) == accept


def test_steps_out_of_order_are_usage_errors() -> None:
    client = ClientHandshake(AUTH, "a", "b", nonce(1))
    with pytest.raises(UsageError):
        client.on_accept(b"")
    server = ServerHandshake(AUTH, "b", KNOWN, nonce(2))
    with pytest.raises(UsageError):
        server.on_proof(b"")
    with pytest.raises(UsageError):
        ClientHandshake(AUTH, "a", "b", b"short")


@pytest.mark.parametrize("secret", [b"", b"x" * 15, "a string secret of enough length"])
def test_cluster_secret_must_be_long_bytes(secret: object) -> None:
    with pytest.raises(ConfigError) as info:
        ClusterAuth(secret)  # type: ignore[arg-type]
    assert "cluster secret" in str(info.value)


def test_cluster_auth_repr_hides_the_secret() -> None:
    assert "topsecret" not in repr(ClusterAuth(b"topsecret-topsecret"))
