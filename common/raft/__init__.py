"""Raft consensus: a sans-I/O core (`core`), value types, a codec, storage and an asyncio driver."""

from common.raft.codec import DecodeError
from common.raft.core import RaftCore, RandomSource
from common.raft.errors import (
    ConfChangeInProgress,
    CorruptState,
    InvalidConfChange,
    InvalidTransferTarget,
    NotLeader,
    ProposalDropped,
    RaftError,
    RaftUsageError,
)
from common.raft.params import RaftParams
from common.raft.types import (
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    PersistentState,
    ReadState,
    Ready,
    Role,
    Snapshot,
    SnapshotMeta,
    SoftState,
)

__all__ = [
    "ConfChange",
    "ConfChangeInProgress",
    "ConfChangeType",
    "ConfState",
    "CorruptState",
    "DecodeError",
    "Entry",
    "EntryType",
    "HardState",
    "InvalidConfChange",
    "InvalidTransferTarget",
    "Message",
    "MessageType",
    "NotLeader",
    "PersistentState",
    "ProposalDropped",
    "RaftCore",
    "RaftError",
    "RaftParams",
    "RaftUsageError",
    "RandomSource",
    "ReadState",
    "Ready",
    "Role",
    "Snapshot",
    "SnapshotMeta",
    "SoftState",
]
