"""Feeding a log's checkpoint to witnesses and collecting their cosignatures (C2SP
tlog-witness, the client side a log or its operator runs).

A witness answers 409 with the size it already holds; the feeder then fetches the log's
consistency proof from that size (RFC 6962 get-sth-consistency) and asks again. At most
`MAX_ATTEMPTS` requests go to one witness per checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.checkpoint import Checkpoint
from ctlog.client import LogClient
from ctlog.errors import CtlogError
from ctlog.note import Note
from ctlog.witness.client import add_cosignatures, request_cosignature
from ctlog.witness.errors import OldSizeConflict

MAX_ATTEMPTS = 3  # from size 0, then from the witness's size; a third covers one race


@dataclass(frozen=True, slots=True)
class FeedResult:
    """The checkpoint note with every cosignature gathered, and each witness's outcome."""

    note: bytes
    cosigned_by: tuple[str, ...]
    failures: tuple[tuple[str, str], ...]  # (witness URL, one-line reason)


async def cosign_once(client: LogClient, note_bytes: bytes, witness_url: str) -> bytes:
    """The cosignature lines `witness_url` gives for the log's checkpoint `note_bytes`."""
    size = Checkpoint.from_note(Note.parse(note_bytes)).tree_size
    old = 0
    for _ in range(MAX_ATTEMPTS):
        proof: list[bytes] = []
        if 0 < old < size:
            proof = await client.get_sth_consistency(old, size)
        try:
            return await request_cosignature(witness_url, old, proof, note_bytes)
        except OldSizeConflict as exc:
            held = exc.witness_size
            if held is None or held == old or held > size:
                raise  # another root at this size, or a witness ahead of this checkpoint
            old = held
    raise OldSizeConflict(
        f"{witness_url} kept changing its size; gave up after {MAX_ATTEMPTS} attempts",
        witness_size=old,
    )


async def feed_witnesses(
    client: LogClient, note_bytes: bytes, witness_urls: Sequence[str]
) -> FeedResult:
    """Ask every witness in turn; a refusal is recorded, not fatal to the others."""
    note, cosigned, failures = note_bytes, [], []
    for url in witness_urls:
        try:
            note = add_cosignatures(note, await cosign_once(client, note_bytes, url))
            cosigned.append(url)
        except CtlogError as exc:
            failures.append((url, " ".join(str(exc).split())))
    return FeedResult(note, tuple(cosigned), tuple(failures))


__all__ = ["MAX_ATTEMPTS", "FeedResult", "cosign_once", "feed_witnesses"]
