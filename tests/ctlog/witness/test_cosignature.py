"""cosignature/v1 (C2SP tlog-cosignature) and the k-of-n check clients run."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ctlog.checkpoint import Checkpoint, sign_checkpoint
from ctlog.errors import InputError, SignatureError, UsageError, VerificationError
from ctlog.note import Ed25519NoteSigner, Note, NoteSignature, format_vkey
from ctlog.witness import (
    CosignatureSigner,
    CosignatureVerifier,
    cosigned_message,
    decode_cosignature,
    verify_cosigned,
)
from tests.ctlog.witness.helpers import LOG_SIGNER, ORIGIN

TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
# The cosignature line of the tlog-cosignature example (its key is not published).
SPEC_COSIG = (
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0"
    "xUe+mbIUBkBIfZ+qnA=="
)
W1, W2, W3 = (CosignatureSigner.from_seed(f"w{i}.example", bytes([i]) * 32) for i in (1, 2, 3))


def test_spec_example_layout_key_id_timestamp_signature() -> None:
    line = NoteSignature.parse_line(f"— witness.example.com/w1 {SPEC_COSIG}")
    timestamp, signature = decode_cosignature(line.signature)
    assert line.key_id.hex() == "8d66cf3f"
    assert timestamp == 1679315147  # the "time" line of the spec's signed-message example
    assert len(signature) == 64


def test_signed_message_and_key_id_follow_the_spec() -> None:
    sig = W1.cosign(TEXT, 1679315147)
    expected_id = hashlib.sha256(b"w1.example\n\x04" + W1.public_key).digest()[:4]
    assert sig.key_id == expected_id
    assert cosigned_message(TEXT, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + TEXT.encode()
    )
    timestamp, ed_sig = decode_cosignature(sig.signature)
    assert timestamp == 1679315147
    Ed25519PublicKey.from_public_bytes(W1.public_key).verify(
        ed_sig, cosigned_message(TEXT, timestamp)
    )
    assert W1.verifier().verify(TEXT.encode(), sig.signature)


def test_tampering_breaks_the_cosignature() -> None:
    sig = W1.cosign(TEXT, 100).signature
    verifier = W1.verifier()
    assert not verifier.verify(TEXT.encode(), (101).to_bytes(8, "big") + sig[8:])
    assert not verifier.verify(TEXT.replace("20852163", "20852164").encode(), sig)
    assert not verifier.verify(TEXT.encode(), sig[:-1])
    assert not W2.verifier().verify(TEXT.encode(), sig)


def test_only_checkpoints_are_cosigned() -> None:
    with pytest.raises(UsageError, match="only checkpoints"):
        W1.sign_at(b"hello\n", 1)
    with pytest.raises(UsageError):
        W1.sign_at(TEXT.encode(), 1 << 63)


def test_keys_round_trip_and_accept_ed25519_encodings() -> None:
    assert CosignatureVerifier.from_vkey(W1.vkey) == W1.verifier()
    assert CosignatureSigner.from_skey(W1.to_skey()).vkey == W1.vkey
    assert W1.to_skey().startswith("PRIVATE+KEY+w1.example+")
    # transparency-dev/witness configures cosigners with plain Ed25519 (0x01) keys.
    plain = Ed25519NoteSigner.from_seed("w1.example", bytes([1]) * 32)
    assert CosignatureSigner.from_skey(plain.to_skey()).key_id == W1.key_id
    assert CosignatureVerifier.from_vkey(plain.vkey).key_id == W1.key_id
    with pytest.raises(InputError, match="not 0x04"):
        CosignatureVerifier.from_vkey(format_vkey("w1.example", 0x05, W1.public_key))


def test_repr_hides_the_private_key_and_construction_is_key_first() -> None:
    assert W1.to_skey().rsplit("+", 1)[1] not in repr(W1)
    assert CosignatureSigner(Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32), W1.name) == W1
    assert CosignatureVerifier(W1.public_key, W1.name) == W1.verifier()
    assert CosignatureSigner.from_seed(W1.name, bytes([9]) * 32) != W1


def _log_note(size: int = 5) -> Note:
    raw = sign_checkpoint(Checkpoint(ORIGIN, size, bytes(32)), LOG_SIGNER, 1)
    return Note.parse(raw)


def _cosigned(*witnesses: CosignatureSigner, ts: int = 1000) -> bytes:
    note = _log_note()
    return note.with_signatures(*(w.cosign(note.text, ts) for w in witnesses)).format()


VERIFIERS = [W1.verifier(), W2.verifier(), W3.verifier()]


def test_k_of_n_passes_with_enough_cosignatures() -> None:
    report = verify_cosigned(_cosigned(W1, W3), LOG_SIGNER.verifier(), VERIFIERS, 2)
    assert report.cosigned == (("w1.example", 1000), ("w3.example", 1000))
    assert report.missing == ("w2.example",)
    assert report.log_names == (ORIGIN,)
    assert report.checkpoint.tree_size == 5


def test_k_of_n_fails_naming_who_signed_and_who_did_not() -> None:
    with pytest.raises(VerificationError) as info:
        verify_cosigned(_cosigned(W1, W3), LOG_SIGNER.verifier(), VERIFIERS, 3)
    message = str(info.value)
    assert "2 valid witness cosignatures, 3 required" in message
    assert "cosigned: w1.example, w3.example" in message and "missing: w2.example" in message
    assert info.value.evidence["missing"] == ["w2.example"]


def test_a_witness_counts_once_and_a_bad_cosignature_is_reported() -> None:
    note = _log_note()
    forged = NoteSignature(W2.name, W2.key_id, W2.cosign(note.text, 5).signature[:-1] + b"\x00")
    raw = note.with_signatures(W1.cosign(note.text, 7), W1.cosign(note.text, 9), forged).format()
    report = verify_cosigned(raw, LOG_SIGNER.verifier(), VERIFIERS, 1)
    assert report.cosigned == (("w1.example", 9),)
    assert report.invalid == ("w2.example",)
    with pytest.raises(VerificationError) as info:
        verify_cosigned(raw, LOG_SIGNER.verifier(), VERIFIERS, 2)
    assert info.value.evidence["invalid"] == ["w2.example"]


def test_cosignatures_do_not_replace_the_log_signature() -> None:
    note = _log_note()
    only_witnesses = Note(note.text, (W1.cosign(note.text, 1), W2.cosign(note.text, 1)))
    with pytest.raises(SignatureError):
        verify_cosigned(only_witnesses, LOG_SIGNER.verifier(), VERIFIERS, 1)


def test_cosignature_on_another_checkpoint_does_not_count() -> None:
    note = _log_note(5)
    other_text = _log_note(6).text
    moved = note.with_signatures(W1.cosign(other_text, 1))
    report = verify_cosigned(moved, LOG_SIGNER.verifier(), VERIFIERS, 0)
    assert report.invalid == ("w1.example",) and report.cosigned == ()


def test_policy_mistakes_are_usage_errors() -> None:
    raw = _cosigned(W1)
    with pytest.raises(UsageError):
        verify_cosigned(raw, LOG_SIGNER.verifier(), VERIFIERS, 4)
    with pytest.raises(UsageError):
        verify_cosigned(raw, LOG_SIGNER.verifier(), [W1.verifier(), W1.verifier()], 1)
