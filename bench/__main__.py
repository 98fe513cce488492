"""Run one benchmark by name, or `all`."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "raft": "bench.raft",
    "ctlog": "bench.ctlog",
    "btc-validate": "bench.btc_validate",
    "btc-sync": "bench.btc_sync",
    "wallet": "bench.wallet_rescan",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--quick", action="store_true", help="shorter runs (smoke test)")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if args.name == "all" else [args.name]
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        module.run(quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
