"""Signed notes (C2SP signed-note): a text signed by one or more keys, and Ed25519 note keys.

A signed note is UTF-8 text ending in a newline, a blank line, then signature lines
`— <key name> <base64(key ID || signature)>`. `Note.parse` is strict (valid UTF-8, no control
characters but newline, canonical base64, valid key names, bounded size and signature count)
and `Note.format()` gives the exact bytes back. `verify_note` ignores signatures from unknown
(name, key ID) pairs, requires a known key's signature to verify, and one known key to sign.

Key strings are x/mod/sumdb/note's (vkey `<name>+<hex key ID>+<base64(type || public key)>`,
skey `PRIVATE+KEY+<vkey fields, private key>`). `Ed25519KeyVerifier` and `Ed25519KeySigner`
hold what every Ed25519 note key shares (key ID, vkey, skey); the plain Ed25519 keys here and
the cosignature keys of `ctlog.witness` set their key type. Pure: keys come from seeds.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.sth import b64decode_strict

SIGNATURE_PREFIX = "\u2014 "  # signed-note §Format: em dash (U+2014) then a space
KEY_ID_SIZE = 4  # signed-note §Format: a big-endian uint32 key ID opens every signature
MAX_NOTE_BYTES = 128 * 1024  # 16 post-quantum signatures (~6.6 kB in base64 each) fit twice over
MAX_NOTE_SIGNATURES = 100  # golang.org/x/mod/sumdb/note's limit; signed-note asks for >= 16
SIG_TYPE_ED25519 = 0x01  # signed-note §Signature types
SIG_TYPE_COSIGNATURE_V1 = 0x04  # signed-note §Signature types: c2sp.org/tlog-cosignature
SIG_TYPE_RFC6962 = 0x05  # signed-note §Signature types: c2sp.org/static-ct-api
ED25519_PUBLIC_KEY_SIZE = 32  # RFC 8032 §5.1.5
ED25519_SEED_SIZE = 32  # RFC 8032 §5.1.5: the private key is a 32-byte seed
ED25519_SIGNATURE_SIZE = 64  # RFC 8032 §5.1.6
SKEY_PREFIX = "PRIVATE+KEY+"  # x/mod/sumdb/note: keeps a signer key apart from a verifier key
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")  # x/mod/sumdb/note writes key IDs as %08x


def is_valid_key_name(name: object) -> bool:
    """signed-note §Format: non-empty, no Unicode spaces, no plus, no control characters."""
    if not isinstance(name, str) or not name or "+" in name:
        return False
    return not any(ch.isspace() or ord(ch) < 0x20 for ch in name)


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """signed-note §Signatures: SHA-256(name || 0x0A || type || public key)[:4]."""
    if not is_valid_key_name(name):
        raise UsageError(f"invalid key name {name!r}")
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()
    return digest[:KEY_ID_SIZE]


def b64decode_canonical(value: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 §4) with padding, and only the one canonical spelling."""
    raw = b64decode_strict(value, what)
    if base64.b64encode(raw).decode() != value:
        raise InputError(f"{what} is not canonical base64")
    return raw


