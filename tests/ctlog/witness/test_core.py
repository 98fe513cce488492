"""The witness core against C2SP tlog-witness §add-checkpoint, one case per rule."""

from __future__ import annotations

import base64

import pytest

from ctlog.checkpoint import Checkpoint, RFC6962NoteSigner, sign_checkpoint
from ctlog.errors import InputError, UsageError
from ctlog.keys import LogSigningKey
from ctlog.merkle import EMPTY_ROOT
from ctlog.note import Note
from ctlog.witness import (
    MAX_PROOF_LINES,
    SIZE_CONTENT_TYPE,
    AddCheckpointRequest,
    LogUpdate,
    TreeState,
    WitnessCore,
    WitnessResponse,
    decode_cosignature,
    verify_cosigned,
)
from tests.ctlog.witness.helpers import (
    LOG_SIGNER,
    NOW_MS,
    ORIGIN,
    WITNESS_SIGNER,
    SignedTree,
    make_core,
    make_leaves,
)

LOG = SignedTree(make_leaves(20))


def submit(core: WitnessCore, body: bytes) -> WitnessResponse:
    """What a driver does: decide, persist (here: nothing), apply, answer."""
    response = core.add_checkpoint(body, NOW_MS)
    if response.update is not None:
        core.apply(response.update)
    return response


def advanced(size: int) -> WitnessCore:
    core = make_core()
    assert submit(core, LOG.request(0, size)).status == 200
    return core


def test_first_checkpoint_with_old_zero_is_cosigned() -> None:
    core = make_core()
    response = core.add_checkpoint(LOG.request(0, 5), NOW_MS)
    assert (response.status, response.content_type) == (200, "text/plain; charset=utf-8")
    assert response.update == LogUpdate(
        ORIGIN, TreeState(0, EMPTY_ROOT), TreeState(5, LOG.checkpoint(5).root_hash)
    )
    assert core.state(ORIGIN).tree_size == 0  # nothing changes before apply
    note = Note.parse(LOG.note(5)).format() + response.body
    report = verify_cosigned(note, LOG_SIGNER.verifier(), [WITNESS_SIGNER.verifier()], 1)
    assert report.cosigned == (("witness.example/w1", NOW_MS // 1000),)


def test_consistent_growth_is_cosigned_and_recorded() -> None:
    core = advanced(5)
    response = submit(core, LOG.request(5, 13))
    assert response.status == 200
    assert core.state(ORIGIN) == TreeState(13, LOG.checkpoint(13).root_hash)
    (line,) = response.body.decode().splitlines()
    assert line.startswith("— witness.example/w1 ")


def test_stale_old_size_gets_409_with_the_witness_size() -> None:
    core = advanced(8)
    response = core.add_checkpoint(LOG.request(5, 13), NOW_MS)
    assert (response.status, response.content_type, response.body) == (
        409,
        SIZE_CONTENT_TYPE,
        b"8\n",
    )
    assert response.update is None
    response = core.add_checkpoint(LOG.request(0, 13), NOW_MS)  # a client learning the size
    assert (response.status, response.body) == (409, b"8\n")


def test_old_size_above_checkpoint_size_is_400() -> None:
    core = advanced(8)
    body = AddCheckpointRequest(8, (), Note.parse(LOG.note(5))).serialize()
    response = core.add_checkpoint(body, NOW_MS)
    assert response.status == 400 and b"old size 8 > checkpoint size" in response.body


def test_smaller_checkpoint_than_witnessed_is_refused() -> None:
    core = advanced(8)
    assert core.add_checkpoint(LOG.request(5, 5), NOW_MS).status == 409
    assert core.state(ORIGIN).tree_size == 8


def test_bad_consistency_proof_is_422() -> None:
    core = advanced(5)
    proof = LOG.proof(5, 13)
    proof[0] = bytes(32)
    body = AddCheckpointRequest(5, tuple(proof), Note.parse(LOG.note(13))).serialize()
    response = core.add_checkpoint(body, NOW_MS)
    assert response.status == 422 and b"consistency proof" in response.body
    assert core.state(ORIGIN).tree_size == 5


def test_fork_of_the_log_is_422() -> None:
    core = advanced(5)
    fork = SignedTree(LOG.leaves[:3] + make_leaves(17, b"fork"))
    assert submit(core, fork.request(5, 13)).status == 422


def test_old_zero_needs_an_empty_proof() -> None:
    proof = (LOG.checkpoint(1).root_hash,)
    body = AddCheckpointRequest(0, proof, Note.parse(LOG.note(5))).serialize()
    response = make_core().add_checkpoint(body, NOW_MS)
    assert response.status == 422 and b"must be empty" in response.body


def test_size_zero_checkpoint_must_carry_the_empty_root() -> None:
    good = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG_SIGNER, 1)
    bad = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), LOG_SIGNER, 1)
    core = make_core()
    assert (
        core.add_checkpoint(AddCheckpointRequest(0, (), Note.parse(bad)).serialize(), NOW_MS).status
        == 422
    )
    assert submit(core, AddCheckpointRequest(0, (), Note.parse(good)).serialize()).status == 200


def test_same_size_same_root_is_cosigned_again_without_an_update() -> None:
    core = advanced(8)
    response = core.add_checkpoint(LOG.request(8, 8), NOW_MS + 5000)
    assert response.status == 200 and response.update is None
    assert (
        decode_cosignature(Note.parse(LOG.note(8) + response.body).signatures[-1].signature)[0]
        == (NOW_MS + 5000) // 1000
    )


