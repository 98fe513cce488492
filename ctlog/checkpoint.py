"""Checkpoints (C2SP tlog-checkpoint) and the RFC6962NoteSignature of C2SP static-ct-api.

A checkpoint is the text of a signed note: origin, tree size, base64 root hash, then optional
extension lines. A static-ct log signs it with an RFC6962NoteSignature: key type 0x05, key ID
SHA-256(origin || 0x0A || 0x05 || LogID)[:4], and a signature that is a uint64 timestamp
followed by the TLS `DigitallySigned` RFC 6962 TreeHeadSignature over (timestamp, size, root).
So a get-sth response and a signed checkpoint carry the same facts and convert both ways
without the private key (`note_from_sth`, `sth_from_checkpoint_note`). Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.keys import LogPublicKey, LogSigningKey
from ctlog.merkle import HASH_SIZE
from ctlog.note import (
    MAX_NOTE_BYTES,
    SIG_TYPE_RFC6962,
    Note,
    NoteSignature,
    NoteSigner,
    b64decode_canonical,
    key_id,
    verify_note,
)
from ctlog.sth import MAX_UINT64, SignedTreeHead, TreeHead
from ctlog.tls import DigitallySigned, Reader, uint

_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # tlog-checkpoint §Note text: no leading zeroes
MIN_CHECKPOINT_LINES = 3  # tlog-checkpoint §Note text: origin, tree size, root hash
TIMESTAMP_SIZE = 8  # static-ct-api §Checkpoints: `uint64 timestamp` opens the signature


def _check_line(value: str, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise UsageError(f"checkpoint {what} must be a non-empty string")
    if any(ord(ch) < 0x20 for ch in value):
        raise UsageError(f"checkpoint {what} must be one line without control characters")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head as checkpoint text: `origin`, `tree_size` leaves, `root_hash`."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.tree_size, bool) or not isinstance(self.tree_size, int):
            raise UsageError("checkpoint tree size must be an integer")
        if not 0 <= self.tree_size <= MAX_UINT64:
            raise UsageError("checkpoint tree size is a uint64")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise UsageError(f"checkpoint root hash must be {HASH_SIZE} bytes")
        for line in self.extensions:
            _check_line(line, "extension line")

    def format(self) -> str:
        """The note text: one newline-terminated line per field (tlog-checkpoint §Note text)."""
        lines = [self.origin, str(self.tree_size), base64.b64encode(self.root_hash).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint text strictly; `InputError` names the line that is wrong."""
        if len(text) > MAX_NOTE_BYTES:
            raise InputError(f"checkpoint text is longer than {MAX_NOTE_BYTES} characters")
        if not text.endswith("\n"):
            raise InputError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < MIN_CHECKPOINT_LINES:
            raise InputError("a checkpoint has an origin, a tree size and a root hash line")
        for number, line in enumerate(lines, start=1):
            if not line:
                raise InputError(f"checkpoint line {number} is empty")
            if any(ord(ch) < 0x20 for ch in line):
                raise InputError(f"checkpoint line {number} contains a control character")
        origin, size_line, root_line, *extensions = lines
        if not _DECIMAL.fullmatch(size_line) or int(size_line) > MAX_UINT64:
            raise InputError(f"checkpoint tree size {size_line[:30]!r} is not a canonical uint64")
        root = b64decode_canonical(root_line, "checkpoint root hash")
        if len(root) != HASH_SIZE:
            raise InputError(f"checkpoint root hash is {len(root)} bytes, not {HASH_SIZE}")
        return cls(origin, int(size_line), root, tuple(extensions))

    @classmethod
    def from_note(cls, note: Note) -> Checkpoint:
        return cls.parse(note.text)


def rfc6962_key_id(origin: str, key: LogPublicKey) -> bytes:
    """static-ct-api §Checkpoints: SHA-256(origin || 0x0A || 0x05 || LogID)[:4]."""
    return key_id(origin, SIG_TYPE_RFC6962, key.log_id)


def encode_rfc6962_signature(sth: SignedTreeHead) -> bytes:
    """`struct { uint64 timestamp; TreeHeadSignature signature; } RFC6962NoteSignature`."""
    return uint(sth.timestamp, TIMESTAMP_SIZE) + sth.signature.serialize()


def decode_rfc6962_signature(sig: bytes) -> tuple[int, DigitallySigned]:
    """The timestamp and DigitallySigned of an RFC6962NoteSignature; trailing bytes refused."""
    reader = Reader(sig, "RFC6962NoteSignature")
    timestamp = reader.u64()
    signed = DigitallySigned.read(reader)
    reader.finish()
    return timestamp, signed