def _control_character(text: str) -> str | None:
    """signed-note §Format: the first ASCII control character other than newline, if any."""
    return next((f"U+{ord(ch):04X}" for ch in text if ord(ch) < 0x20 and ch != "\n"), None)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key's name, its 4-byte key ID, and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise UsageError(f"invalid key name {self.name!r}")
        if len(self.key_id) != KEY_ID_SIZE or not self.signature:
            raise UsageError("a note signature is a 4-byte key ID and a non-empty signature")

    def line(self) -> str:
        """The signature line, without its newline."""
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}"

    @classmethod
    def parse_line(cls, line: str) -> NoteSignature:
        """Parse one signature line (without its newline); `InputError` says what is wrong."""
        if not line.startswith(SIGNATURE_PREFIX):
            raise InputError(f"signature line does not start with an em dash: {line[:40]!r}")
        name, sep, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not is_valid_key_name(name):
            raise InputError(f"signature line has an invalid key name: {line[:60]!r}")
        raw = b64decode_canonical(encoded, f"the signature of {name}")
        if len(raw) <= KEY_ID_SIZE:
            raise InputError(f"the signature of {name} is only {len(raw)} bytes")
        return cls(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


@dataclass(frozen=True, slots=True)
class Note:
    """A signed note: `text` (ending in a newline) and at least one signature."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.endswith("\n"):
            raise UsageError("note text must end with a newline")
        if (bad := _control_character(self.text)) is not None:
            raise UsageError(f"note text contains the control character {bad}")
        if not 1 <= len(self.signatures) <= MAX_NOTE_SIGNATURES:
            raise UsageError(f"a note has 1 to {MAX_NOTE_SIGNATURES} signatures")
        if not all(isinstance(s, NoteSignature) for s in self.signatures):
            raise UsageError("signatures must be NoteSignature values")

    @property
    def message(self) -> bytes:
        """What every signature signs: the text, with its final newline (signed-note §Format)."""
        return self.text.encode()

    def format(self) -> bytes:
        """The note as sent: text, blank line, one signature line each."""
        lines = "".join(s.line() + "\n" for s in self.signatures)
        return (self.text + "\n" + lines).encode()

    def with_signatures(self, *signatures: NoteSignature) -> Note:
        """This note with `signatures` appended after its own."""
        return Note(self.text, self.signatures + signatures)

    @classmethod
    def parse(cls, raw: bytes) -> Note:
        """Parse a signed note strictly (C2SP signed-note §Format)."""
        if len(raw) > MAX_NOTE_BYTES:
            raise InputError(f"note is {len(raw)} bytes, more than {MAX_NOTE_BYTES}")
        try:
            msg = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"note is not valid UTF-8 (byte {exc.start})") from None
        if (bad := _control_character(msg)) is not None:
            raise InputError(f"note contains the control character {bad}")
        # The text ends at the last blank line; it may hold blank lines of its own.
        split = msg.rfind("\n\n")
        if split < 0:
            raise InputError("note has no blank line before its signatures")
        text, block = msg[: split + 1], msg[split + 2 :]
        if not block.endswith("\n"):
            raise InputError("note signatures must end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_NOTE_SIGNATURES:
            raise InputError(f"note has {len(lines)} signatures, more than {MAX_NOTE_SIGNATURES}")
        return cls(text, tuple(NoteSignature.parse_line(line) for line in lines))


class NoteVerifier(Protocol):
    """Verifies one key's signatures; `(name, key_id)` says which lines are its own."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, msg: bytes, sig: bytes) -> bool: ...


class NoteSigner(Protocol):
    """Signs note texts with one key; `sign` returns the signature without the key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, msg: bytes) -> bytes: ...


def verify_note(note: Note, verifiers: Sequence[NoteVerifier]) -> list[str]:
    """The names of the known keys that signed `note`, in signature order.

    signed-note §Signatures: lines from unknown (name, key ID) pairs are ignored; a line from a
    known key that does not verify, or no line from a known key at all, raises `SignatureError`.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        ident = (verifier.name, verifier.key_id)
        if ident in known:
            raise UsageError(f"two verifiers for key {verifier.name}+{verifier.key_id.hex()}")
        known[ident] = verifier
    names: list[str] = []
    for sig in note.signatures:
        match = known.get((sig.name, sig.key_id))
        if match is None:
            continue
        if not match.verify(note.message, sig.signature):
            raise SignatureError(
                f"the note signature of {sig.name}+{sig.key_id.hex()} does not verify",
                evidence={"key_name": sig.name, "key_id": sig.key_id.hex(), "line": sig.line()},
            )
        if sig.name not in names:
            names.append(sig.name)
    if not names:
        wanted = sorted(f"{name}+{kid.hex()}" for name, kid in known)
        present = [f"{s.name}+{s.key_id.hex()}" for s in note.signatures]
        raise SignatureError(
            f"the note is not signed by any known key ({', '.join(wanted) or 'none given'})",
            evidence={"known_keys": wanted, "signature_keys": present},
        )
    return names


def sign_note(text: str, signers: Sequence[NoteSigner]) -> Note:
    """`text` signed by each of `signers` (at least one), in order."""
    msg = text.encode()
    return Note(text, tuple(NoteSignature(s.name, s.key_id, s.sign(msg)) for s in signers))


class EncodedKey(NamedTuple):
    """A decoded vkey or skey: name, the key ID it states, type byte, key material."""

    name: str
    key_id: bytes
    key_type: int
    material: bytes


def format_vkey(name: str, key_type: int, public_key: bytes) -> str:
    """A verifier key string `<name>+<hex key ID>+<base64(type || public key)>`."""
    kid = key_id(name, key_type, public_key)
    return f"{name}+{kid.hex()}+{base64.b64encode(bytes([key_type]) + public_key).decode()}"


def parse_vkey(vkey: str) -> EncodedKey:
    """Decode a verifier key and check its key ID; `InputError` if it is malformed."""
    decoded = _parse_encoded_key(vkey, "verifier key")
    expected = key_id(decoded.name, decoded.key_type, decoded.material)
    if decoded.key_id != expected:
        raise InputError(
            f"verifier key for {decoded.name} states key ID {decoded.key_id.hex()}, "
            f"but its key hashes to {expected.hex()}"
        )
    return decoded


def parse_skey(skey: str) -> EncodedKey:
    """Decode a signer key; the caller checks the key ID once it has the public key."""
    if not skey.startswith(SKEY_PREFIX):
        raise InputError(f"a signer key starts with {SKEY_PREFIX!r}")
    return _parse_encoded_key(skey[len(SKEY_PREFIX) :], "signer key")


def _parse_encoded_key(encoded: str, what: str) -> EncodedKey:
    name, _, rest = encoded.strip().partition("+")
    hex_id, _, key64 = rest.partition("+")
    if not is_valid_key_name(name):
        raise InputError(f"{what} has an invalid key name {name[:40]!r}")
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise InputError(f"{what} key ID must be {2 * KEY_ID_SIZE} lowercase hex digits")
    raw = b64decode_canonical(key64, f"{what} key")
    if len(raw) < 2:
        raise InputError(f"{what} holds no key")
    return EncodedKey(name, bytes.fromhex(hex_id), raw[0], raw[1:])


@dataclass(frozen=True, slots=True)
class Ed25519KeyVerifier:
    """An Ed25519 public key of one note key type. A subclass sets `KEY_TYPE` (hashed into the
    key ID, written in vkeys), `KEY_TYPES` (the types a vkey or skey may state) with
    `KEY_TYPES_TEXT` naming them for errors, and adds `verify` (`NoteVerifier`)."""

    KEY_TYPE: ClassVar[int]
    KEY_TYPES: ClassVar[tuple[int, ...]]
    KEY_TYPES_TEXT: ClassVar[str]

    public_key: bytes
    name: str
    key_id: bytes = field(init=False, repr=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", ed25519_public_key(self.public_key))
        object.__setattr__(self, "key_id", key_id(self.name, self.KEY_TYPE, self.public_key))

    @classmethod
    def check_key_type(cls, decoded: EncodedKey, what: str) -> None:
        """Refuse a vkey or skey (`what`) stating a key type this kind of key does not take."""
        if decoded.key_type not in cls.KEY_TYPES:
            raise InputError(f"{what} type is 0x{decoded.key_type:02x}, not {cls.KEY_TYPES_TEXT}")

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        decoded = parse_vkey(vkey)
        cls.check_key_type(decoded, "verifier key")
        return cls(decoded.material, decoded.name)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, self.KEY_TYPE, self.public_key)


@dataclass(frozen=True, slots=True)
class Ed25519KeySigner:
    """An Ed25519 private key that makes `VERIFIER`'s kind of signature. Its repr shows the
    name and public key only; construction is key first."""

    VERIFIER: ClassVar[type[Ed25519KeyVerifier]]

    key: Ed25519PrivateKey = field(repr=False, compare=False)
    name: str
    public_key: bytes = field(init=False)
    key_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", key_id(self.name, self.VERIFIER.KEY_TYPE, public))

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        return cls(ed25519_private_key(seed), name)

    @classmethod
    def from_skey(cls, skey: str) -> Self:
        """A signer from `PRIVATE+KEY+<name>+<key ID>+<base64(type || seed)>`."""
        decoded = parse_skey(skey)
        cls.VERIFIER.check_key_type(decoded, "signer key")
        signer = cls.from_seed(decoded.name, decoded.material)
        if decoded.key_id != key_id(decoded.name, decoded.key_type, signer.public_key):
            raise InputError(f"signer key for {decoded.name} states the wrong key ID")
        return signer

    def to_skey(self) -> str:
        """The secret signer key string; keep it out of logs."""
        return format_skey(self.name, self.VERIFIER.KEY_TYPE, self.key)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, self.VERIFIER.KEY_TYPE, self.public_key)


