"""The peer handshake: wire messages and the two sans-I/O state machines that drive them.

    client -> server  HELLO      client_id, server_id, client_nonce
    server -> client  CHALLENGE  server_nonce
    client -> server  PROOF      HMAC(client role, ids, both nonces)
    server -> client  ACCEPT     HMAC(server role, ids, both nonces)

Each message is one binary frame: MAGIC | type (1 byte) | body; node ids are u16-length-prefixed
UTF-8. Decoding bounds every length and rejects trailing bytes. The server refuses unknown node
ids before it spends anything on them, and accepts payloads only after PROOF verifies; the
client sends payloads only after ACCEPT verifies. Every refusal is an `AuthError` with a
`RejectReason`; calling a step out of order is a `UsageError`.
"""

from __future__ import annotations

import struct
from collections.abc import Collection
from dataclasses import dataclass
from enum import IntEnum

from common.errors import UsageError
from common.net._auth import MAC_BYTES, NONCE_BYTES, ClusterAuth, Role
from common.net._errors import AuthError, DecodeError, RejectReason
from common.net._types import MAX_NODE_ID_CHARS, node_id_problem

MAGIC = b"OTN1"  # opentrust net, protocol version 1
MAX_NODE_ID_BYTES = 4 * MAX_NODE_ID_CHARS  # UTF-8 takes at most 4 bytes per character
MAX_HANDSHAKE_BYTES = len(MAGIC) + 1 + 2 * (2 + MAX_NODE_ID_BYTES) + NONCE_BYTES  # a HELLO
_U16 = struct.Struct(">H")


class MsgType(IntEnum):
    HELLO = 1
    CHALLENGE = 2
    PROOF = 3
    ACCEPT = 4


def _body(buf: bytes, msg_type: MsgType) -> memoryview:
    if len(buf) > MAX_HANDSHAKE_BYTES:
        raise DecodeError(f"{len(buf)} bytes, limit {MAX_HANDSHAKE_BYTES}", what="handshake size")
    if len(buf) < len(MAGIC) + 1 or buf[: len(MAGIC)] != MAGIC:
        raise DecodeError("not an opentrust peer handshake", what="magic")
    if buf[len(MAGIC)] != msg_type:
        raise DecodeError(f"expected {msg_type.name}, got type {buf[len(MAGIC)]}", what="type")
    return memoryview(buf)[len(MAGIC) + 1 :]


