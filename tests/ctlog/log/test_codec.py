"""The log's Raft command codec: round trips, shared issuers, and every refusal."""

from __future__ import annotations

import msgpack
import pytest

from ctlog.errors import InputError
from ctlog.keys import LogSigningKey
from ctlog.log.codec import (
    MAX_BATCH_ENTRIES,
    MAX_COMMAND_BYTES,
    BatchCommand,
    SthCommand,
    decode_command,
    decode_entries,
    encode_batch,
    encode_sth,
)
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.log.helpers import ISSUER, ROOT, precert_entry, x509_entry


def test_a_batch_round_trips_and_lists_each_issuer_once() -> None:
    entries = (x509_entry(0), precert_entry(1), x509_entry(2, issuers=(ROOT,)))
    data = encode_batch(entries)
    assert decode_command(data) == BatchCommand(entries)
    assert msgpack.unpackb(data)[1] == [ISSUER, ROOT]
    assert decode_entries(data) == entries


def test_a_tree_head_round_trips() -> None:
    sth = SignedTreeHead.sign(TreeHead(5, 1234, b"r" * 32), LogSigningKey.generate())
    assert decode_command(encode_sth(sth)) == SthCommand(sth)
    with pytest.raises(InputError, match="expected a batch"):
        decode_entries(encode_sth(sth))


def row(**changes: object) -> list[object]:
    base: dict[str, object] = {
        "timestamp": 1,
        "entry_type": 0,
        "body": b"\x30c",
        "key_hash": b"",
        "pre": b"",
        "refs": [0],
    }
    base.update(changes)
    return list(base.values())


BAD = {
    "unknown log command tag": [9],
    "non-empty array": [],
    "a batch is [tag, [issuers], [entries]]": [1, [b"i"]],
    "non-empty DER byte strings": [1, [b""], [row()]],
    "holds 1..4096 entries": [1, [b"i"], []],
    "array of 6 fields": [1, [b"i"], [[1, 0]]],
    "timestamp must be a uint64": [1, [b"i"], [row(timestamp=-1)]],
    "unknown entry type True": [1, [b"i"], [row(entry_type=True)]],
    "unknown entry type 2": [1, [b"i"], [row(entry_type=2)]],
    "max_str_len": [1, [b"i"], [row(body="text")]],
    "must be bytes": [1, [b"i"], [row(pre=7)]],
    "index the batch's issuers": [1, [b"i"], [row(refs=[1])]],
    "an issuer no entry refers to": [1, [b"i", b"j"], [row()]],
    "x509 entry has no issuer_key_hash": [1, [b"i"], [row(key_hash=b"k" * 32)]],
    "invalid batch entry": [1, [b"i"], [row(entry_type=1, key_hash=b"short")]],
    "only they, carry the precertificate": [1, [b"i"], [row(pre=b"\x30p")]],
    "an STH command has 5 fields": [2, 1, 2],
    "STH root_hash must be 32 bytes": [2, 1, 2, b"short", b""],
}


@pytest.mark.parametrize("reason", list(BAD), ids=list(BAD))
def test_malformed_commands_are_refused_with_a_reason(reason: str) -> None:
    with pytest.raises(InputError) as info:
        decode_command(msgpack.packb(BAD[reason], use_bin_type=True))
    assert reason in str(info.value)


def test_trailing_bytes_and_oversize_commands_are_refused() -> None:
    data = encode_batch([x509_entry(0)])
    with pytest.raises(InputError, match="not strict msgpack"):
        decode_command(data + b"\x00")
    with pytest.raises(InputError, match=f"at most {MAX_COMMAND_BYTES}"):
        decode_command(b"\x90" * (MAX_COMMAND_BYTES + 1))


def test_the_batch_ceiling_is_enforced() -> None:
    rows = [row(body=b"\x30%d" % i) for i in range(MAX_BATCH_ENTRIES + 1)]
    with pytest.raises(InputError, match=r"holds 1\.\.4096 entries, got 4097"):
        decode_command(msgpack.packb([1, [b"i"], rows], use_bin_type=True))
