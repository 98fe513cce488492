"""The wire formats of C2SP tlog-witness `add-checkpoint`, both directions, strict.

Request body: `old <size>\\n`, zero to 63 consistency proof lines (one base64 hash each), an
empty line, then the signed checkpoint note. A "409 Conflict" answer has Content-Type
`text/x.tlog.size` and the witness's latest size in decimal and a newline. A 200 answer is one
or more note signature lines. Every parser bounds what it reads and raises `InputError`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.merkle import HASH_SIZE
from ctlog.note import MAX_NOTE_BYTES, MAX_NOTE_SIGNATURES, Note, NoteSignature, b64decode_canonical
from ctlog.sth import MAX_UINT64

ADD_CHECKPOINT_PATH = "/add-checkpoint"  # tlog-witness §add-checkpoint: <submission prefix>/…
SIZE_CONTENT_TYPE = "text/x.tlog.size"  # tlog-witness §add-checkpoint: the 409 body's type
MAX_PROOF_LINES = 63  # tlog-witness §add-checkpoint: clients MUST NOT send more than 63
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")  # tlog-witness: decimal without leading zeroes
_SIZE_BODY = re.compile(rb"(0|[1-9][0-9]*)\n")  # tlog-witness: the size in decimal, a newline
_B64_HASH_CHARS = 4 * ((HASH_SIZE + 2) // 3)  # a 32-byte hash is 44 base64 characters
# The largest well-formed body: the longest old line, 63 proof lines, the blank line, a note.
MAX_REQUEST_BYTES = len(f"old {MAX_UINT64}\n") + MAX_PROOF_LINES * (_B64_HASH_CHARS + 1) + 1
MAX_REQUEST_BYTES += MAX_NOTE_BYTES
MAX_RESPONSE_BYTES = 64 * 1024  # many cosignature lines of ~110 bytes fit; a 200 body is small


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    """An add-checkpoint request: the size the client believes the witness has, a
    consistency proof from it to the checkpoint's size, and the signed checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    note: Note

    def __post_init__(self) -> None:
        if isinstance(self.old_size, bool) or not 0 <= self.old_size <= MAX_UINT64:
            raise UsageError("old size is a uint64")
        if len(self.proof) > MAX_PROOF_LINES:
            raise UsageError(f"a proof has at most {MAX_PROOF_LINES} hashes")
        if any(len(node) != HASH_SIZE for node in self.proof):
            raise UsageError(f"proof hashes are {HASH_SIZE} bytes")

    def serialize(self) -> bytes:
        lines = [f"old {self.old_size}"] + [base64.b64encode(h).decode() for h in self.proof]
        return "".join(line + "\n" for line in lines).encode() + b"\n" + self.note.format()

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpointRequest:
        if len(body) > MAX_REQUEST_BYTES:
            raise InputError(f"request body is larger than {MAX_REQUEST_BYTES} bytes")
        head, sep, note = body.partition(b"\n\n")
        if not sep:
            raise InputError("request has no empty line before the checkpoint")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError:
            raise InputError("old size and proof lines must be ASCII") from None
        match = _OLD_LINE.fullmatch(lines[0])
        if match is None or int(match[1]) > MAX_UINT64:
            raise InputError(f"first line must be 'old <size>', got {lines[0][:40]!r}")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise InputError(f"{len(lines) - 1} proof lines, more than {MAX_PROOF_LINES}")
        proof = tuple(_proof_hash(line, i) for i, line in enumerate(lines[1:]))
        return cls(int(match[1]), proof, Note.parse(note))


def _proof_hash(line: str, index: int) -> bytes:
    node = b64decode_canonical(line, f"proof line {index + 1}")
    if len(node) != HASH_SIZE:
        raise InputError(f"proof line {index + 1} is {len(node)} bytes, not {HASH_SIZE}")
    return node


def format_size_body(tree_size: int) -> bytes:
    """The body of a 409 answer (tlog-witness §add-checkpoint)."""
    return f"{tree_size}\n".encode()


def parse_size_body(body: bytes) -> int:
    """The witness's size from a `text/x.tlog.size` body; strict decimal and newline."""
    match = _SIZE_BODY.fullmatch(body)
    if match is None or int(match[1]) > MAX_UINT64:
        raise InputError(f"malformed {SIZE_CONTENT_TYPE} body {body[:30]!r}")
    return int(match[1])


def parse_cosignature_lines(body: bytes) -> tuple[NoteSignature, ...]:
    """The signature lines of a 200 answer: at least one, each ending in a newline."""
    if len(body) > MAX_RESPONSE_BYTES:
        raise InputError(f"witness answer is larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("witness answer is not UTF-8") from None
    if not text.endswith("\n"):
        raise InputError("witness answer must be signature lines ending in a newline")
    lines = text[:-1].split("\n")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise InputError(f"witness answer has more than {MAX_NOTE_SIGNATURES} lines")
    return tuple(NoteSignature.parse_line(line) for line in lines)


__all__ = [
    "ADD_CHECKPOINT_PATH",
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "MAX_RESPONSE_BYTES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "format_size_body",
    "parse_cosignature_lines",
    "parse_size_body",
]
