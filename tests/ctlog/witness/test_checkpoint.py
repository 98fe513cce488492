"""Checkpoints (tlog-checkpoint) and the static-ct-api RFC6962NoteSignature."""

from __future__ import annotations

import base64
import json

import pytest

from ctlog.checkpoint import (
    Checkpoint,
    RFC6962NoteSigner,
    RFC6962NoteVerifier,
    checkpoint_from_sth,
    decode_rfc6962_signature,
    note_from_sth,
    rfc6962_key_id,
    sign_checkpoint,
    sth_from_checkpoint_note,
)
from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.keys import LogPublicKey, LogSigningKey
from ctlog.note import Ed25519NoteSigner, Note, NoteSignature, verify_note
from ctlog.sth import SignedTreeHead, TreeHead
from tests.vectors import load_json, read_bytes

# The tlog-checkpoint example text.
SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = bytes(range(32))


def test_spec_example_round_trips() -> None:
    checkpoint = Checkpoint.parse(SPEC_TEXT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.tree_size == 20852163
    assert checkpoint.root_hash.hex().startswith("0ac5186a")
    assert checkpoint.extensions == ()
    assert checkpoint.format() == SPEC_TEXT


def test_extension_lines_round_trip() -> None:
    text = SPEC_TEXT + "ext one\nanother\n"
    checkpoint = Checkpoint.parse(text)
    assert checkpoint.extensions == ("ext one", "another")
    assert checkpoint.format() == text


def test_empty_tree_is_size_zero() -> None:
    checkpoint = Checkpoint("o", 0, ROOT)
    assert Checkpoint.parse(checkpoint.format()) == checkpoint
    assert checkpoint.format().splitlines()[1] == "0"


BAD_TEXTS = {
    "two lines": "origin\n5\n",
    "no final newline": SPEC_TEXT[:-1],
    "empty origin": "\n5\n" + SPEC_TEXT.split("\n")[2] + "\n",
    "leading zero": SPEC_TEXT.replace("20852163", "020852163"),
    "negative size": SPEC_TEXT.replace("20852163", "-1"),
    "plus size": SPEC_TEXT.replace("20852163", "+1"),
    "unicode digits": SPEC_TEXT.replace("20852163", "٣"),
    "size above uint64": SPEC_TEXT.replace("20852163", str(1 << 64)),
    "short root": "o\n1\n" + base64.b64encode(b"x" * 31).decode() + "\n",
    "non-canonical root": SPEC_TEXT.replace("I=\n", "J=\n"),
    "empty extension": SPEC_TEXT + "\n",
    "control char": SPEC_TEXT.replace("sofa", "so\x7ffa\x01"),
    "crlf": SPEC_TEXT.replace("\n", "\r\n"),
}


@pytest.mark.parametrize("text", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        Checkpoint.parse(text)


def test_checkpoint_values_are_checked() -> None:
    with pytest.raises(UsageError):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(UsageError):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(UsageError):
        Checkpoint("o", 1, ROOT[:31])
    with pytest.raises(UsageError):
        Checkpoint("o", 1, ROOT, ("",))


KEY = LogSigningKey.generate()
SIGNER = RFC6962NoteSigner(KEY, "ct.example/log")


def test_rfc6962_signature_layout_and_key_id() -> None:
    checkpoint = Checkpoint("ct.example/log", 7, ROOT)
    note = Note.parse(sign_checkpoint(checkpoint, SIGNER, 1234567))
    (sig,) = note.signatures
    assert sig.name == "ct.example/log"
    assert sig.key_id == rfc6962_key_id("ct.example/log", KEY.public)
    timestamp, signed = decode_rfc6962_signature(sig.signature)
    assert timestamp == 1234567
    assert (signed.hash_algorithm, signed.signature_algorithm) == (4, 3)
    # The same bytes are an RFC 6962 STH signature over (timestamp, size, root).
    SignedTreeHead(TreeHead(7, 1234567, ROOT), signed).verify(KEY.public)


def test_signed_checkpoint_converts_to_the_same_sth() -> None:
    checkpoint = Checkpoint("ct.example/log", 7, ROOT)
    raw = sign_checkpoint(checkpoint, SIGNER, 99)
    sth = sth_from_checkpoint_note(raw, SIGNER.verifier())
    assert (sth.tree_size, sth.timestamp, sth.root_hash) == (7, 99, ROOT)
    sth.verify(KEY.public)
    assert checkpoint_from_sth(sth, "ct.example/log") == checkpoint
    assert note_from_sth(sth, "ct.example/log", KEY.public) == raw


def test_real_get_sth_vector_as_a_checkpoint() -> None:
    """The Google CT test log's STH, carried as a checkpoint, verifies as either."""
    sth = SignedTreeHead.from_json(load_json("ct", "cpp_test_signer_ecdsa.get-sth.json"))
    key = LogPublicKey.from_pem(read_bytes("ct", "cpp_test_signer_ecdsa.pub.pem"))
    raw = note_from_sth(sth, "ct.googleapis.com/testlog", key)
    verifier = RFC6962NoteVerifier(key, "ct.googleapis.com/testlog")
    assert verify_note(Note.parse(raw), [verifier]) == ["ct.googleapis.com/testlog"]
    assert sth_from_checkpoint_note(raw, verifier) == sth
    forged = raw.replace(b"\n42\n", b"\n43\n")
    assert not verifier.verify(
        Note.parse(forged).message, Note.parse(forged).signatures[0].signature
    )
    with pytest.raises(SignatureError):
        sth_from_checkpoint_note(forged, verifier)


def test_origin_is_checked_because_the_sth_signature_does_not_cover_it() -> None:
    raw = sign_checkpoint(Checkpoint("ct.example/log", 7, ROOT), SIGNER, 5)
    note = Note.parse(raw)
    evil = Note(note.text.replace("ct.example/log", "evil.example/log"), note.signatures)
    verifier = SIGNER.verifier()
    assert not verifier.verify(evil.message, evil.signatures[0].signature)
    with pytest.raises(SignatureError) as info:
        verifier.signed_tree_head(evil.message, evil.signatures[0].signature)
    assert info.value.evidence["origin"] == "evil.example/log"


def test_other_signatures_are_ignored_and_trailing_bytes_refused() -> None:
    raw = sign_checkpoint(Checkpoint("ct.example/log", 7, ROOT), SIGNER, 5)
    note = Note.parse(raw)
    extra = Ed25519NoteSigner.from_seed("witness.example", b"\x07" * 32)
    witnessed = note.with_signatures(NoteSignature(extra.name, extra.key_id, b"junk"))
    assert sth_from_checkpoint_note(witnessed, SIGNER.verifier()).tree_size == 7
    sig = note.signatures[0]
    padded = Note(note.text, (NoteSignature(sig.name, sig.key_id, sig.signature + b"\x00"),))
    with pytest.raises(SignatureError):
        sth_from_checkpoint_note(padded, SIGNER.verifier())
    with pytest.raises(InputError, match="trailing"):
        decode_rfc6962_signature(sig.signature + b"\x00")


def test_another_log_key_does_not_verify() -> None:
    raw = sign_checkpoint(Checkpoint("ct.example/log", 7, ROOT), SIGNER, 5)
    other = RFC6962NoteVerifier(LogSigningKey.generate().public, "ct.example/log")
    with pytest.raises(SignatureError, match="not signed by any known key"):
        sth_from_checkpoint_note(raw, other)


def test_extension_lines_cannot_be_rfc6962_signed() -> None:
    with pytest.raises(UsageError, match="extension"):
        sign_checkpoint(Checkpoint("ct.example/log", 7, ROOT, ("x",)), SIGNER, 5)
    with pytest.raises(UsageError):
        sign_checkpoint(Checkpoint("other.example/log", 7, ROOT), SIGNER, 5)


def test_ed25519_signed_checkpoints_are_plain_notes() -> None:
    signer = Ed25519NoteSigner.from_seed("log.example", b"\x01" * 32)
    raw = sign_checkpoint(Checkpoint("log.example", 3, ROOT, ("ext",)), signer, 0)
    note = Note.parse(raw)
    assert verify_note(note, [signer.verifier()]) == ["log.example"]
    assert Checkpoint.from_note(note).extensions == ("ext",)


def test_vector_json_is_what_the_conversion_reads() -> None:
    obj = load_json("ct", "cpp_test_signer_ecdsa.get-sth.json")
    sth = SignedTreeHead.from_json(obj)
    assert json.loads(json.dumps(sth.to_json())) == obj
