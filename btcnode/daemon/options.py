"""`NodeOptions`: the `btcnode run` command line as one checked, frozen value.

`node_options(...)` takes the flags as click parsed them and returns the options, or raises
`NodeOptionError` with one line naming the flag and what is wrong (the command prints it
and exits with code 2). Pure: addresses are decoded with the network's `ChainParams`,
nothing is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from btcnode.address import AddressError, script_for_address
from btcnode.consensus.params import ChainParams
from btcnode.p2p.config import MAX_PORT, P2PConfig, parse_host_port
from btcnode.p2p.errors import P2PMisuse
from common.errors import ConfigError

__all__ = [
    "DEFAULT_MINE_INTERVAL_S",
    "DEFAULT_P2P_PORT",
    "DEFAULT_RPC_PORT",
    "MAX_PAR",
    "NodeOptionError",
    "NodeOptions",
    "decode_mine_to",
    "node_options",
]

DEFAULT_P2P_PORT = 18444  # Core's regtest ports
DEFAULT_RPC_PORT = 18443
DEFAULT_MINE_INTERVAL_S = 10.0
MIN_MINE_INTERVAL_S = 0.05  # below this the loop would starve RPC and P2P of the event loop
MAX_PAR = 64  # script-check processes; more than any host this runs on has cores
LISTEN_HOST = "127.0.0.1"  # RPC and P2P listen on loopback only: a development node


class NodeOptionError(ConfigError):
    """A `btcnode run` flag is invalid; `flag` names it."""

    def __init__(self, flag: str, problem: str) -> None:
        self.flag = flag
        self.problem = problem
        super().__init__(f"{flag}: {problem}")


@dataclass(frozen=True, slots=True)
class NodeOptions:
    """What `btcnode run` was asked to do. `mine_script` is the decoded --mine-to address."""

    datadir: Path
    p2p_port: int = DEFAULT_P2P_PORT
    rpc_port: int = DEFAULT_RPC_PORT
    connect: tuple[tuple[str, int], ...] = ()
    addnode: tuple[tuple[str, int], ...] = ()
    mine_to: str | None = None
    mine_script: bytes | None = None
    mine_interval_s: float = DEFAULT_MINE_INTERVAL_S
    rpc_user: str | None = None
    rpc_password: str | None = None
    par: int = 1
    log_json: bool = False
    walletdir: Path | None = None  # None: <datadir>/regtest/wallets

    def __post_init__(self) -> None:
        for flag, port in (("--p2p-port", self.p2p_port), ("--rpc-port", self.rpc_port)):
            if not 0 < port <= MAX_PORT:
                raise NodeOptionError(flag, f"{port} is not a TCP port (1-{MAX_PORT})")
        if self.p2p_port == self.rpc_port:
            raise NodeOptionError("--rpc-port", f"{self.rpc_port} is also the --p2p-port")
        if (self.mine_to is None) != (self.mine_script is None):
            raise NodeOptionError("--mine-to", "the address and its script go together")
        if not self.mine_interval_s >= MIN_MINE_INTERVAL_S:
            raise NodeOptionError(
                "--mine-interval", f"{self.mine_interval_s} s: at least {MIN_MINE_INTERVAL_S}"
            )
        if (self.rpc_user is None) != (self.rpc_password is None):
            raise NodeOptionError("--rpcuser", "--rpcuser and --rpcpassword go together")
        if self.rpc_password is not None and not self.rpc_password:
            raise NodeOptionError("--rpcpassword", "must not be empty")
        if self.rpc_user is not None and ":" in self.rpc_user:
            raise NodeOptionError("--rpcuser", "must not contain ':' (HTTP Basic separator)")
        if not 1 <= self.par <= MAX_PAR:
            raise NodeOptionError("--par", f"{self.par}: use 1 (no worker processes) to {MAX_PAR}")

    def p2p_config(self) -> P2PConfig:
        """The peer manager's configuration: listen on loopback at --p2p-port."""
        return P2PConfig(
            listen_host=LISTEN_HOST,
            listen_port=self.p2p_port,
            connect=self.connect,
            addnode=self.addnode,
        )


def _peers(flag: str, values: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    peers = []
    for value in values:
        try:
            peers.append(parse_host_port(value, DEFAULT_P2P_PORT))
        except P2PMisuse as exc:
            raise NodeOptionError(flag, str(exc)) from None
    return tuple(peers)


def node_options(
    params: ChainParams,
    *,
    datadir: str,
    p2p_port: int = DEFAULT_P2P_PORT,
    rpc_port: int = DEFAULT_RPC_PORT,
    connect: tuple[str, ...] = (),
    addnode: tuple[str, ...] = (),
    mine_to: str | None = None,
    mine_interval_s: float = DEFAULT_MINE_INTERVAL_S,
    rpc_user: str | None = None,
    rpc_password: str | None = None,
    par: int = 1,
    log_json: bool = False,
    walletdir: str | None = None,
) -> NodeOptions:
    """Check and decode the flags into `NodeOptions`; `NodeOptionError` names a bad one."""
    return NodeOptions(
        datadir=Path(datadir).expanduser(),
        p2p_port=p2p_port,
        rpc_port=rpc_port,
        connect=_peers("--connect", connect),
        addnode=_peers("--addnode", addnode),
        mine_to=mine_to,
        mine_script=None if mine_to is None else decode_mine_to(mine_to, params),
        mine_interval_s=mine_interval_s,
        rpc_user=rpc_user,
        rpc_password=rpc_password,
        par=par,
        log_json=log_json,
        walletdir=None if walletdir is None else Path(walletdir).expanduser(),
    )


def decode_mine_to(address: str, params: ChainParams) -> bytes:
    """The output script of a --mine-to address on `params`' network."""
    try:
        return script_for_address(address, params)
    except AddressError as exc:
        raise NodeOptionError(
            "--mine-to", f"{address!r} is not a {params.name} address: {exc}"
        ) from None
