"""The pure codecs behind `LogClient`: strict parsing of every response, retry arithmetic."""

from __future__ import annotations

import base64
import json

import pytest

from ctlog import _client_codec as codec
from ctlog.errors import InputError, UsageError
from ctlog.keys import LogSigningKey
from ctlog.sth import SignedTreeHead, TreeHead

H = bytes(range(32))
B64H = base64.b64encode(H).decode()


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_sth_round_trips() -> None:
    sth = SignedTreeHead.sign(TreeHead(7, 1234, H), LogSigningKey.generate())
    assert codec.parse_sth_response(body(sth.to_json())) == sth


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"[1, 2]", "not a JSON object"),
        (b"{not json", "not valid JSON"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": NaN}', "NaN"),
        (b"\xff\xfe", "not UTF-8"),
    ],
    ids=["list", "syntax", "duplicate-key", "nan", "utf8"],
)
def test_json_is_strict(raw: bytes, needle: str) -> None:
    with pytest.raises(InputError) as info:
        codec.decode_json_object(raw, "get-sth")
    assert needle in str(info.value) and "get-sth" in str(info.value)


@pytest.mark.parametrize(
    ("obj", "needle"),
    [
        ({}, "lacks 'consistency'"),
        ({"consistency": "x"}, "consistency must be a JSON list"),
        ({"consistency": [B64H, base64.b64encode(b"short").decode()]}, "consistency[1] is 5 bytes"),
        ({"consistency": ["!!!"]}, "consistency[0] is not valid base64"),
        ({"consistency": [7]}, "consistency[0] must be a base64 string"),
        ({"consistency": [B64H] * 65}, "more than 64"),
    ],
    ids=["missing", "not-list", "short-hash", "bad-b64", "wrong-type", "too-long"],
)
def test_consistency_fields_are_named(obj: object, needle: str) -> None:
    with pytest.raises(InputError) as info:
        codec.parse_consistency_response(body(obj))
    assert needle in str(info.value)


def test_consistency_parses() -> None:
    assert codec.parse_consistency_response(body({"consistency": [B64H, B64H]})) == [H, H]


@pytest.mark.parametrize(
    ("obj", "needle"),
    [
        ({"leaf_index": -1, "audit_path": []}, "leaf_index must be an integer"),
        ({"leaf_index": True, "audit_path": []}, "leaf_index must be an integer"),
        ({"leaf_index": 1.0, "audit_path": []}, "leaf_index must be an integer"),
        ({"leaf_index": 1}, "lacks 'audit_path'"),
    ],
)
def test_proof_by_hash_is_strict(obj: object, needle: str) -> None:
    with pytest.raises(InputError) as info:
        codec.parse_proof_by_hash_response(body(obj))
    assert needle in str(info.value)


def test_proof_by_hash_parses() -> None:
    assert codec.parse_proof_by_hash_response(body({"leaf_index": 3, "audit_path": [B64H]})) == (
        3,
        [H],
    )


def entry(leaf: bytes = b"leaf", extra: bytes = b"") -> dict[str, str]:
    return {
        "leaf_input": base64.b64encode(leaf).decode(),
        "extra_data": base64.b64encode(extra).decode(),
    }


def test_entries_parse_and_may_be_truncated() -> None:
    got = codec.parse_entries_response(body({"entries": [entry(b"a"), entry(b"b", b"x")]}), 5)
    assert got == [codec.RawEntry(b"a", b""), codec.RawEntry(b"b", b"x")]


