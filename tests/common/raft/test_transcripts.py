"""Transcript tests: tests/testdata/raft/*.txt (REWRITE=1 regenerates the expected output;
review every change by hand, a transcript that blesses a bug is worse than none)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from tests.common.raft.transcript import Interpreter, parse_file, render_file

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "raft"
FILES = sorted(TESTDATA.glob("*.txt"))


def test_there_are_transcripts() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path) -> None:
    text = path.read_text()
    blocks, trailer = parse_file(text)
    interp = Interpreter()
    outputs = [interp.run(block.command) for block in blocks]
    if os.environ.get("REWRITE") == "1":
        path.write_text(render_file(blocks, outputs, trailer))
        return
    for block, output in zip(blocks, outputs, strict=True):
        if output != block.expected:
            diff = "\n".join(
                difflib.unified_diff(
                    block.expected.splitlines(),
                    output.splitlines(),
                    "expected",
                    "actual",
                    lineterm="",
                )
            )
            pytest.fail(f"{path.name}: command {block.command!r} differs:\n{diff}")