@dataclass(frozen=True, slots=True)
class Ed25519NoteVerifier(Ed25519KeyVerifier):
    """Verifies Ed25519 note signatures (signed-note §Ed25519 signatures, type 0x01)."""

    KEY_TYPE = SIG_TYPE_ED25519
    KEY_TYPES = (SIG_TYPE_ED25519,)
    KEY_TYPES_TEXT = "Ed25519 0x01"

    def verify(self, msg: bytes, sig: bytes) -> bool:
        return ed25519_verify(self._key, msg, sig)


@dataclass(frozen=True, slots=True)
class Ed25519NoteSigner(Ed25519KeySigner):
    """Signs notes with an Ed25519 key."""

    VERIFIER = Ed25519NoteVerifier

    def verifier(self) -> Ed25519NoteVerifier:
        return Ed25519NoteVerifier(self.public_key, self.name)

    def sign(self, msg: bytes) -> bytes:
        return self.key.sign(msg)


def format_skey(name: str, key_type: int, key: Ed25519PrivateKey) -> str:
    """`PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>` for an Ed25519 key."""
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    encoded = base64.b64encode(bytes([key_type]) + key.private_bytes_raw()).decode()
    return f"{SKEY_PREFIX}{name}+{key_id(name, key_type, public).hex()}+{encoded}"


