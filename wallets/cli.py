"""The `wallet` command: an HD wallet on disk that follows a btcnode over its RPC.

    wallet [--datadir DIR] [--network regtest|mainnet] [--node URL]
           [--rpc-cookie FILE | --rpcuser U --rpcpassword P] [--json] COMMAND ...

    create   [--password-file F] [--bip39-passphrase-file F] [--mnemonic-out F] [--words 12|24]
    restore  [--mnemonic-file F] [--password-file F] [--bip39-passphrase-file F]
    address  [--type p2wpkh|p2sh-p2wpkh|p2pkh] [--index N] [--change] [--label L]
    balance
    send     ADDRESS AMOUNT_BTC [--fee-rate SAT_PER_VB] [--no-rbf] [--password-file F]
    history
    bump     TXID [--fee-rate SAT_PER_VB] [--password-file F]
    export-psbt ADDRESS AMOUNT_BTC [--fee-rate SAT_PER_VB] [--out F]
    sign-psbt FILE [--broadcast] [--out F] [--password-file F]

Secrets come from files, or standard input when the file is `-`; only on a terminal, with
no file given, does a command ask (hidden; twice for a new password). `--node` takes
`http://[user:password@]host:port`; the login is --rpcuser/--rpcpassword, else the node's
cookie file (--rpc-cookie, e.g. `<btcnode datadir>/regtest/.cookie`), else the URL's.
`--json` (on the group or any command) prints one JSON object; amounts are BTC with eight
decimals. Exit codes: 0 done, 1 refused (one line on stderr), 2 usage, 3 node unreachable
or on another chain (`wallets._cli_common`).
"""

from __future__ import annotations

from pathlib import Path

import click

from btcnode.consensus.params import NETWORKS
from wallets import _cli_keys, _cli_spend
from wallets._cli_context import DEFAULT_WALLET_DIR, CliContext
from wallets._cli_input import DEFAULT_NODE_URL

__all__ = ["main"]


@click.group()
@click.version_option(package_name="opentrust")
@click.option("--datadir", default=DEFAULT_WALLET_DIR, show_default=True, help="the wallet")
@click.option(
    "--network", type=click.Choice(sorted(NETWORKS)), default="regtest", show_default=True
)
@click.option("--node", "node_url", default=DEFAULT_NODE_URL, show_default=True, help="RPC URL")
@click.option("--rpc-cookie", default=None, help="the node's RPC cookie file")
@click.option("--rpcuser", default=None)
@click.option("--rpcpassword", default=None)
@click.option("--json", "json_mode", is_flag=True, help="machine-readable output")
@click.pass_context
def main(
    ctx: click.Context,
    datadir: str,
    network: str,
    node_url: str,
    rpc_cookie: str | None,
    rpcuser: str | None,
    rpcpassword: str | None,
    json_mode: bool,
) -> None:
    """wallet: an HD wallet (BIP39/32/44/49/84) following a btcnode."""
    ctx.obj = CliContext(
        datadir=Path(datadir).expanduser(),
        params=NETWORKS[network],
        node_url=node_url,
        rpc_cookie=rpc_cookie,
        rpcuser=rpcuser,
        rpcpassword=rpcpassword,
        json_mode=json_mode,
    )


for _module in (_cli_keys, _cli_spend):
    for _command in _module.COMMANDS:
        main.add_command(_command)

if __name__ == "__main__":
    main()
