"""The `ctlog` command: run a log, talk to one, monitor it, audit it, witness it."""

from __future__ import annotations

import click

from ctlog import _cli_audit, _cli_client, _cli_log, _cli_monitor, _cli_witness


@click.group()
@click.version_option(package_name="opentrust")
def main() -> None:
    """ctlog: a Certificate Transparency log, its clients, monitors, auditors and witnesses."""


for _module in (_cli_log, _cli_client, _cli_monitor, _cli_audit, _cli_witness):
    for _command in _module.COMMANDS:
        main.add_command(_command)

if __name__ == "__main__":
    main()

__all__ = ["main"]