@pytest.mark.parametrize(
    ("obj", "requested", "needle"),
    [
        ({"entries": []}, 2, "no entries"),
        ({"entries": [entry(), entry(), entry()]}, 2, "3 entries, 2 were asked"),
        ({"entries": [entry(b"")]}, 1, "entries[0].leaf_input is empty"),
        ({"entries": [{"leaf_input": B64H}]}, 1, "lacks 'extra_data'"),
        (
            {"entries": [entry(), {"leaf_input": "%%", "extra_data": ""}]},
            2,
            "entries[1].leaf_input",
        ),
        ({"entries": ["x"]}, 1, "entries[0] must be a JSON object"),
        ({"entries": {}}, 1, "entries must be a JSON list"),
    ],
)
def test_entries_are_strict(obj: object, requested: int, needle: str) -> None:
    with pytest.raises(InputError) as info:
        codec.parse_entries_response(body(obj), requested)
    assert needle in str(info.value)


def test_entry_and_proof_and_roots() -> None:
    raw = body({**entry(b"L", b"E"), "audit_path": [B64H]})
    assert codec.parse_entry_and_proof_response(raw) == (codec.RawEntry(b"L", b"E"), [H])
    assert codec.parse_roots_response(body({"certificates": [B64H]})) == [H]
    with pytest.raises(InputError, match=r"certificates\[0\] is empty"):
        codec.parse_roots_response(body({"certificates": [""]}))


def test_add_chain_request_and_bounds() -> None:
    assert json.loads(codec.encode_add_chain_request([b"\x01", b"\x02"])) == {
        "chain": ["AQ==", "Ag=="]
    }
    with pytest.raises(UsageError):
        codec.encode_add_chain_request([])
    with pytest.raises(UsageError):
        codec.encode_add_chain_request([b"x"] * 17)


def test_add_chain_response_needs_every_sct_field() -> None:
    with pytest.raises(InputError, match="SCT lacks"):
        codec.parse_add_chain_response(body({"sct_version": 0}))


def test_tiles_and_issuers_are_checked() -> None:
    assert codec.check_hash_tile(H * 3, 3) == H * 3
    with pytest.raises(InputError, match="not 3 hashes"):
        codec.check_hash_tile(H * 2, 3)
    import hashlib

    der = b"issuer"
    assert codec.check_issuer(der, hashlib.sha256(der).digest()) == der
    with pytest.raises(InputError, match="does not hash"):
        codec.check_issuer(der, H)


def test_error_message_is_one_bounded_line() -> None:
    assert codec.error_message(body({"error_message": "bad\nchain"})) == "bad chain"
    assert codec.error_message(body({"errorMessage": "rfc 9162"})) == "rfc 9162"
    assert codec.error_message(b"plain   text\r\n") == "plain text"
    assert codec.error_message(b"") == "no reason given"
    assert len(codec.error_message(b"x" * 10_000)) == codec.MAX_ERROR_MESSAGE_CHARS


def test_retry_policy() -> None:
    assert codec.is_retryable(429) and codec.is_retryable(503) and codec.is_retryable(500)
    assert not codec.is_retryable(400) and not codec.is_retryable(404)
    assert codec.retry_after_s(None, 0.0) is None
    assert codec.retry_after_s("3", 0.0) == 3.0
    assert codec.retry_after_s("99999", 0.0) == codec.MAX_RETRY_AFTER_S
    assert codec.retry_after_s("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10.0
    assert codec.retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0) == 0.0
    assert codec.retry_after_s("soon", 0.0) is None


def test_backoff_doubles_with_jitter_and_caps() -> None:
    assert codec.backoff_s(1, 0.2, 0.0) == pytest.approx(0.1)
    assert codec.backoff_s(3, 0.2, 0.999999) == pytest.approx(0.8, rel=1e-5)
    assert codec.backoff_s(60, 0.2, 0.0) == codec.MAX_BACKOFF_S / 2
    with pytest.raises(UsageError):
        codec.backoff_s(0, 0.2, 0.5)
    with pytest.raises(UsageError):
        codec.backoff_s(1, 0.2, 1.0)


def test_entries_range_check() -> None:
    codec.check_entries_range(0, 0)
    for start, end in [(-1, 3), (5, 4), (True, 2)]:
        with pytest.raises(UsageError):
            codec.check_entries_range(start, end)
