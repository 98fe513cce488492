"""Errors raised by the Raft core and its drivers."""

from __future__ import annotations

from common.errors import CommonError, UsageError


class RaftError(CommonError):
    """Base of Raft errors."""


class NotLeader(RaftError):
    """This node cannot take the request; `leader_hint` names the leader if known ("" if not)."""

    def __init__(self, node_id: str, leader_hint: str, term: int) -> None:
        hint = f"; try {leader_hint}" if leader_hint else "; no leader known (election?)"
        super().__init__(f"node {node_id} is not the leader in term {term}{hint}")
        self.node_id = node_id
        self.leader_hint = leader_hint
        self.term = term


class ProposalDropped(RaftError):
    """The proposal was refused or lost (leadership changed, backlog full, transfer in progress).

    The command may or may not have been committed; clients retry with the same session id and
    sequence number so that a retry is applied at most once.
    """


class ConfChangeInProgress(UsageError, RaftError):
    """A membership change is already uncommitted; single-server changes go one at a time."""


class CorruptState(RaftError):
    """Stored state contradicts itself or the configuration; the node refuses to start."""


class RaftUsageError(UsageError, RaftError):
    """The caller used the Raft core wrongly (bad argument, call out of order)."""


class InvalidConfChange(RaftUsageError):
    """The membership change does not apply to the current configuration (Raft thesis §4.1)."""

    def __init__(self, change: object, reason: str) -> None:
        super().__init__(f"invalid membership change {change!r}: {reason}")
        self.change = change
        self.reason = reason


class InvalidTransferTarget(RaftUsageError):
    """Leadership can only move to a voter of the current configuration (Raft thesis §3.10)."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"cannot transfer leadership to {target!r}: {reason}")
        self.target = target
        self.reason = reason
