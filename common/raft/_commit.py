"""The leader's commit rule (Raft §5.3, §5.4.2) and what follows a follower's progress.

An index is committed once a quorum of voters has it on stable storage and it belongs to the
leader's current term. The leader counts itself only through `log.stable_index` (what the
driver has persisted), never through entries it merely holds in memory.
"""

from __future__ import annotations

from common.raft._progress import Progress, ProgressState
from common.raft._read_only import release_waiting
from common.raft._state import AppendNeed, NodeState
from common.raft.types import MessageType


def maybe_commit(node: NodeState) -> bool:
    """Advance the commit index if a quorum persisted a current-term entry; True if it moved."""
    log = node.log
    voters = node.conf.voters
    if not voters:
        return False
    matches = []
    for voter in voters:
        if voter == node.id:
            matches.append(log.stable_index)
        else:
            pr = node.progress.get(voter)
            matches.append(pr.match if pr is not None else 0)
    matches.sort(reverse=True)
    index = matches[node.quorum() - 1]
    if index <= log.committed or log.term(index) != node.term:
        return False  # Raft §5.4.2: never count replicas for an entry of an earlier term
    old = log.committed
    log.commit_to(index)
    _committed(node, old)
    return True


def _committed(node: NodeState, old: int) -> None:
    log = node.log
    lo, hi = old - log.snapshot_index, log.committed - log.snapshot_index
    node.uncommitted_bytes = max(
        0, node.uncommitted_bytes - sum(len(e.data) for e in log.entries[lo:hi])
    )
    release_waiting(node)
    if node.id not in node.conf.voters and log.committed >= node.pending_conf_index:
        node.stepping_down = True  # thesis §4.2.2: after telling the followers the commit
    node.need_append_all(AppendNeed.COMMIT)


def on_progress(node: NodeState, to: str, pr: Progress, index: int) -> None:
    """Follower `to` is known to hold the leader's log through `index`."""
    if pr.state is ProgressState.PROBE:
        pr.become_replicate()
    elif pr.state is ProgressState.REPLICATE:
        pr.free_inflights(index)
    elif pr.snapshot is not None and pr.match >= pr.snapshot.meta.index:
        pr.become_replicate()
    maybe_commit(node)
    node.need_append(to, AppendNeed.ENTRIES)
    if to == node.lead_transferee and pr.match == node.log.last_index:
        node.send(MessageType.TIMEOUT_NOW, to)  # the target is up to date (thesis §3.10)