def ed25519_private_key(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != ED25519_SEED_SIZE:
        raise InputError(f"an Ed25519 seed is {ED25519_SEED_SIZE} bytes, not {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def ed25519_public_key(public_key: bytes) -> Ed25519PublicKey:
    if len(public_key) != ED25519_PUBLIC_KEY_SIZE:
        raise InputError(f"an Ed25519 public key is 32 bytes, not {len(public_key)}")
    return Ed25519PublicKey.from_public_bytes(public_key)  # any 32 bytes load; bad ones fail verify


def ed25519_verify(key: Ed25519PublicKey, msg: bytes, sig: bytes) -> bool:
    if len(sig) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        key.verify(sig, msg)
    except InvalidSignature:
        return False
    return True


__all__ = [
    "ED25519_SEED_SIZE",
    "KEY_ID_SIZE",
    "MAX_NOTE_BYTES",
    "MAX_NOTE_SIGNATURES",
    "SIG_TYPE_COSIGNATURE_V1",
    "SIG_TYPE_ED25519",
    "SIG_TYPE_RFC6962",
    "Ed25519KeySigner",
    "Ed25519KeyVerifier",
    "Ed25519NoteSigner",
    "Ed25519NoteVerifier",
    "EncodedKey",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "b64decode_canonical",
    "ed25519_private_key",
    "ed25519_public_key",
    "ed25519_verify",
    "format_skey",
    "format_vkey",
    "is_valid_key_name",
    "key_id",
    "parse_skey",
    "parse_vkey",
    "sign_note",
    "verify_note",
]
