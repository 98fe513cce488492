"""`python -m tests.sim`: run random fault schedules, one seed each; exit 1 if any failed.

python -m tests.sim --seeds 500 [--start N] [--nodes 3|5]
python -m tests.sim --seed N [--nodes 3|5] [--verbose]     # replay one seed exactly
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.sim.runner import SeedResult, run_seed


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=100, help="how many seeds to run")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--nodes", type=int, choices=(3, 5), default=3, help="servers")
    parser.add_argument("--seed", type=int, default=None, help="replay this one seed")
    parser.add_argument("--verbose", action="store_true", help="print every seed and schedule")
    return parser.parse_args(argv)


def _print_verbose(result: SeedResult) -> None:
    status = "ok" if result.ok else f"FAILED {result.checker}"
    print(
        f"seed {result.seed}: {status}, {result.sim_ms / 1000:.1f} simulated s, "
        f"{result.messages} messages, {result.operations} client operations"
    )
    for t, text in result.nemesis_log:
        print(f"    t={t} {text}")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    seeds = [args.seed] if args.seed is not None else range(args.start, args.start + args.seeds)
    started = time.monotonic()
    failed: list[SeedResult] = []
    sim_ms = messages = 0
    for seed in seeds:
        result = run_seed(seed, args.nodes)
        sim_ms += result.sim_ms
        messages += result.messages
        if args.verbose:
            _print_verbose(result)
        if not result.ok:
            failed.append(result)
            print(result.report(), flush=True)
    elapsed = time.monotonic() - started
    print(
        f"sim: {len(seeds)} seeds, {len(failed)} failed, {sim_ms / 1000:.1f} simulated seconds, "
        f"{messages} messages ({elapsed:.1f} s wall)"
    )
    if failed:
        print("failed seeds: " + " ".join(f"SEED={r.seed}" for r in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