@dataclass(frozen=True, slots=True)
class RFC6962NoteVerifier:
    """Verifies a static-ct log's checkpoint signature (note signature type 0x05)."""

    key: LogPublicKey
    origin: str
    key_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_id", rfc6962_key_id(self.origin, self.key))

    @property
    def name(self) -> str:
        """static-ct-api §Checkpoints: the key name is the origin line."""
        return self.origin

    def verify(self, msg: bytes, sig: bytes) -> bool:
        try:
            self.signed_tree_head(msg, sig)
        except (InputError, SignatureError):
            return False
        return True

    def signed_tree_head(self, msg: bytes, sig: bytes) -> SignedTreeHead:
        """The verified STH that checkpoint text `msg` and signature `sig` encode."""
        sth = self._decode(msg, sig)
        sth.verify(self.key)
        return sth

    def _decode(self, msg: bytes, sig: bytes) -> SignedTreeHead:
        """The STH that `msg` and `sig` encode, its signature NOT yet verified.

        The TreeHeadSignature does not cover the origin, so it is checked against ours here.
        """
        try:
            checkpoint = Checkpoint.parse(msg.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError("checkpoint text is not valid UTF-8") from None
        if checkpoint.origin != self.origin:
            raise SignatureError(
                f"checkpoint origin {checkpoint.origin!r} is not the log's {self.origin!r}",
                evidence={"origin": checkpoint.origin, "expected_origin": self.origin},
            )
        if checkpoint.extensions:
            raise InputError("a checkpoint with an RFC 6962 signature has no extension lines")
        timestamp, signed = decode_rfc6962_signature(sig)
        tree_head = TreeHead(checkpoint.tree_size, timestamp, checkpoint.root_hash)
        return SignedTreeHead(tree_head, signed)


@dataclass(frozen=True, slots=True)
class RFC6962NoteSigner:
    """Signs checkpoints as a static-ct log. Its repr shows the public log id only."""

    key: LogSigningKey
    origin: str
    key_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_id", rfc6962_key_id(self.origin, self.key.public))

    @property
    def name(self) -> str:
        return self.origin

    def verifier(self) -> RFC6962NoteVerifier:
        return RFC6962NoteVerifier(self.key.public, self.origin)

    def sign_at(self, checkpoint: Checkpoint, timestamp_ms: int) -> bytes:
        """The RFC6962NoteSignature of `checkpoint` stamped `timestamp_ms`."""
        if checkpoint.origin != self.origin:
            raise UsageError(f"this key signs for {self.origin!r}, not {checkpoint.origin!r}")
        if checkpoint.extensions:
            raise UsageError("static-ct-api: a checkpoint signed this way has no extension lines")
        tree_head = TreeHead(checkpoint.tree_size, timestamp_ms, checkpoint.root_hash)
        return encode_rfc6962_signature(SignedTreeHead.sign(tree_head, self.key))


def sign_checkpoint(
    checkpoint: Checkpoint, signer: RFC6962NoteSigner | NoteSigner, timestamp_ms: int
) -> bytes:
    """The signed note of `checkpoint`; `timestamp_ms` stamps an RFC 6962 signature."""
    text = checkpoint.format()
    if isinstance(signer, RFC6962NoteSigner):
        sig = signer.sign_at(checkpoint, timestamp_ms)
    else:
        sig = signer.sign(text.encode())
    return Note(text, (NoteSignature(signer.name, signer.key_id, sig),)).format()


def checkpoint_from_sth(sth: SignedTreeHead, origin: str) -> Checkpoint:
    """The checkpoint text fields of an STH (static-ct-api: the two convert both ways)."""
    return Checkpoint(origin, sth.tree_size, sth.root_hash)


def note_from_sth(sth: SignedTreeHead, origin: str, key: LogPublicKey) -> bytes:
    """The signed checkpoint note carrying `sth` and its signature, without the private key."""
    text = checkpoint_from_sth(sth, origin).format()
    line = NoteSignature(origin, rfc6962_key_id(origin, key), encode_rfc6962_signature(sth))
    return Note(text, (line,)).format()


def sth_from_checkpoint_note(note: bytes | Note, verifier: RFC6962NoteVerifier) -> SignedTreeHead:
    """The verified STH in a checkpoint signed by `verifier`'s log; other signatures ignored."""
    parsed = note if isinstance(note, Note) else Note.parse(note)
    verify_note(parsed, [verifier])  # raises unless the log signed, and every such line verifies
    ident = (verifier.name, verifier.key_id)
    first = next(s for s in parsed.signatures if (s.name, s.key_id) == ident)
    return verifier._decode(parsed.message, first.signature)  # verified just above


__all__ = [
    "Checkpoint",
    "RFC6962NoteSigner",
    "RFC6962NoteVerifier",
    "checkpoint_from_sth",
    "decode_rfc6962_signature",
    "encode_rfc6962_signature",
    "note_from_sth",
    "rfc6962_key_id",
    "sign_checkpoint",
    "sth_from_checkpoint_note",
]
