"""Bad input never crashes: random and mutated bytes get a 4xx or `InputError`, and whatever
parses formats back to the same bytes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctlog.checkpoint import Checkpoint
from ctlog.errors import InputError
from ctlog.note import Note, NoteSignature
from ctlog.witness import AddCheckpointRequest
from tests.ctlog.witness.helpers import NOW_MS, SignedTree, make_core, make_leaves

TREE = SignedTree(make_leaves(12))
VALID = TREE.request(0, 7)
CORE = make_core()  # never applied to: every request is decided against the empty state

names = st.text(
    st.characters(blacklist_categories=["Z", "C"], blacklist_characters="+"), min_size=1
)
lines = st.text(st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1).filter(
    lambda s: "\n" not in s
)


@given(st.binary(max_size=600))
def test_random_bytes_never_crash_the_note_parser(raw: bytes) -> None:
    try:
        note = Note.parse(raw)
    except InputError:
        return
    assert note.format() == raw


@given(st.lists(lines, max_size=6), names, st.binary(min_size=1, max_size=80))
def test_notes_round_trip(text_lines: list[str], name: str, sig: bytes) -> None:
    text = "".join(line + "\n" for line in text_lines)
    note = Note(text or "\n", (NoteSignature(name, b"\x01\x02\x03\x04", sig),))
    assert Note.parse(note.format()) == note


@given(lines, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32), st.lists(lines))
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.parse(checkpoint.format()) == checkpoint


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(st.data())
def test_mutated_requests_get_a_4xx_and_no_update(data: st.DataObject) -> None:
    body = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(body) - 1))
        body[i] = data.draw(st.integers(0, 255))
    response = CORE.add_checkpoint(bytes(body), NOW_MS)
    if response.status == 200:  # a flip that changed nothing that is signed or checked
        assert AddCheckpointRequest.parse(bytes(body)).note.text == Note.parse(TREE.note(7)).text
    else:
        assert response.status in (400, 403, 404, 409, 422) and response.update is None


@given(st.binary(max_size=400))
def test_random_requests_get_a_4xx(body: bytes) -> None:
    response = CORE.add_checkpoint(b"old 0\n\n" + body, NOW_MS)
    assert response.status in (400, 403, 404) and response.update is None
