"""The replicated key-value state machine, fed with committed Raft entries (sans-I/O).

Invariants:
- `apply` never raises for any entry data: undecodable data yields BAD_COMMAND and leaves the
  state unchanged, so a committed entry has the same effect on every replica.
- Indexes only grow: `apply` and `mark_applied` refuse an index <= `applied_index` (a driver bug).
- Exactly-once per client session (Raft thesis §6.3): a retried command (same client_id and seq)
  returns the cached result without being applied again; an older seq gets STALE_REQUEST.
- At most `max_sessions` sessions are kept. The session whose last applied command has the
  oldest index is evicted first; that order depends only on the log, so every replica evicts
  the same session. Caveat, as in the thesis: a client whose session was evicted is not known
  any more, so its next command (whatever its seq) is applied as from a new session, and a retry
  of a command it had already applied before the eviction would be applied a second time.
  Keep `max_sessions` well above the number of concurrently active clients.
- `snapshot()` is deterministic: equal states give equal bytes and equal `digest()`.
"""

from __future__ import annotations

import hashlib

from common.errors import UsageError
from common.kv._codec import decode_command
from common.kv._errors import KvDecodeError
from common.kv._snapshot import Session, decode_snapshot, encode_snapshot
from common.kv._types import MAX_INDEX, MAX_VALUE_BYTES, KvCommand, KvOp, KvResult, KvStatus

MAX_SESSIONS = 10_000  # bounds memory and snapshot size; far above the clients of one cluster


class KvStateMachine:
    """Keys to values, plus the client sessions that make retried commands idempotent."""

    def __init__(self, *, max_sessions: int = MAX_SESSIONS) -> None:
        if type(max_sessions) is not int or max_sessions < 1:
            raise UsageError(f"max_sessions must be a positive int, got {max_sessions!r}")
        self._max_sessions = max_sessions
        self._data: dict[str, bytes] = {}
        # Insertion order == ascending index of the last applied command == eviction order.
        self._sessions: dict[str, Session] = {}
        self._applied_index = 0

    @property
    def applied_index(self) -> int:
        """The index of the last entry applied (or marked applied); 0 before the first."""
        return self._applied_index

    @property
    def max_sessions(self) -> int:
        return self._max_sessions

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> bytes | None:
        """The value of `key` as of `applied_index` (a local read, after a ReadIndex barrier)."""
        return self._data.get(key)

    def session_seq(self, client_id: str) -> int:
        """The last applied seq of `client_id`'s session; 0 if it has none (new or evicted)."""
        session = self._sessions.get(client_id)
        return 0 if session is None else session.seq

    def apply(self, index: int, data: bytes) -> KvResult:
        """Apply the payload of the committed NORMAL entry at `index`; never raises on `data`."""
        self._check_next_index(index)
        if type(data) is not bytes:
            raise UsageError(f"entry data must be bytes, got {type(data).__name__}")
        try:
            cmd = decode_command(data)
        except KvDecodeError:
            result = KvResult(KvStatus.BAD_COMMAND, index=index)
        else:
            result = self._apply_in_session(index, cmd)
        self._applied_index = index
        return result

    def mark_applied(self, index: int) -> None:
        """Record that the entry at `index` carried no command (a NOOP or CONF_CHANGE entry)."""
        self._check_next_index(index)
        self._applied_index = index

    def snapshot(self) -> bytes:
        """The whole state as canonical bytes, for `restore` on this or another replica."""
        return encode_snapshot(self._applied_index, self._data, self._sessions.items())

    def restore(self, data: bytes) -> None:
        """Replace the whole state by a snapshot; on `KvDecodeError` the state is unchanged."""
        image = decode_snapshot(data, max_sessions=self._max_sessions)
        self._data = image.data
        self._sessions = image.sessions
        self._applied_index = image.applied_index

    def digest(self) -> bytes:
        """SHA-256 of `snapshot()`: equal on replicas that applied the same log prefix."""
        return hashlib.sha256(self.snapshot()).digest()

    def _check_next_index(self, index: int) -> None:
        if type(index) is not int or not self._applied_index < index <= MAX_INDEX:
            raise UsageError(
                f"entry index must be in ({self._applied_index}, {MAX_INDEX}], got {index!r}"
            )

    def _apply_in_session(self, index: int, cmd: KvCommand) -> KvResult:
        if not cmd.client_id:
            return self._execute(index, cmd)
        session = self._sessions.get(cmd.client_id)
        if session is not None:
            if cmd.seq == session.seq:
                return session.result  # a retry: answer again, do not apply again (§6.3)
            if cmd.seq < session.seq:
                return KvResult(KvStatus.STALE_REQUEST, index=index)
            del self._sessions[cmd.client_id]  # re-inserted below, at the end of the order
        result = self._execute(index, cmd)
        self._sessions[cmd.client_id] = Session(cmd.seq, result)
        while len(self._sessions) > self._max_sessions:
            del self._sessions[next(iter(self._sessions))]  # the oldest last applied index
        return result

    def _execute(self, index: int, cmd: KvCommand) -> KvResult:
        current = self._data.get(cmd.key)
        if cmd.op is KvOp.GET:
            if current is None:
                return KvResult(KvStatus.NOT_FOUND, index=index)
            return KvResult(KvStatus.OK, current, index)
        if cmd.op is KvOp.PUT:
            self._data[cmd.key] = cmd.value
        elif cmd.op is KvOp.APPEND:
            joined = cmd.value if current is None else current + cmd.value
            if len(joined) > MAX_VALUE_BYTES:
                return KvResult(KvStatus.BAD_COMMAND, index=index)
            self._data[cmd.key] = joined
        elif cmd.op is KvOp.DELETE:
            if current is None:
                return KvResult(KvStatus.NOT_FOUND, index=index)
            del self._data[cmd.key]
        else:  # KvOp.CAS
            if current != cmd.expected:
                return KvResult(KvStatus.CAS_FAILED, current, index)
            self._data[cmd.key] = cmd.value
        return KvResult(KvStatus.OK, index=index)
