"""Message dispatch: the term rules every message passes first, then one step per role.

Term rules (Raft §5.1, thesis §9.6 and §6.2, as in etcd-io/raft):
- A higher-term (pre-)vote request is ignored while we heard from a live leader within the
  minimum election timeout (leader stickiness), unless forced by leadership transfer.
- A higher term makes us a follower, except for PRE_VOTE (a pre-election changes no term) and
  granted PRE_VOTE_RESP (the pre-candidate adopts the term only when it really campaigns).
- A lower-term APPEND or HEARTBEAT is answered so that a stale leader learns the new term and
  steps down; a lower-term PRE_VOTE is rejected with our term; everything else is ignored.
"""

from __future__ import annotations

from common.raft._election import (
    CampaignKind,
    become_follower,
    campaign,
    handle_vote_request,
    handle_vote_response,
)
from common.raft._follower import handle_append, handle_heartbeat
from common.raft._replication import handle_append_response, handle_heartbeat_response
from common.raft._snapshot import handle_snapshot, handle_snapshot_response
from common.raft._state import CAMPAIGN_TRANSFER, NodeState
from common.raft.types import Message, MessageType, Role

_VOTE_REQUESTS = (MessageType.PRE_VOTE, MessageType.VOTE)
_FROM_LEADER = (MessageType.APPEND, MessageType.HEARTBEAT, MessageType.SNAPSHOT)


def step(node: NodeState, m: Message) -> None:
    if m.dst != node.id or m.src == node.id:
        return
    if m.term > node.term:
        if not _accept_higher_term(node, m):
            return
    elif m.term < node.term:
        _answer_lower_term(node, m)
        return
    if m.type in _VOTE_REQUESTS:
        handle_vote_request(node, m)
    elif node.role is Role.LEADER:
        step_leader(node, m)
    elif node.role in (Role.PRE_CANDIDATE, Role.CANDIDATE):
        step_candidate(node, m)
    else:
        step_follower(node, m)


def _accept_higher_term(node: NodeState, m: Message) -> bool:
    if m.type in _VOTE_REQUESTS:
        forced = m.context == CAMPAIGN_TRANSFER
        in_lease = (
            node.params.check_quorum
            and node.leader_id != ""
            and node.election_elapsed < node.params.election_ticks
        )
        if in_lease and not forced:
            return False  # leader stickiness (thesis §4.2.3, §9.6)
    if m.type is MessageType.PRE_VOTE:
        return True
    if m.type is MessageType.PRE_VOTE_RESP and not m.reject:
        return True
    become_follower(node, m.term, m.src if m.type in _FROM_LEADER else "")
    return True


def _answer_lower_term(node: NodeState, m: Message) -> None:
    if m.type in (MessageType.APPEND, MessageType.HEARTBEAT):
        if node.params.check_quorum or node.params.pre_vote:
            node.send(MessageType.APPEND_RESP, m.src)  # lets a stale leader step down
    elif m.type is MessageType.PRE_VOTE:
        node.send(MessageType.PRE_VOTE_RESP, m.src, reject=True)


def step_leader(node: NodeState, m: Message) -> None:
    if m.type is MessageType.APPEND_RESP:
        handle_append_response(node, m)
    elif m.type is MessageType.HEARTBEAT_RESP:
        handle_heartbeat_response(node, m)
    elif m.type is MessageType.SNAPSHOT_RESP:
        handle_snapshot_response(node, m)


def step_candidate(node: NodeState, m: Message) -> None:
    if m.type in _FROM_LEADER:
        become_follower(node, m.term, m.src)  # a leader of our term won (Raft §5.2)
        step_follower(node, m)
        return
    wanted = MessageType.PRE_VOTE_RESP if node.role is Role.PRE_CANDIDATE else MessageType.VOTE_RESP
    if m.type is wanted:
        handle_vote_response(node, m)


def step_follower(node: NodeState, m: Message) -> None:
    if m.type in _FROM_LEADER:
        node.election_elapsed = 0
        node.leader_id = m.src
        if m.type is MessageType.APPEND:
            handle_append(node, m)
        elif m.type is MessageType.HEARTBEAT:
            handle_heartbeat(node, m)
        else:
            handle_snapshot(node, m)
    elif m.type is MessageType.TIMEOUT_NOW and node.promotable():
        campaign(node, CampaignKind.TRANSFER)  # thesis §3.10
