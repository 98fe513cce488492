"""Signed notes: the golang.org/x/mod/sumdb/note vectors, strict parsing, verification rules."""

from __future__ import annotations

import pytest

from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.note import (
    MAX_NOTE_BYTES,
    MAX_NOTE_SIGNATURES,
    Ed25519NoteSigner,
    Ed25519NoteVerifier,
    Note,
    NoteSignature,
    format_vkey,
    parse_vkey,
    sign_note,
    verify_note,
)

# golang.org/x/mod/sumdb/note note_test.go (and the C2SP signed-note example it came from).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def test_signer_from_go_skey_reproduces_the_go_signature() -> None:
    signer = Ed25519NoteSigner.from_skey(PETER_SKEY)
    assert signer.vkey == PETER_VKEY
    assert signer.to_skey() == PETER_SKEY
    assert signer.key_id.hex() == "c74f20a3"
    assert sign_note(TEXT, [signer]).format() == (TEXT + "\n" + PETER_SIG).encode()


def test_doubly_signed_go_note_verifies_per_known_key() -> None:
    raw = (TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode()
    note = Note.parse(raw)
    assert note.text == TEXT
    assert note.format() == raw
    peter = Ed25519NoteVerifier.from_vkey(PETER_VKEY)
    enoch = Ed25519NoteVerifier.from_vkey(ENOCH_VKEY)
    assert verify_note(note, [peter]) == ["PeterNeumann"]
    assert verify_note(note, [enoch, peter]) == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(SignatureError) as info:
        verify_note(note, [])
    assert info.value.evidence["signature_keys"] == ["PeterNeumann+c74f20a3", "EnochRoot+af0cfe78"]


def test_a_known_key_with_a_bad_signature_rejects_the_note() -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[64:]
    note = Note.parse((TEXT + "\n" + bad).encode())
    with pytest.raises(SignatureError) as info:
        verify_note(note, [Ed25519NoteVerifier.from_vkey(PETER_VKEY)])
    assert info.value.evidence["key_id"] == "c74f20a3"


def test_same_name_other_key_id_is_ignored_not_rejected() -> None:
    other = NoteSignature("PeterNeumann", b"\x00\x00\x00\x01", b"\x01" * 64)
    note = Note.parse((TEXT + "\n" + other.line() + "\n" + PETER_SIG).encode())
    assert verify_note(note, [Ed25519NoteVerifier.from_vkey(PETER_VKEY)]) == ["PeterNeumann"]


def test_two_verifiers_for_one_key_are_a_usage_error() -> None:
    peter = Ed25519NoteVerifier.from_vkey(PETER_VKEY)
    with pytest.raises(UsageError):
        verify_note(Note.parse((TEXT + "\n" + PETER_SIG).encode()), [peter, peter])


def test_vkey_manglings_are_refused() -> None:
    Ed25519NoteVerifier.from_vkey(PETER_VKEY)
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(InputError):
            Ed25519NoteVerifier.from_vkey(mangled)
    for cut in (10, 21, len(PETER_VKEY) - 4):
        with pytest.raises(InputError):
            Ed25519NoteVerifier.from_vkey(PETER_VKEY[:cut])


def test_vkey_of_another_type_is_refused_by_the_ed25519_verifier() -> None:
    vkey = format_vkey("PeterNeumann", 0x04, parse_vkey(PETER_VKEY).material)
    with pytest.raises(InputError, match="not Ed25519"):
        Ed25519NoteVerifier.from_vkey(vkey)


def test_skey_with_a_wrong_key_id_is_refused() -> None:
    with pytest.raises(InputError, match="wrong key ID"):
        Ed25519NoteSigner.from_skey(PETER_SKEY.replace("c74f20a3", "c74f20a4"))


def test_verifier_repr_is_a_constructor_expression() -> None:
    verifier = Ed25519NoteVerifier.from_vkey(PETER_VKEY)
    assert eval(repr(verifier), {"Ed25519NoteVerifier": Ed25519NoteVerifier}) == verifier


def test_signer_repr_hides_the_private_key() -> None:
    signer = Ed25519NoteSigner.from_skey(PETER_SKEY)
    assert "AYEKFALV" not in repr(signer) and "PRIVATE" not in repr(signer)


def test_text_may_hold_blank_lines_and_splits_at_the_last_one() -> None:
    signer = Ed25519NoteSigner.from_skey(PETER_SKEY)
    note = sign_note("a\n\nb\n\n", [signer])
    parsed = Note.parse(note.format())
    assert parsed == note and parsed.text == "a\n\nb\n\n"
    assert verify_note(parsed, [signer.verifier()]) == ["PeterNeumann"]


BAD_NOTES = {
    "no signatures": TEXT.encode(),
    "blank line only": (TEXT + "\n").encode(),
    "no final newline": (TEXT + "\n" + PETER_SIG[:-1]).encode(),
    "control character": ("\x01" + TEXT + "\n" + PETER_SIG).encode(),
    "bad utf-8": b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
    "space in name": (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name")).encode(),
    "plus in name": (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "a+b")).encode(),
    "trailing text line": (TEXT + "\n" + PETER_SIG + "Unexpected line.\n").encode(),
    "hyphen not em dash": (TEXT + "\n" + PETER_SIG.replace("—", "-")).encode(),
    "en dash": (TEXT + "\n" + PETER_SIG.replace("—", "\u2013")).encode(),
    "no space after dash": (TEXT + "\n" + PETER_SIG.replace("— ", "—")).encode(),
    "short signature": (TEXT + "\n— PeterNeumann AAAAAA==\n").encode(),
    "non-canonical base64": (TEXT + "\n— PeterNeumann AAAAAAB=\n").encode(),
    "url base64": (TEXT + "\n" + PETER_SIG.replace("/", "_")).encode(),
    "tab": (TEXT.replace(" ", "\t") + "\n" + PETER_SIG).encode(),
    "carriage return": (TEXT + "\n" + PETER_SIG.replace("\n", "\r\n")).encode(),
}


@pytest.mark.parametrize("raw", BAD_NOTES.values(), ids=BAD_NOTES.keys())
def test_malformed_notes_are_refused(raw: bytes) -> None:
    with pytest.raises(InputError):
        Note.parse(raw)


def test_signature_count_is_bounded() -> None:
    ok = (TEXT + "\n" + PETER_SIG * MAX_NOTE_SIGNATURES).encode()
    assert len(Note.parse(ok).signatures) == MAX_NOTE_SIGNATURES
    with pytest.raises(InputError, match="more than 100"):
        Note.parse((TEXT + "\n" + PETER_SIG * (MAX_NOTE_SIGNATURES + 1)).encode())


def test_oversize_notes_are_refused_before_decoding() -> None:
    raw = b"x" * MAX_NOTE_BYTES + (TEXT + "\n" + PETER_SIG).encode()
    with pytest.raises(InputError, match="bytes, more than"):
        Note.parse(raw)


def test_note_values_are_checked_on_construction() -> None:
    sig = NoteSignature("a", b"\x00" * 4, b"\x01")
    with pytest.raises(UsageError):
        Note("no newline", (sig,))
    with pytest.raises(UsageError):
        Note("text\n", ())
    with pytest.raises(UsageError):
        NoteSignature("a b", b"\x00" * 4, b"\x01")
    with pytest.raises(UsageError):
        NoteSignature("a", b"\x00" * 3, b"\x01")
