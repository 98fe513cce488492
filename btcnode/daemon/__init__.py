"""`btcnode run`: the regtest node as a process (chainstate, mempool, RPC, P2P, notifications).

`layout` names the data directory's files; `options` is the command line as a frozen value;
`process` is the asyncio driver that opens the stores and runs the services until a stop
signal. Importing this package imports nothing but the path layout, so `btcnode rpc` stays
quick to start.
"""

from btcnode.daemon.layout import cookie_path, network_dir

__all__ = ["cookie_path", "network_dir"]
