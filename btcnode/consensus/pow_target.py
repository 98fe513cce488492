"""The compact "nBits" encoding of proof-of-work targets (Core's arith_uint256 Get/SetCompact).

A compact value is a base-256 float: the top byte is the size in bytes, the low 23 bits the
mantissa, bit 23 a sign. Targets are 256-bit unsigned integers; like `arith_uint256`, a
decoded target keeps only its low 256 bits, so an overflowing encoding decodes to what Core's
shift leaves (and is flagged `overflow`).
"""

from __future__ import annotations

UINT256_MASK = (1 << 256) - 1  # arith_uint256 arithmetic is modulo 2**256
COMPACT_MANTISSA_MASK = 0x007FFFFF  # the 23 mantissa bits
COMPACT_SIGN_BIT = 0x00800000  # set: the encoded number is negative


def compact_to_target(bits: int) -> tuple[int, bool, bool]:
    """(target, negative, overflow) of a compact value, exactly as SetCompact reports them.

    The sign and overflow flags look at the mantissa after the right shift of sizes below 3,
    as Core does: 0x01803456 shifts its mantissa to zero and is neither negative nor overflow.
    """
    size = bits >> 24
    word = bits & COMPACT_MANTISSA_MASK
    if size <= 3:
        word >>= 8 * (3 - size)
        target = word
    else:
        target = (word << (8 * (size - 3))) & UINT256_MASK
    negative = word != 0 and bool(bits & COMPACT_SIGN_BIT)
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


def target_to_compact(target: int, *, negative: bool = False) -> int:
    """Core's GetCompact: the shortest encoding, the sign bit set only if `negative` and the
    mantissa is non-zero. Precision beyond the three most significant bytes is dropped."""
    if not 0 <= target <= UINT256_MASK:
        raise ValueError(f"target out of uint256 range: {target:#x}")
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        word = target << (8 * (3 - size))
    else:
        word = target >> (8 * (size - 3))
    if word & COMPACT_SIGN_BIT:
        word >>= 8
        size += 1
    compact = word | (size << 24)
    if negative and word & COMPACT_MANTISSA_MASK:
        compact |= COMPACT_SIGN_BIT
    return compact


def block_proof(bits: int) -> int:
    """The expected number of hashes to meet `bits` (Core's GetBlockProof): 2**256/(t+1)."""
    target, negative, overflow = compact_to_target(bits)
    if negative or overflow or target == 0:
        return 0
    return (1 << 256) // (target + 1)
