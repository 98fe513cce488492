"""The compact "nBits" encoding of proof-of-work targets (Core's arith_uint256 Get/SetCompact)."""

from __future__ import annotations


def compact_to_target(bits: int) -> tuple[int, bool, bool]:
    """(target, negative, overflow) of a compact value, exactly as SetCompact reports them."""
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        target = word >> (8 * (3 - size))
    else:
        target = word << (8 * (size - 3))
    negative = word != 0 and bool(bits & 0x00800000)
    overflow = word != 0 and (
        size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    return target, negative, overflow


def bits_to_target(bits: int) -> int:
    """The target of `bits`; 0 for negative or overflowing encodings (never met)."""
    target, negative, overflow = compact_to_target(bits)
    if negative or overflow:
        return 0
    return target


def target_to_compact(target: int) -> int:
    """Core's GetCompact: the shortest compact encoding, never with the sign bit set."""
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        word = target << (8 * (3 - size))
    else:
        word = target >> (8 * (size - 3))
    if word & 0x00800000:
        word >>= 8
        size += 1
    return word | (size << 24)


def block_proof(bits: int) -> int:
    """The expected number of hashes to meet `bits` (Core's GetBlockProof): 2**256/(t+1)."""
    target, negative, overflow = compact_to_target(bits)
    if negative or overflow or target == 0:
        return 0
    return (1 << 256) // (target + 1)
