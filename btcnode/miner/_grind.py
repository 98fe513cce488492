"""Grinding header nonces from a SHA-256 midstate: the pure core of every miner here.

The first 64 bytes of an 80-byte header (version, previous hash, most of the merkle root)
do not change with the nonce, so their SHA-256 state is computed once and copied per nonce;
only the last 16 bytes are hashed each time, then the digest once more. The hash is read
little-endian, so its last byte is the most significant: comparing it with the target's top
byte first rejects almost every nonce without building an integer.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

NONCE_SPACE = 1 << 32  # the header's nonce field is a uint32
DEFAULT_CHECK_EVERY = 1 << 14  # hashes between looks at the stop signal (~15 ms at 1 MH/s)
MIDSTATE_BYTES = 64  # SHA-256's block size: the header prefix hashed once


class Flag(Protocol):
    """Anything with `is_set()`: a multiprocessing or threading Event."""

    def is_set(self) -> bool: ...


def scan_nonces(
    header76: bytes,
    target: int,
    start: int,
    stop: int,
    signals: tuple[Flag, Flag] | None = None,
    check_every: int = DEFAULT_CHECK_EVERY,
) -> tuple[int | None, int]:
    """(first nonce in `[start, stop)` whose header hash is <= target or None, hashes done).

    `header76` is the header without its nonce. Returns early, with None, once either
    signal (stop, found) is set.
    """
    midstate = hashlib.sha256(header76[:MIDSTATE_BYTES])
    tail = header76[MIDSTATE_BYTES:]
    sha256 = hashlib.sha256
    top_byte = target >> 248  # the hash's last byte is its most significant
    nonce = start
    while nonce < stop:
        if signals is not None and (signals[0].is_set() or signals[1].is_set()):
            return None, nonce - start
        chunk_end = min(stop, nonce + check_every)
        for n in range(nonce, chunk_end):
            state = midstate.copy()
            state.update(tail + n.to_bytes(4, "little"))
            digest = sha256(state.digest()).digest()
            if digest[31] <= top_byte and int.from_bytes(digest, "little") <= target:
                return n, n - start + 1
        nonce = chunk_end
    return None, stop - start
