"""The `wallet` group's options (data directory, network, node, output mode) as one frozen
value every command receives, and the reading of secrets: from a file, from standard input
("-"), or from a hidden prompt when standard input is a terminal and no file was given.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from btcnode.consensus.params import ChainParams
from btcnode.rpc.client import SyncRpcClient
from wallets._cli_input import (
    CliInputError,
    check_one_stdin,
    node_credentials,
    parse_node_url,
    read_secret_file,
)

__all__ = [
    "DEFAULT_WALLET_DIR",
    "CliContext",
    "SecretRequest",
    "passphrase_request",
    "read_secrets",
    "stdin_is_terminal",
]

DEFAULT_WALLET_DIR = "~/.opentrust-wallet"
NODE_TIMEOUT_S = 120.0  # a sync asks for blocks one by one; each answer is quick


@dataclass(frozen=True, slots=True)
class CliContext:
    """What the group's flags said; `rpcpassword` never shows in a repr."""

    datadir: Path
    params: ChainParams
    node_url: str
    rpc_cookie: str | None
    rpcuser: str | None
    rpcpassword: str | None = field(repr=False)
    json_mode: bool

    def connect(self) -> SyncRpcClient:
        """A client of the node at --node (the wallet's sync checks its chain)."""
        target = parse_node_url(self.node_url)
        creds = node_credentials(target, self.rpc_cookie, self.rpcuser, self.rpcpassword)
        return SyncRpcClient(target.url, creds, timeout_seconds=NODE_TIMEOUT_S)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@dataclass(frozen=True, slots=True)
class SecretRequest:
    """One secret a command needs: the option naming its file (None: not given), what to
    call it, whether a prompt asks twice (a new password), whether it may be empty."""

    option: str
    path: str | None
    what: str
    confirm: bool = False
    required: bool = True
    prompt: bool = True


def passphrase_request(path: str | None) -> SecretRequest:
    """The optional BIP39 passphrase: from its file only, never asked for (most wallets
    have none, and a prompt for one would only confuse)."""
    return SecretRequest(
        "--bip39-passphrase-file", path, "BIP39 passphrase", required=False, prompt=False
    )


def _prompted(request: SecretRequest) -> str:
    if not (request.prompt and stdin_is_terminal()):
        if request.required:
            raise CliInputError(
                f"give {request.option} FILE (or - for standard input): standard input is "
                "not a terminal to ask on"
            )
        return ""
    return str(
        click.prompt(
            request.what.capitalize(),
            hide_input=True,
            confirmation_prompt=request.confirm,
            default="" if not request.required else None,
            show_default=False,
            err=True,
        )
    )


def read_secrets(*requests: SecretRequest) -> tuple[str, ...]:
    """Each secret from its file, stdin or a prompt; a required one must not be empty."""
    check_one_stdin({r.option: r.path for r in requests})
    stdin = sys.stdin
    secrets = []
    for request in requests:
        if request.path is not None:
            secret = read_secret_file(request.path, request.option, stdin)
        else:
            secret = _prompted(request)
        if request.required and not secret:
            raise CliInputError(f"{request.option}: the {request.what} is empty")
        secrets.append(secret)
    return tuple(secrets)
