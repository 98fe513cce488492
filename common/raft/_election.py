"""Role transitions and leader election (Raft §5.2, §5.4.1; thesis §9.6 pre-vote).

Invariants: `term` only grows; `vote` is cleared exactly when `term` changes; only voters of
the node's current configuration campaign, and only votes from voters are counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from common.raft._progress import Progress
from common.raft._state import CAMPAIGN_TRANSFER, AppendNeed, NodeState
from common.raft.types import Entry, EntryType, Message, MessageType, Role


class CampaignKind(IntEnum):
    PRE_ELECTION = 0  # ask with term + 1 first, without changing our term (thesis §9.6)
    ELECTION = 1
    TRANSFER = 2  # forced by TIMEOUT_NOW: skip pre-vote, override leader stickiness (§3.10)


class VoteResult(IntEnum):
    PENDING = 0
    WON = 1
    LOST = 2


def reset(node: NodeState, term: int) -> None:
    if node.term != term:
        node.term = term
        node.vote = ""
    node.leader_id = ""
    node.election_elapsed = 0
    node.heartbeat_elapsed = 0
    node.reset_randomized_timeout()
    node.lead_transferee = ""
    node.votes = {}
    node.progress = {}
    node.pending_append = {}
    node.read_only.reset()
    node.uncommitted_bytes = 0
    node.stepping_down = False
    node.departing = False


def become_follower(node: NodeState, term: int, leader_id: str) -> None:
    reset(node, term)
    node.leader_id = leader_id
    node.role = node.follower_role()


def become_pre_candidate(node: NodeState) -> None:
    # Neither term nor vote changes: a pre-election disturbs nobody (thesis §9.6).
    node.role = Role.PRE_CANDIDATE
    node.votes = {}
    node.leader_id = ""


def become_candidate(node: NodeState) -> None:
    reset(node, node.term + 1)
    node.vote = node.id
    node.role = Role.CANDIDATE


def become_leader(node: NodeState) -> None:
    reset(node, node.term)
    node.leader_id = node.id
    node.role = Role.LEADER
    log = node.log
    last = log.last_index
    for peer in sorted(node.conf.members - {node.id}):
        node.progress[peer] = Progress(
            last + 1, node.params.max_inflight, is_learner=peer in node.conf.learners
        )
    node.pending_conf_index = last
    # A NOOP of the new term lets the leader commit entries of earlier terms (§5.4.2, §8).
    log.append([Entry(last + 1, node.term, EntryType.NOOP)])
    node.need_append_all(AppendNeed.ALWAYS)


def campaign(node: NodeState, kind: CampaignKind) -> None:
    if not node.promotable() or node.role is Role.LEADER:
        return
    if kind is CampaignKind.PRE_ELECTION:
        become_pre_candidate(node)
        mtype, term = MessageType.PRE_VOTE, node.term + 1
    else:
        become_candidate(node)
        mtype, term = MessageType.VOTE, node.term
    if _record_vote(node, node.id, granted=True) is VoteResult.WON:
        _won(node)
        return
    context = CAMPAIGN_TRANSFER if kind is CampaignKind.TRANSFER else b""
    log = node.log
    for peer in sorted(node.conf.voters):
        if peer != node.id:
            node.send(
                mtype,
                peer,
                term=term,
                log_index=log.last_index,
                log_term=log.last_term,
                context=context,
            )


def _record_vote(node: NodeState, voter: str, *, granted: bool) -> VoteResult:
    node.votes.setdefault(voter, granted)
    voters = node.conf.voters
    yes = sum(1 for v, g in node.votes.items() if g and v in voters)
    no = sum(1 for v, g in node.votes.items() if not g and v in voters)
    if yes >= node.quorum():
        return VoteResult.WON
    if no > len(voters) - node.quorum():
        return VoteResult.LOST
    return VoteResult.PENDING


def _won(node: NodeState) -> None:
    if node.role is Role.PRE_CANDIDATE:
        campaign(node, CampaignKind.ELECTION)
    else:
        become_leader(node)


def handle_vote_response(node: NodeState, m: Message) -> None:
    if m.src not in node.conf.voters:
        return
    result = _record_vote(node, m.src, granted=not m.reject)
    if result is VoteResult.WON:
        _won(node)
    elif result is VoteResult.LOST:
        become_follower(node, node.term, "")


def handle_vote_request(node: NodeState, m: Message) -> None:
    """Grant at most one vote per term, to an up-to-date log (Raft §5.2, §5.4.1)."""
    pre = m.type is MessageType.PRE_VOTE
    resp = MessageType.PRE_VOTE_RESP if pre else MessageType.VOTE_RESP
    can_vote = (
        node.vote == m.src
        or (node.vote == "" and node.leader_id == "")
        or (pre and m.term > node.term)
    )
    if can_vote and node.log.is_up_to_date(m.log_index, m.log_term):
        node.send(resp, m.src, term=m.term)
        if not pre:
            node.election_elapsed = 0
            node.vote = m.src
    else:
        node.send(resp, m.src, reject=True)


def tick_election(node: NodeState) -> None:
    """Followers, candidates and learners: campaign after a randomized timeout (Raft §5.2)."""
    node.election_elapsed += 1
    if node.promotable() and node.election_elapsed >= node.randomized_timeout:
        node.election_elapsed = 0
        pre = node.params.pre_vote
        campaign(node, CampaignKind.PRE_ELECTION if pre else CampaignKind.ELECTION)


def apply_conf_entries(node: NodeState, entries: Iterable[Entry]) -> None:
    """CONF_CHANGE entries take effect as soon as they are appended (thesis §4.1)."""
    changed = False
    for e in entries:
        if e.type is EntryType.CONF_CHANGE:
            changed = node.confs.apply(e) or changed
            node.pending_conf_index = max(node.pending_conf_index, e.index)
    if changed:
        conf_changed(node)


def conf_changed(node: NodeState) -> None:
    """Adapt the role and, on a leader, the follower progress to a new configuration."""
    if node.role is Role.LEADER:
        _sync_progress(node)
    elif node.role in (Role.PRE_CANDIDATE, Role.CANDIDATE) and not node.promotable():
        become_follower(node, node.term, "")
    elif node.role in (Role.FOLLOWER, Role.LEARNER):
        node.role = node.follower_role()


def _sync_progress(node: NodeState) -> None:
    conf = node.conf
    for peer, pr in node.progress.items():
        if peer not in conf.members and not pr.departing_at:
            # Keep replicating until the removal commits, so the removed node learns that it
            # is out and stops campaigning; `flush` forgets it afterwards.
            pr.departing_at = node.confs.last_index
            node.departing = True
    last = node.log.last_index
    for peer in sorted(conf.members - {node.id}):
        member = node.progress.get(peer)
        if member is None:
            member = Progress(last, node.params.max_inflight, is_learner=True)
            member.recent_active = True  # do not let check-quorum count a newcomer as dead
            node.progress[peer] = member
            node.need_append(peer, AppendNeed.ALWAYS)
        member.is_learner = peer in conf.learners
        member.departing_at = 0
    if node.lead_transferee not in conf.voters:
        node.lead_transferee = ""
