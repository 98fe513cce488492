"""The replicated key-value store: a sans-I/O state machine fed by Raft, and its command codec.

A client's request becomes a `KvCommand`, is proposed to Raft as `encode_command(cmd)`, and once
committed every replica feeds the entry to `KvStateMachine.apply(index, data)`, which returns the
same `KvResult` everywhere. Client sessions make retries exactly-once (Raft thesis §6.3).
"""

from common.kv._codec import decode_command, decode_result, encode_command, encode_result
from common.kv._errors import KvCommandError, KvDecodeError, KvError
from common.kv._machine import MAX_SESSIONS, KvStateMachine
from common.kv._types import (
    MAX_CLIENT_ID_BYTES,
    MAX_KEY_BYTES,
    MAX_SEQ,
    MAX_VALUE_BYTES,
    KvCommand,
    KvOp,
    KvResult,
    KvStatus,
)

__all__ = [
    "MAX_CLIENT_ID_BYTES",
    "MAX_KEY_BYTES",
    "MAX_SEQ",
    "MAX_SESSIONS",
    "MAX_VALUE_BYTES",
    "KvCommand",
    "KvCommandError",
    "KvDecodeError",
    "KvError",
    "KvOp",
    "KvResult",
    "KvStateMachine",
    "KvStatus",
    "decode_command",
    "decode_result",
    "encode_command",
    "encode_result",
]
