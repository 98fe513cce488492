"""A child process that holds a resource (a lock, an open database) while a test runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held_by_another_process(script: str, path: Path) -> Iterator[int]:
    """Run `script` with `path` as its argument; yield the child's PID once it prints "ready".

    The script holds what it opened until its stdin closes. Leaving the block closes it and
    checks that the child exited cleanly.
    """
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        yield holder.pid
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
