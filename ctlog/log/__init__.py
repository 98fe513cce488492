"""The replicated CT log: Raft commands, the state machine, the pool and the tree-head rule.

Pure (sans-I/O) modules: `entry` (a submission's prepared form), `codec` (Raft commands),
`storage` (key layout and reads over a `Store`), `machine` (the replicated state machine),
`pool` (the leader's bounded pool), `publisher` (when to sign a tree head). The asyncio side
(`replica`, `config`, `process`) runs them in a `ctlog serve` process.
"""

__all__: list[str] = []
