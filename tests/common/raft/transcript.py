"""A small interpreter for Raft transcript tests (in the style of etcd-io/raft's testdata).

A transcript is a sequence of blocks: a command line, a line `----`, the expected output, and
a blank line. Lines starting with `#` between blocks are comments. Node ids are "1", "2", ...
Every node uses `MinRandom`, so its election timeout is exactly `election` ticks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from common.errors import CommonError
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
    Ready,
    Snapshot,
)
from tests.common.raft.cluster import Cluster
from tests.common.raft.transcript_format import (
    fmt_entry,
    fmt_ids,
    fmt_message,
    fmt_meta,
    fmt_ready,
)

_TOKEN = re.compile(r"(\S+?=\([^)]*\)|\S+)")

# --- the interpreter --------------------------------------------------------------------------


@dataclass
class Command:
    name: str
    args: list[str]
    kwargs: dict[str, str]


def parse_command(line: str) -> Command:
    tokens = _TOKEN.findall(line)
    args, kwargs = [], {}
    for token in tokens[1:]:
        if "=" in token:
            key, value = token.split("=", 1)
            kwargs[key] = value
        else:
            args.append(token)
    return Command(tokens[0], args, kwargs)


def parse_list(value: str) -> list[str]:
    value = value.strip("()")
    return [v for v in value.split(",") if v]


def _flag(kwargs: dict[str, str], key: str, default: bool) -> bool:
    return kwargs.get(key, str(default).lower()) == "true"


class Interpreter:
    def __init__(self) -> None:
        self.cluster: Cluster | None = None
        self.out: list[str] = []
        self.stash: list[Message] = []

    @property
    def c(self) -> Cluster:
        assert self.cluster is not None, "add-nodes first"
        return self.cluster

    def run(self, line: str) -> str:
        self.out = []
        cmd = parse_command(line)
        handler: Callable[[Command], None] = getattr(self, "cmd_" + cmd.name.replace("-", "_"))
        try:
            handler(cmd)
        except CommonError as exc:
            self.out.append(f"error: {type(exc).__name__}: {exc}")
        return "\n".join(self.out) if self.out else "ok"

    # --- setup ---

    def _params(self, kw: dict[str, str]) -> RaftParams:
        return RaftParams(
            election_ticks=int(kw.get("election", 10)),
            heartbeat_ticks=int(kw.get("heartbeat", 1)),
            max_inflight=int(kw.get("inflight", 256)),
            max_msg_bytes=int(kw.get("max-msg-bytes", 1 << 20)),
            snapshot_chunk_bytes=int(kw.get("chunk", 512 << 10)),
            max_uncommitted_bytes=int(kw.get("max-uncommitted", 64 << 20)),
            pre_vote=_flag(kw, "pre-vote", True),
            check_quorum=_flag(kw, "check-quorum", True),
        )

    def cmd_add_nodes(self, cmd: Command) -> None:
        kw = cmd.kwargs
        if self.cluster is None:
            self.cluster = Cluster([], params=self._params(kw))
        conf = ConfState(
            frozenset(parse_list(kw.get("voters", "()"))),
            frozenset(parse_list(kw.get("learners", "()"))),
        )
        terms = [int(t) for t in parse_list(kw.get("log", "()"))]
        entries = tuple(Entry(i + 1, t, EntryType.NORMAL, b"") for i, t in enumerate(terms))
        term = int(kw.get("term", max(terms, default=0)))
        commit = int(kw.get("commit", 0))
        state = PersistentState(HardState(term, kw.get("vote", ""), commit), None, entries, conf)
        for _ in range(int(cmd.args[0])):
            node_id = str(len(self.c.nodes) + 1)
            self.c.add_node(node_id, conf, state)
            self._describe(node_id)

    def _describe(self, node_id: str) -> None:
        core = self.c.nodes[node_id]
        self.out.append(
            f"{node_id}: {core.role.name} term={core.term} commit={core.commit_index} "
            f"last={core.last_index} voters={fmt_ids(core.conf.voters)} "
            f"learners={fmt_ids(core.conf.learners)}"
        )

    # --- inputs ---

    def cmd_campaign(self, cmd: Command) -> None:
        self.c.nodes[cmd.args[0]].campaign()

    def cmd_propose(self, cmd: Command) -> None:
        index, term = self.c.nodes[cmd.args[0]].propose(cmd.args[1].encode())
        self.out.append(f"index={index} term={term}")

    def cmd_propose_conf_change(self, cmd: Command) -> None:
        kind = ConfChangeType[cmd.args[1].upper().replace("-", "_")]
        change = ConfChange(kind, cmd.args[2])
        index, term = self.c.nodes[cmd.args[0]].propose_conf_change(change)
        self.out.append(f"index={index} term={term}")

    def cmd_transfer_leadership(self, cmd: Command) -> None:
        self.c.nodes[cmd.kwargs["from"]].transfer_leadership(cmd.kwargs["to"])

    def cmd_read_index(self, cmd: Command) -> None:
        self.c.nodes[cmd.args[0]].read_index(cmd.args[1].encode())

    def cmd_compact(self, cmd: Command) -> None:
        node_id, index = cmd.args[0], int(cmd.args[1])
        self.c.nodes[node_id].compact(index, self.c.machines[node_id].snapshot())

    def _tick(self, cmd: Command, n: int) -> None:
        for node_id in cmd.args:
            self.c.tick(node_id, n)

    def cmd_tick(self, cmd: Command) -> None:
        self._tick(cmd, int(cmd.kwargs.get("n", 1)))

    def cmd_tick_election(self, cmd: Command) -> None:
        self._tick(cmd, self.c.params.election_ticks)

    def cmd_tick_heartbeat(self, cmd: Command) -> None:
        self._tick(cmd, self.c.params.heartbeat_ticks)

    # --- the network ---

    def _process_ready(self, node_id: str) -> bool:
        core = self.c.nodes[node_id]
        if not core.has_ready():
            return False
        captured: list[Ready] = []
        self.c.observers.append(lambda _id, rd: captured.append(rd))
        try:
            self.c.process_ready(node_id)
        finally:
            self.c.observers.pop()
        rd = captured[0]
        dropped = {i for i, m in enumerate(rd.messages) if self.c.cut(m)}
        self.out.extend(fmt_ready(node_id, rd, dropped))
        return True

    def cmd_process_ready(self, cmd: Command) -> None:
        for node_id in cmd.args or sorted(self.c.nodes):
            self._process_ready(node_id)

    def _deliver(self, node_id: str, type_name: str | None = None) -> bool:
        def wanted(m: Message) -> bool:
            return m.dst == node_id and (type_name is None or m.type.name == type_name)

        msgs = self.c.take(wanted)
        if not msgs:
            return False
        self.out.append(f"> {node_id} receiving messages")
        for m in msgs:
            self.out.append(f"  {fmt_message(m)}")
            self.c.deliver(m)
        return True

    def cmd_deliver_msgs(self, cmd: Command) -> None:
        for node_id in cmd.args or sorted(self.c.nodes):
            self._deliver(node_id, cmd.kwargs.get("type"))

    def cmd_drop_msgs(self, cmd: Command) -> None:
        kw = cmd.kwargs
        for m in self.c.take(lambda m: self._matches(kw, m)):
            self.out.append(f"dropped: {fmt_message(m)}")

    def cmd_stash_msgs(self, cmd: Command) -> None:
        """Take matching messages off the network (copy=true: leave them there too)."""
        kw = cmd.kwargs
        copy = _flag(kw, "copy", False)
        for m in [m for m in self.c.network if self._matches(kw, m)]:
            self.stash.append(m)
            if not copy:
                self.c.network.remove(m)
            self.out.append(f"stashed: {fmt_message(m)}")

    def cmd_unstash_msgs(self, cmd: Command) -> None:
        """Put stashed messages back on the network, after everything already there."""
        self.c.network.extend(self.stash)
        self.stash = []

    def cmd_inject_append(self, cmd: Command) -> None:
        """Deliver an APPEND built by hand: e.g. a delayed copy of an older one."""
        kw = cmd.kwargs
        prev_index, prev_term = (int(x) for x in kw["prev"].split("/"))
        first = prev_index + 1
        terms = [int(t) for t in parse_list(kw.get("entries", "()"))]
        entries = tuple(Entry(first + i, t, EntryType.NORMAL, b"") for i, t in enumerate(terms))
        m = Message(
            MessageType.APPEND,
            kw["from"],
            kw["to"],
            int(kw["term"]),
            log_index=prev_index,
            log_term=prev_term,
            entries=entries,
            commit=int(kw.get("commit", 0)),
        )
        self.out.append(f"> {m.dst} receiving {fmt_message(m)}")
        self.c.nodes[m.dst].step(m)

    @staticmethod
    def _matches(kw: dict[str, str], m: Message) -> bool:
        return (
            kw.get("from", m.src) == m.src
            and kw.get("to", m.dst) == m.dst
            and kw.get("type", m.type.name) == m.type.name
        )

    def cmd_stabilize(self, cmd: Command) -> None:
        ids = cmd.args or sorted(self.c.nodes)
        for _ in range(1000):
            progressed = False
            for node_id in ids:
                progressed = self._process_ready(node_id) or progressed
            for node_id in ids:
                progressed = self._deliver(node_id) or progressed
            if not progressed:
                return
        raise AssertionError("no fixpoint")

    def cmd_isolate(self, cmd: Command) -> None:
        self.c.isolated |= set(cmd.args)

    def cmd_heal(self, cmd: Command) -> None:
        self.c.isolated = set()

    def cmd_restart(self, cmd: Command) -> None:
        for node_id in cmd.args:
            self.c.restart(node_id)
            self._describe(node_id)

    # --- inspection ---

    def cmd_raft_state(self, cmd: Command) -> None:
        for node_id in sorted(self.c.nodes):
            core = self.c.nodes[node_id]
            self.out.append(
                f"{node_id}: {core.role.name} term={core.term} leader={core.leader_id or '-'} "
                f"commit={core.commit_index} applied={core.applied_index} last={core.last_index}"
            )

    def cmd_status(self, cmd: Command) -> None:
        status = self.c.nodes[cmd.args[0]].status()
        conf = status["conf"]
        assert isinstance(conf, dict)
        self.out.append(
            f"{status['id']}: {status['role']} term={status['term']}"
            f" leader={status['leader'] or '-'}"
            f" commit={status['commit']} applied={status['applied']} last={status['last_index']}"
            f" snapshot={status['snapshot_index']} voters={fmt_ids(conf['voters'])}"
            f" learners={fmt_ids(conf['learners'])}"
        )
        progress = status.get("progress", {})
        assert isinstance(progress, dict)
        for peer, p in progress.items():
            flags = [k for k in ("recent_active", "learner", "caught_up") if p[k]]
            self.out.append(
                f"  {peer}: match={p['match']} next={p['next']} {p['state']}"
                f" inflight={p['inflight']}" + "".join(f" {f}" for f in flags)
            )

    def cmd_log(self, cmd: Command) -> None:
        core = self.c.nodes[cmd.args[0]]
        log = core._node.log
        self.out.append(
            f"snapshot={log.snapshot_index}/{log.snapshot_term} commit={log.committed}"
            f" applied={log.applied} last={log.last_index}"
        )
        self.out.extend(fmt_entry(e) for e in log.entries)

    def cmd_applied(self, cmd: Command) -> None:
        machine = self.c.machines[cmd.args[0]]
        items = sorted(machine.applied.items())
        data = ", ".join(f"{i}:{d.decode()}" for i, (_t, d) in items)
        self.out.append(f"applied_index={machine.applied_index} [{data}]")

    def cmd_snapshot(self, cmd: Command) -> None:
        snap: Snapshot | None = self.c.nodes[cmd.args[0]].last_snapshot
        self.out.append("none" if snap is None else fmt_meta(snap.meta))


# --- files ------------------------------------------------------------------------------------


@dataclass
class Block:
    comments: list[str]
    command: str
    expected: str


def parse_file(text: str) -> tuple[list[Block], list[str]]:
    """Blocks, and the comment lines after the last block."""
    lines = text.splitlines()
    blocks: list[Block] = []
    comments: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            comments.append(line)
            i += 1
            continue
        if i + 1 >= len(lines) or lines[i + 1] != "----":
            raise ValueError(f"line {i + 1}: expected '----' after command {line!r}")
        j = i + 2
        while j < len(lines) and lines[j].strip():
            j += 1
        blocks.append(Block(comments, line, "\n".join(lines[i + 2 : j])))
        comments = []
        i = j
    return blocks, comments


def render_file(blocks: list[Block], outputs: list[str], trailer: list[str]) -> str:
    parts: list[str] = []
    for block, output in zip(blocks, outputs, strict=True):
        parts.extend(block.comments)
        parts.extend([block.command, "----", output])
    parts.extend(trailer)
    text = "\n".join(parts).rstrip("\n") + "\n"
    return text
