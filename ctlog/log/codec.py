"""The log's Raft commands and its internal forwarding body, in strict msgpack.

Two commands go through the Raft log of a log group:

    BATCH  [1, [issuer DER, ...], [[timestamp, entry_type, body, issuer_key_hash,
                                    pre_certificate, [issuer ref, ...]], ...]]
    STH    [2, tree_size, timestamp, root_hash, DigitallySigned bytes]

A batch lists each distinct issuer once and entries refer to issuers by position, so a batch
of certificates from one CA carries the CA's certificates once. `body` is the certificate DER
(x509 entries) or the TBSCertificate (precert entries, with the 32-byte `issuer_key_hash`;
empty for x509). A follower forwards a submission to the leader as a batch of one entry.

Decoding bounds every length, refuses anything but exactly these shapes, and raises
`InputError`; it never trusts a peer's framing (RFC 6962 §3.1 and §3.4 bound the fields).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgpack

from common.strict_msgpack import MalformedMsgpack, unpack_bounded
from ctlog.errors import CtlogError, InputError
from ctlog.leaf import LogEntryType, PreCert
from ctlog.log.entry import MAX_CERT_BYTES, MAX_CHAIN_ISSUERS, PreparedEntry
from ctlog.merkle import HASH_SIZE
from ctlog.sth import SignedTreeHead, TreeHead
from ctlog.tls import MAX_UINT64, DigitallySigned

TAG_BATCH = 1
TAG_STH = 2
MAX_BATCH_ENTRIES = 4096  # hard ceiling for `max_batch`; bounds the work of one apply
MAX_COMMAND_BYTES = 1 << 20  # one command fits one Raft APPEND (RaftParams.max_msg_bytes)
MAX_BATCH_ISSUERS = MAX_BATCH_ENTRIES * MAX_CHAIN_ISSUERS  # every entry's issuers distinct
_ENTRY_FIELDS = 6  # timestamp, entry_type, body, issuer_key_hash, pre_certificate, refs
_STH_FIELDS = 5  # tag, tree_size, timestamp, root_hash, signature
_ENTRY_TYPES = frozenset(LogEntryType)  # RFC 6962 §3.1 LogEntryType values


@dataclass(frozen=True, slots=True)
class BatchCommand:
    entries: tuple[PreparedEntry, ...]


@dataclass(frozen=True, slots=True)
class SthCommand:
    sth: SignedTreeHead


Command = BatchCommand | SthCommand


def encode_batch(entries: Sequence[PreparedEntry]) -> bytes:
    """The BATCH command for `entries`, each distinct issuer stored once."""
    issuers: dict[bytes, int] = {}
    rows = []
    for entry in entries:
        refs = [issuers.setdefault(der, len(issuers)) for der in entry.issuers]
        body = entry.signed_entry
        if isinstance(body, PreCert):
            fields = [body.tbs_certificate, body.issuer_key_hash]
        else:
            fields = [body, b""]
        rows.append([entry.timestamp, int(entry.entry_type), *fields, entry.pre_certificate, refs])
    return _pack([TAG_BATCH, list(issuers), rows])


def encode_sth(sth: SignedTreeHead) -> bytes:
    head = sth.tree_head
    signature = sth.signature.serialize()
    return _pack([TAG_STH, head.tree_size, head.timestamp, head.root_hash, signature])


def decode_command(buf: bytes) -> Command:
    """Decode a BATCH or STH command; `InputError` says what is wrong."""
    items = _unpack(buf)
    if items[0] == TAG_BATCH:
        return BatchCommand(_decode_batch(items))
    if items[0] == TAG_STH:
        return SthCommand(_decode_sth(items))
    raise InputError(f"unknown log command tag {items[0]!r}")


def decode_entries(buf: bytes) -> tuple[PreparedEntry, ...]:
    """Decode a BATCH body (the internal forwarding endpoint sends one)."""
    command = decode_command(buf)
    if not isinstance(command, BatchCommand):
        raise InputError("expected a batch of entries")
    return command.entries


def _pack(value: object) -> bytes:
    data: bytes = msgpack.packb(value, use_bin_type=True)
    return data


def _unpack(buf: bytes) -> list[Any]:
    if not isinstance(buf, bytes) or len(buf) > MAX_COMMAND_BYTES:
        raise InputError(f"a log command is bytes of at most {MAX_COMMAND_BYTES}")
    try:
        items = unpack_bounded(
            buf,
            max_str_len=0,
            max_bin_len=MAX_CERT_BYTES,
            max_array_len=MAX_BATCH_ISSUERS,
            max_map_len=0,
        )
    except MalformedMsgpack as exc:
        raise InputError(f"log command is not strict msgpack: {exc}") from None
    if type(items) is not list or not items:
        raise InputError("a log command is a non-empty array")
    return items


def _decode_batch(items: list[Any]) -> tuple[PreparedEntry, ...]:
    if len(items) != 3 or type(items[1]) is not list or type(items[2]) is not list:
        raise InputError("a batch is [tag, [issuers], [entries]]")
    issuers, rows = items[1], items[2]
    if not all(type(der) is bytes and der for der in issuers):
        raise InputError("batch issuers must be non-empty DER byte strings")
    if not 1 <= len(rows) <= MAX_BATCH_ENTRIES:
        raise InputError(f"a batch holds 1..{MAX_BATCH_ENTRIES} entries, got {len(rows)}")
    entries = tuple(_decode_entry(row, issuers) for row in rows)
    if len({i for e in entries for i in e.issuers}) != len(issuers):
        raise InputError("a batch lists an issuer no entry refers to, or one twice")
    return entries


def _decode_entry(row: Any, issuers: list[bytes]) -> PreparedEntry:
    if type(row) is not list or len(row) != _ENTRY_FIELDS:
        raise InputError(f"a batch entry is an array of {_ENTRY_FIELDS} fields")
    timestamp, entry_type, body, key_hash, pre_certificate, refs = row
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_UINT64:
        raise InputError("entry timestamp must be a uint64")
    if type(entry_type) is not int or entry_type not in _ENTRY_TYPES:
        raise InputError(f"unknown entry type {entry_type!r}")
    if type(body) is not bytes or type(key_hash) is not bytes or type(pre_certificate) is not bytes:
        raise InputError("entry body, issuer_key_hash and pre_certificate must be bytes")
    if type(refs) is not list or not all(type(r) is int and 0 <= r < len(issuers) for r in refs):
        raise InputError("entry issuer refs must index the batch's issuers")
    try:
        signed: bytes | PreCert = body
        if entry_type == LogEntryType.PRECERT_ENTRY:
            signed = PreCert(key_hash, body)
        elif key_hash:
            raise InputError("an x509 entry has no issuer_key_hash")
        chain = tuple(issuers[r] for r in refs)
        return PreparedEntry(timestamp, LogEntryType(entry_type), signed, pre_certificate, chain)
    except InputError:
        raise
    except CtlogError as exc:  # the value types refuse out-of-range fields with UsageError
        raise InputError(f"invalid batch entry: {exc}") from None


def _decode_sth(items: list[Any]) -> SignedTreeHead:
    if len(items) != _STH_FIELDS:
        raise InputError(f"an STH command has {_STH_FIELDS} fields")
    _, tree_size, timestamp, root_hash, signature = items
    if type(tree_size) is not int or type(timestamp) is not int:
        raise InputError("STH tree_size and timestamp must be integers")
    if type(root_hash) is not bytes or len(root_hash) != HASH_SIZE or type(signature) is not bytes:
        raise InputError(f"STH root_hash must be {HASH_SIZE} bytes and signature bytes")
    try:
        head = TreeHead(tree_size, timestamp, root_hash)
    except CtlogError as exc:
        raise InputError(f"invalid STH command: {exc}") from None
    return SignedTreeHead(head, DigitallySigned.deserialize(signature))


__all__ = [
    "MAX_BATCH_ENTRIES",
    "MAX_COMMAND_BYTES",
    "BatchCommand",
    "Command",
    "SthCommand",
    "decode_command",
    "decode_entries",
    "encode_batch",
    "encode_sth",
]