def _read_node_id(body: memoryview, offset: int, what: str) -> tuple[str, int]:
    if offset + 2 > len(body):
        raise DecodeError("truncated length", what=what)
    (size,) = _U16.unpack_from(body, offset)
    offset += 2
    if size > MAX_NODE_ID_BYTES or offset + size > len(body):
        raise DecodeError(f"length {size} out of bounds", what=what)
    try:
        node_id = bytes(body[offset : offset + size]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not UTF-8 ({exc.reason})", what=what) from exc
    problem = node_id_problem(node_id)
    if problem is not None:
        raise DecodeError(problem, what=what)
    return node_id, offset + size


def _fixed(buf: bytes, msg_type: MsgType, size: int, what: str) -> bytes:
    body = _body(buf, msg_type)
    if len(body) != size:
        raise DecodeError(f"expected {size} bytes, got {len(body)}", what=what)
    return bytes(body)


@dataclass(frozen=True, slots=True)
class Hello:
    client_id: str
    server_id: str
    client_nonce: bytes

    def __post_init__(self) -> None:
        for node_id in (self.client_id, self.server_id):
            problem = node_id_problem(node_id)
            if problem is not None:
                raise ValueError(problem)
        if len(self.client_nonce) != NONCE_BYTES:
            raise ValueError(f"client_nonce must be {NONCE_BYTES} bytes")

    def serialize(self) -> bytes:
        parts = [MAGIC, bytes([MsgType.HELLO])]
        for node_id in (self.client_id, self.server_id):
            raw = node_id.encode("utf-8")
            parts += [_U16.pack(len(raw)), raw]
        parts.append(self.client_nonce)
        return b"".join(parts)

    @classmethod
    def deserialize(cls, buf: bytes) -> Hello:
        body = _body(buf, MsgType.HELLO)
        client_id, offset = _read_node_id(body, 0, "hello client_id")
        server_id, offset = _read_node_id(body, offset, "hello server_id")
        if len(body) - offset != NONCE_BYTES:
            raise DecodeError(f"expected {NONCE_BYTES} nonce bytes at the end", what="hello nonce")
        return cls(client_id, server_id, bytes(body[offset:]))


@dataclass(frozen=True, slots=True)
class Challenge:
    server_nonce: bytes

    def __post_init__(self) -> None:
        if len(self.server_nonce) != NONCE_BYTES:
            raise ValueError(f"server_nonce must be {NONCE_BYTES} bytes")

    def serialize(self) -> bytes:
        return MAGIC + bytes([MsgType.CHALLENGE]) + self.server_nonce

    @classmethod
    def deserialize(cls, buf: bytes) -> Challenge:
        return cls(_fixed(buf, MsgType.CHALLENGE, NONCE_BYTES, "challenge nonce"))


@dataclass(frozen=True, slots=True)
class Proof:
    """The client's MAC (type PROOF) or the server's (type ACCEPT)."""

    mac: bytes
    msg_type: MsgType = MsgType.PROOF

    def __post_init__(self) -> None:
        if len(self.mac) != MAC_BYTES:
            raise ValueError(f"mac must be {MAC_BYTES} bytes")
        if self.msg_type not in (MsgType.PROOF, MsgType.ACCEPT):
            raise ValueError(f"a proof is a PROOF or ACCEPT message, not {self.msg_type.name}")

    def serialize(self) -> bytes:
        return MAGIC + bytes([self.msg_type]) + self.mac

    @classmethod
    def deserialize(cls, buf: bytes, msg_type: MsgType) -> Proof:
        return cls(_fixed(buf, msg_type, MAC_BYTES, f"{msg_type.name.lower()} mac"), msg_type)


def _check_nonce(nonce: bytes) -> None:
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_BYTES:
        raise UsageError(f"a handshake nonce must be {NONCE_BYTES} fresh random bytes")


class ClientHandshake:
    """The dialling side: `hello()`, then `on_challenge(frame)`, then `on_accept(frame)`."""

    def __init__(self, auth: ClusterAuth, client_id: str, server_id: str, nonce: bytes) -> None:
        _check_nonce(nonce)
        self._auth = auth
        self._hello = Hello(client_id, server_id, nonce)
        self._server_nonce: bytes | None = None
        self._step = 0
        self.done = False

    def hello(self) -> bytes:
        self._advance(0)
        return self._hello.serialize()

    def on_challenge(self, frame: bytes) -> bytes:
        """Check the server's challenge and return our PROOF frame."""
        self._advance(1)
        try:
            self._server_nonce = Challenge.deserialize(frame).server_nonce
        except DecodeError as exc:
            raise AuthError(RejectReason.MALFORMED, str(exc), remote_id=self._remote) from exc
        return Proof(self._auth.proof(Role.CLIENT, *self._args())).serialize()

    def on_accept(self, frame: bytes) -> None:
        """Check the server's proof; afterwards the connection may carry payloads."""
        self._advance(2)
        try:
            accept = Proof.deserialize(frame, MsgType.ACCEPT)
        except DecodeError as exc:
            raise AuthError(RejectReason.MALFORMED, str(exc), remote_id=self._remote) from exc
        if not self._auth.verify(Role.SERVER, *self._args(), accept.mac):
            raise AuthError(
                RejectReason.BAD_PROOF,
                f"{self._remote} did not prove the cluster secret (secrets differ?)",
                remote_id=self._remote,
            )
        self.done = True

    @property
    def _remote(self) -> str:
        return self._hello.server_id

    def _advance(self, expected: int) -> None:
        if self._step != expected:
            raise UsageError(f"client handshake step {expected} called at step {self._step}")
        self._step += 1

    def _args(self) -> tuple[str, str, bytes, bytes]:
        assert self._server_nonce is not None
        hello = self._hello
        return hello.client_id, hello.server_id, hello.client_nonce, self._server_nonce


class ServerHandshake:
    """The accepting side: `on_hello(frame)` returns CHALLENGE, `on_proof(frame)` returns ACCEPT."""

    def __init__(
        self, auth: ClusterAuth, server_id: str, known_ids: Collection[str], nonce: bytes
    ) -> None:
        _check_nonce(nonce)
        self._auth = auth
        self._server_id = server_id
        self._known_ids = known_ids
        self._nonce = nonce
        self._hello: Hello | None = None
        self._step = 0
        self.done = False

    @property
    def client_id(self) -> str | None:
        """The node id the client claims (authenticated only once `done`)."""
        return None if self._hello is None else self._hello.client_id

    def on_hello(self, frame: bytes) -> bytes:
        self._advance(0)
        try:
            hello = Hello.deserialize(frame)
        except DecodeError as exc:
            raise AuthError(RejectReason.MALFORMED, str(exc)) from exc
        client = hello.client_id
        if hello.server_id != self._server_id:
            raise AuthError(
                RejectReason.WRONG_DESTINATION,
                f"{client} addressed {hello.server_id!r}, this is {self._server_id!r}",
                remote_id=client,
            )
        if client == self._server_id or client not in self._known_ids:
            raise AuthError(
                RejectReason.UNKNOWN_NODE, f"{client!r} is not a configured peer", remote_id=client
            )
        self._hello = hello
        return Challenge(self._nonce).serialize()

    def on_proof(self, frame: bytes) -> bytes:
        self._advance(1)
        hello = self._hello
        assert hello is not None
        try:
            proof = Proof.deserialize(frame, MsgType.PROOF)
        except DecodeError as exc:
            raise AuthError(RejectReason.MALFORMED, str(exc), remote_id=hello.client_id) from exc
        args = (hello.client_id, hello.server_id, hello.client_nonce, self._nonce)
        if not self._auth.verify(Role.CLIENT, *args, proof.mac):
            raise AuthError(
                RejectReason.BAD_PROOF,
                f"{hello.client_id} did not prove the cluster secret (secrets differ?)",
                remote_id=hello.client_id,
            )
        self.done = True
        return Proof(self._auth.proof(Role.SERVER, *args), MsgType.ACCEPT).serialize()

    def _advance(self, expected: int) -> None:
        if self._step != expected:
            raise UsageError(f"server handshake step {expected} called at step {self._step}")
        self._step += 1
