"""BIP68 relative lock-times: Core's CalculateSequenceLocks and EvaluateSequenceLocks.

An input's nSequence, unless bit 31 (disable) is set, demands that the coin it spends be
buried for a number of blocks (bit 22 clear) or for a multiple of 512 seconds of median time
past (bit 22 set) before the spending transaction may enter a block. Only transactions whose
version, read as an unsigned 32-bit number, is at least 2 are subject to it, and only once
BIP68 is enforced (from `csv_height`, together with BIP112 and BIP113).

The result is a pair `(min_height, min_time)` with nLockTime semantics: the last height and
the last median time past at which the transaction is still invalid. `-1` means no
constraint, so every height and time passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.tx import Tx

SEQUENCE_LOCKTIME_DISABLE_FLAG = 1 << 31  # BIP68: the input carries no relative lock
SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22  # BIP68: set for time-based, clear for height-based
SEQUENCE_LOCKTIME_MASK = 0x0000FFFF  # BIP68: the lock value is the low 16 bits
SEQUENCE_LOCKTIME_GRANULARITY = 9  # BIP68: time locks count units of 2**9 = 512 seconds
NO_LOCK = -1  # nLockTime semantics: the last invalid height/time; -1 lets everything pass

SequenceLocks = tuple[int, int]  # (min_height, min_time), each NO_LOCK when unconstrained


def enforces_bip68(tx: Tx, flags_enforce_bip68: bool) -> bool:
    """Whether `tx` is subject to BIP68: the version compared as Core's uint32_t."""
    return flags_enforce_bip68 and (tx.version & 0xFFFFFFFF) >= 2


def calculate_sequence_locks(
    tx: Tx,
    flags_enforce_bip68: bool,
    prev_heights: Sequence[int],
    mtp_at: Callable[[int], int],
    block_height: int,
) -> SequenceLocks:
    """The BIP68 locks of `tx` in a block at `block_height`.

    `prev_heights[i]` is the height of the block that created the coin input `i` spends (for
    a coin created in the mempool, Core uses the height of the next block, `block_height`).

    `mtp_at(h)` must return the median time past of the block at height `h` on the chain the
    block at `block_height` extends, i.e. the median of the times of blocks h-10..h. It is
    called with `h = max(coin_height - 1, 0)`: a time lock runs from the median time past of
    the block *before* the one holding the coin, the earliest time that block could carry
    (Core: `block.GetAncestor(std::max(nCoinHeight - 1, 0))->GetMedianTimePast()`).
    """
    if len(prev_heights) != len(tx.vin):
        raise ChainMisuse(f"{len(prev_heights)} prev heights for {len(tx.vin)} inputs")
    min_height, min_time = NO_LOCK, NO_LOCK
    if not enforces_bip68(tx, flags_enforce_bip68):
        return min_height, min_time
    for txin, coin_height in zip(tx.vin, prev_heights, strict=True):
        sequence = txin.sequence
        if sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG:
            continue
        if not 0 <= coin_height <= block_height:
            raise ChainMisuse(f"coin height {coin_height} is not below block {block_height}")
        value = sequence & SEQUENCE_LOCKTIME_MASK
        # "- 1": BIP68 names the first valid height/time, nLockTime the last invalid one.
        if sequence & SEQUENCE_LOCKTIME_TYPE_FLAG:
            coin_time = mtp_at(max(coin_height - 1, 0))
            min_time = max(min_time, coin_time + (value << SEQUENCE_LOCKTIME_GRANULARITY) - 1)
        else:
            min_height = max(min_height, coin_height + value - 1)
    return min_height, min_time


def evaluate_sequence_locks(block_height: int, prev_block_mtp: int, locks: SequenceLocks) -> bool:
    """Core's EvaluateSequenceLocks: true if a block at `block_height`, whose parent has
    median time past `prev_block_mtp`, satisfies `locks`."""
    min_height, min_time = locks
    return not (min_height >= block_height or min_time >= prev_block_mtp)


def sequence_locks(
    tx: Tx,
    flags_enforce_bip68: bool,
    prev_heights: Sequence[int],
    mtp_at: Callable[[int], int],
    block_height: int,
) -> bool:
    """Core's SequenceLocks: calculate, then evaluate against the parent's median time past,
    which is `mtp_at(block_height - 1)`."""
    locks = calculate_sequence_locks(tx, flags_enforce_bip68, prev_heights, mtp_at, block_height)
    if locks == (NO_LOCK, NO_LOCK):
        return True
    return evaluate_sequence_locks(block_height, mtp_at(block_height - 1), locks)
