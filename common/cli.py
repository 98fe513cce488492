"""The `opentrust` command: one entry point for the shared-core tools.

Sub-commands register themselves here as they land (`kv`, `devnet`, `sim`).
"""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="opentrust")
def main() -> None:
    """opentrust: peer processes for open-trust systems."""


__all__ = ["main"]