def test_same_size_other_root_is_409_and_equal_sizes_need_no_proof() -> None:
    core = advanced(8)
    fork = SignedTree(make_leaves(8, b"fork"))
    response = core.add_checkpoint(fork.request(8, 8), NOW_MS)
    assert response.status == 409 and response.content_type != SIZE_CONTENT_TYPE
    proof = (bytes(32),)
    body = AddCheckpointRequest(8, proof, Note.parse(LOG.note(8))).serialize()
    assert core.add_checkpoint(body, NOW_MS).status == 422


def test_unknown_origin_is_404() -> None:
    stranger = RFC6962NoteSigner(LogSigningKey.generate(), "other.example/log")
    raw = sign_checkpoint(Checkpoint("other.example/log", 1, bytes(32)), stranger, 1)
    response = make_core().add_checkpoint(
        AddCheckpointRequest(0, (), Note.parse(raw)).serialize(), NOW_MS
    )
    assert response.status == 404 and b"other.example/log" in response.body


def test_wrong_log_key_is_403() -> None:
    impostor = RFC6962NoteSigner(LogSigningKey.generate(), ORIGIN)
    raw = sign_checkpoint(LOG.checkpoint(5), impostor, 1)
    response = make_core().add_checkpoint(
        AddCheckpointRequest(0, (), Note.parse(raw)).serialize(), NOW_MS
    )
    assert response.status == 403 and response.update is None


def test_known_key_with_a_bad_signature_is_403() -> None:
    note = Note.parse(LOG.note(5))
    sig = note.signatures[0]
    broken = Note(note.text.replace("\n5\n", "\n6\n"), note.signatures)
    assert sig.name == ORIGIN
    response = make_core().add_checkpoint(AddCheckpointRequest(0, (), broken).serialize(), NOW_MS)
    assert response.status == 403


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


NOTE5 = LOG.note(5).decode()
MALFORMED = {
    "empty": "",
    "no old line": "\n" + NOTE5,
    "no blank line": "old 0\n" + NOTE5.replace("\n\n", "\n"),
    "leading zero": "old 00\n\n" + NOTE5,
    "old without space": "old0\n\n" + NOTE5,
    "negative": "old -1\n\n" + NOTE5,
    "short proof hash": f"old 0\n{_b64(bytes(31))}\n\n" + NOTE5,
    "proof not base64": "old 0\n!!!!\n\n" + NOTE5,
    "too many proof lines": "old 0\n"
    + f"{_b64(bytes(32))}\n" * (MAX_PROOF_LINES + 1)
    + "\n"
    + NOTE5,
    "note without signature": "old 0\n\n" + NOTE5.split("\n\n")[0] + "\n",
    "not a checkpoint": "old 0\n\nhello\n\n" + NOTE5.split("\n\n")[1],
    "non utf-8": "old 0\n\n" + NOTE5.replace("log.example", "log.\udcffexample"),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_requests_are_400(body: str) -> None:
    response = make_core().add_checkpoint(body.encode("utf-8", "surrogateescape"), NOW_MS)
    assert response.status == 400 and response.update is None
    assert response.body.endswith(b"\n") and response.body.count(b"\n") == 1


def test_the_checks_run_in_the_spec_order() -> None:
    """403 before 400 (old > size) before 409 (old size) before 422 (proof)."""
    core = advanced(8)
    impostor = RFC6962NoteSigner(LogSigningKey.generate(), ORIGIN)
    forged = sign_checkpoint(LOG.checkpoint(5), impostor, 1)
    assert (
        core.add_checkpoint(
            AddCheckpointRequest(9, (), Note.parse(forged)).serialize(), NOW_MS
        ).status
        == 403
    )
    assert (
        core.add_checkpoint(
            AddCheckpointRequest(9, (), Note.parse(LOG.note(5))).serialize(), NOW_MS
        ).status
        == 400
    )
    junk = (bytes(32),)
    assert (
        core.add_checkpoint(
            AddCheckpointRequest(3, junk, Note.parse(LOG.note(13))).serialize(), NOW_MS
        ).status
        == 409
    )


def test_apply_refuses_a_stale_update() -> None:
    core = make_core()
    first = core.add_checkpoint(LOG.request(0, 5), NOW_MS)
    second = core.add_checkpoint(LOG.request(0, 9), NOW_MS)
    assert first.update is not None and second.update is not None
    core.apply(second.update)
    with pytest.raises(UsageError, match="stale update"):
        core.apply(first.update)
    assert core.state(ORIGIN).tree_size == 9


def test_origin_hint_picks_known_origins_only() -> None:
    core = make_core()
    assert core.origin_hint(LOG.request(0, 5)) == ORIGIN
    assert core.origin_hint(b"old 0\n\nother\n") is None
    assert core.origin_hint(b"garbage") is None


def test_tree_state_round_trips_strictly() -> None:
    state = TreeState(7, bytes(range(32)))
    assert TreeState.deserialize(state.serialize()) == state
    for bad in (
        state.serialize()[:-1],
        state.serialize() + b"\x00",
        b"\x02" + state.serialize()[1:],
    ):
        with pytest.raises(InputError):
            TreeState.deserialize(bad)
