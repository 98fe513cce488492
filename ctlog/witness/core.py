"""The witness as a sans-I/O state machine (C2SP tlog-witness §add-checkpoint).

`WitnessCore` knows which logs it witnesses (origin -> the note verifiers of the log's keys),
its own cosigning keys, and the latest (size, root) it cosigned per origin. `add_checkpoint`
takes a request body and the time, and returns a `WitnessResponse`; it never changes state
itself. Ordering contract, stated once: when a response carries an `update`, the driver
persists it (one synced write) and then calls `apply(update)` BEFORE it sends the response,
and it runs add_checkpoint → persist → apply for one origin strictly one request at a time.
`apply` refuses an update computed against a state that has since changed, so a driver that
breaks the contract fails loudly instead of rolling the witness back.

Checks, in the order the spec states them: malformed request 400, unknown origin 404, no
trusted log signature 403, old size above the checkpoint size 400, old size not the size we
cosigned last 409 (`text/x.tlog.size` body), consistency proof not verifying 422 (and with old
size 0 the proof must be empty, and a size-0 checkpoint must carry the empty-tree root), same
size with another root 409, else 200 with one cosignature line per witness key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ctlog.checkpoint import Checkpoint
from ctlog.errors import InputError, ProofError, SignatureError, UsageError
from ctlog.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from ctlog.note import NoteVerifier, verify_note
from ctlog.sth import MAX_UINT64
from ctlog.tls import Reader, uint
from ctlog.witness.cosignature import CosignatureSigner
from ctlog.witness.request import (
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    AddCheckpointRequest,
    format_size_body,
)

TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
STATE_VERSION = 1  # first byte of a stored TreeState, so the encoding can change later


@dataclass(frozen=True, slots=True)
class TreeState:
    """The latest checkpoint a witness cosigned for one log: its size and root hash."""

    tree_size: int
    root_hash: bytes

    def __post_init__(self) -> None:
        if isinstance(self.tree_size, bool) or not 0 <= self.tree_size <= MAX_UINT64:
            raise UsageError("tree size is a uint64")
        if len(self.root_hash) != HASH_SIZE:
            raise UsageError(f"root hash must be {HASH_SIZE} bytes")

    def serialize(self) -> bytes:
        return uint(STATE_VERSION, 1) + uint(self.tree_size, 8) + self.root_hash

    @classmethod
    def deserialize(cls, buf: bytes) -> TreeState:
        reader = Reader(buf, "stored witness state")
        version = reader.u8()
        if version != STATE_VERSION:
            raise InputError(f"stored witness state has unknown version {version}")
        state = cls(reader.u64(), reader.fixed(HASH_SIZE))
        reader.finish()
        return state


NEVER_COSIGNED = TreeState(0, EMPTY_ROOT)  # tlog-witness: "or zero if it never cosigned"


@dataclass(frozen=True, slots=True)
class LogUpdate:
    """A state change for `origin`, computed against `previous`."""

    origin: str
    previous: TreeState
    new: TreeState


@dataclass(frozen=True, slots=True)
class WitnessResponse:
    """The HTTP answer to one request. If `update` is set: persist it, `apply` it, then send.
    `reason` is a one-line explanation for logs (it is also the body of error answers)."""

    status: int
    content_type: str
    body: bytes
    update: LogUpdate | None = None
    reason: str = ""


def _error(status: int, reason: str) -> WitnessResponse:
    reason = " ".join(reason.split())
    return WitnessResponse(status, TEXT_CONTENT_TYPE, f"{reason}\n".encode(), None, reason)


class WitnessCore:
    """Decides add-checkpoint requests; holds the cosigned state but changes it only in
    `apply`. Not thread-safe: the driver serializes calls per origin."""

    __slots__ = ("_logs", "_signers", "_state")

    def __init__(
        self,
        logs: Mapping[str, Sequence[NoteVerifier]],
        signers: Sequence[CosignatureSigner],
        state: Mapping[str, TreeState] | None = None,
    ) -> None:
        if not signers:
            raise UsageError("a witness needs at least one cosigning key")
        if any(not verifiers for verifiers in logs.values()):
            raise UsageError("every witnessed log needs at least one public key")
        self._logs = {origin: tuple(verifiers) for origin, verifiers in logs.items()}
        self._signers = tuple(signers)
        self._state = {o: s for o, s in (state or {}).items() if o in self._logs}

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(self._logs)

    def state(self, origin: str) -> TreeState:
        """The latest checkpoint cosigned for `origin` (size 0 if none)."""
        return self._state.get(origin, NEVER_COSIGNED)

    def origin_hint(self, body: bytes) -> str | None:
        """The known origin a request body names, read cheaply so a driver can pick the
        per-origin lock before deciding; None for bodies that cannot change any state."""
        _, _, note = body[:MAX_REQUEST_BYTES].partition(b"\n\n")
        try:
            origin = note.partition(b"\n")[0].decode("utf-8")
        except UnicodeDecodeError:
            return None
        return origin if origin in self._logs else None

    def apply(self, update: LogUpdate) -> None:
        """Record a persisted update; refuse one computed against a state that changed since."""
        if update.origin not in self._logs:
            raise UsageError(f"update for unknown origin {update.origin!r}")
        current = self.state(update.origin)
        if current != update.previous:
            raise UsageError(
                f"stale update for {update.origin!r}: computed against size "
                f"{update.previous.tree_size}, state is now {current.tree_size}"
            )
        self._state[update.origin] = update.new

    def add_checkpoint(self, body: bytes, now_ms: int) -> WitnessResponse:
        """Decide one add-checkpoint request (C2SP tlog-witness §add-checkpoint)."""
        if isinstance(now_ms, bool) or not isinstance(now_ms, int) or now_ms < 0:
            raise UsageError("now_ms is a non-negative integer number of milliseconds")
        try:
            request = AddCheckpointRequest.parse(body)
            checkpoint = Checkpoint.from_note(request.note)
        except InputError as exc:
            return _error(400, f"malformed request: {exc}")
        verifiers = self._logs.get(checkpoint.origin)
        if verifiers is None:
            return _error(404, f"unknown log origin {checkpoint.origin!r}")
        try:
            verify_note(request.note, verifiers)
        except SignatureError as exc:
            return _error(403, f"log signature does not verify: {exc}")
        if request.old_size > checkpoint.tree_size:
            return _error(400, f"old size {request.old_size} > checkpoint size")
        stored = self.state(checkpoint.origin)
        if request.old_size != stored.tree_size:
            reason = f"old size {request.old_size} is not the witnessed size {stored.tree_size}"
            body = format_size_body(stored.tree_size)
            return WitnessResponse(409, SIZE_CONTENT_TYPE, body, None, reason)
        refused = _check_consistency(stored, checkpoint, request.proof)
        if refused is not None:
            return refused
        return self._cosign(checkpoint, stored, now_ms)

    def _cosign(self, checkpoint: Checkpoint, stored: TreeState, now_ms: int) -> WitnessResponse:
        timestamp_s = now_ms // 1000  # tlog-cosignature: a POSIX timestamp, in seconds
        text = checkpoint.format()
        lines = "".join(s.cosign(text, timestamp_s).line() + "\n" for s in self._signers)
        new = TreeState(checkpoint.tree_size, checkpoint.root_hash)
        update = None if new == stored else LogUpdate(checkpoint.origin, stored, new)
        reason = f"cosigned size {new.tree_size} (was {stored.tree_size})"
        return WitnessResponse(200, TEXT_CONTENT_TYPE, lines.encode(), update, reason)


def _check_consistency(
    stored: TreeState, checkpoint: Checkpoint, proof: tuple[bytes, ...]
) -> WitnessResponse | None:
    """None if `checkpoint` extends `stored` as `proof` shows, else the refusal."""
    if stored.tree_size == 0:
        if proof:
            return _error(422, "the consistency proof must be empty when the old size is 0")
        if checkpoint.tree_size == 0 and checkpoint.root_hash != EMPTY_ROOT:
            return _error(422, "a checkpoint of size 0 must carry the empty tree's root")
        return None
    if stored.tree_size == checkpoint.tree_size:
        if proof:
            return _error(422, "the consistency proof must be empty between equal sizes")
        if checkpoint.root_hash != stored.root_hash:
            return _error(409, f"another root hash for the witnessed size {stored.tree_size}")
        return None
    try:
        verify_consistency(
            stored.tree_size, checkpoint.tree_size, stored.root_hash, checkpoint.root_hash, proof
        )
    except ProofError as exc:
        return _error(422, f"consistency proof does not verify: {exc}")
    return None


__all__ = [
    "NEVER_COSIGNED",
    "TEXT_CONTENT_TYPE",
    "LogUpdate",
    "TreeState",
    "WitnessCore",
    "WitnessResponse",
]
