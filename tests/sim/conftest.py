"""Seeds for the simulation tests, and `SEED=n` on every failure.

Tests that take a `seed` argument run once per seed in `SIM_SEEDS` (default "1"): a comma
list of numbers or ranges, e.g. `SIM_SEEDS=1-20,77`. A failing test gets a note with its seed
and the command that replays it.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

DEFAULT_SEEDS = "1"


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            seeds.extend(range(int(low), int(high) + 1))
        else:
            seeds.append(int(part))
    return seeds


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" in metafunc.fixturenames:
        seeds = parse_seeds(os.environ.get("SIM_SEEDS", DEFAULT_SEEDS))
        metafunc.parametrize("seed", seeds, ids=[f"seed{s}" for s in seeds])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except BaseException as exc:
        seed = getattr(item, "funcargs", {}).get("seed")
        if seed is not None and "SEED=" not in str(exc):
            exc.add_note(f"SEED={seed}  replay: SIM_SEEDS={seed} pytest '{item.nodeid}'")
        raise
