"""`ctlog` commands of this part of the package (filled in as the part lands)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
