"""The `opentrust` command: one entry point for the shared-core tools.

Sub-commands: `kv` (the replicated key-value store), `devnet` (a local network of peers).
"""

from __future__ import annotations

import click

from common.devnet import devnet
from common.kv.cli import kv


@click.group()
@click.version_option(package_name="opentrust")
def main() -> None:
    """opentrust: peer processes for open-trust systems."""


main.add_command(kv)
main.add_command(devnet)

if __name__ == "__main__":
    main()

__all__ = ["main"]
