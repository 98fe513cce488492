"""btcnode: a proof-of-work Bitcoin node, byte-compatible with Bitcoin Core on regtest.

`btcnode.consensus` is the consensus library (serialization, script, sighash, proof of work,
chain parameters, context-free and contextual checks); `btcnode.chain` keeps the chainstate in
LevelDB; `btcnode.mempool` holds unconfirmed transactions under Core's policy; `btcnode.miner`
builds block templates and mines them; `btcnode.p2p` is the Bitcoin v1 wire format.
"""

__all__: list[str] = []
