"""`python -m bench ctlog`: the CT log's Merkle tree against pymerkle 7, and add-chain over HTTP.

Two parts, each printing its own table:
- Merkle (`bench._ctlog_merkle`): append 1,000,000 leaves with node hashes persisted to
  LevelDB, then 10,000 inclusion and 10,000 consistency proofs at random sizes; the peer is
  pymerkle 7's `InmemoryTree` (in memory, no persistence) measured in the same run.
  Targets: appends >= 2x pymerkle, proofs >= 3x.
- add-chain (`bench._ctlog_addchain`): a single-replica log process, 50 concurrent clients
  submitting real certificate chains and receiving SCTs. Target: >= 2,000 certificates/s.

The last line compares append rates (leaves/s), the figure the issue names.
"""

from __future__ import annotations

import os

from bench import _ctlog_addchain, _ctlog_merkle

ADDCHAIN_TARGET_PER_S = 2000  # the target on a 2-core machine
APPEND_TARGET_RATIO = 2.0  # appends must be at least twice pymerkle's rate
PROOF_TARGET_RATIO = 3.0  # proofs must be at least three times pymerkle's rate


def run(quick: bool = False) -> None:
    merkle = _ctlog_merkle.run(quick=quick)
    addchain = _ctlog_addchain.run(quick=quick)
    print()
    print(f"{'figure':<28} {'ours':>12} {'peer/target':>12} {'ratio':>7}")
    rows = [
        ("append leaves/s", merkle["append_ours"], merkle["append_peer"]),
        ("inclusion proofs/s", merkle["inclusion_ours"], merkle["inclusion_peer"]),
        ("consistency proofs/s", merkle["consistency_ours"], merkle["consistency_peer"]),
        ("add-chain certs/s", addchain["addchain_per_s"], float(ADDCHAIN_TARGET_PER_S)),
    ]
    for name, ours, peer in rows:
        print(f"{name:<28} {ours:>12.0f} {peer:>12.0f} {ours / peer:>7.2f}")
    print(f"add-chain latency p50 {addchain['p50_ms']:.1f} ms, p99 {addchain['p99_ms']:.1f} ms")
    print(
        f"(cores: {os.cpu_count()}; targets: appends >= {APPEND_TARGET_RATIO}x, "
        f"proofs >= {PROOF_TARGET_RATIO}x pymerkle, add-chain >= {ADDCHAIN_TARGET_PER_S}/s)"
    )
    ours, peer = merkle["append_ours"], merkle["append_peer"]
    print(
        f"RESULT name=ctlog-merkle ours={ours:.0f} peer={peer:.0f} "
        f"ratio={ours / peer:.2f} unit=leaves/s"
    )
