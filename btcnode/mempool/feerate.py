"""Fee rates in satoshis per 1,000 virtual bytes (Core's CFeeRate).

A rate built from a fee and a size truncates (`FeeRate.of`), and the fee a rate asks of a
size rounds up, with at least one satoshi for a non-zero rate (`FeeRate.fee`), exactly as
Core's CFeeRate constructor and GetFee do, so "min relay fee not met" and the BIP125 fee
rules agree with Core to the satoshi.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.consensus.errors import ChainMisuse

VBYTES_PER_KVB = 1000


@dataclass(frozen=True, slots=True, order=True)
class FeeRate:
    """A fee rate in satoshis per 1,000 virtual bytes."""

    sat_per_kvb: int

    def __post_init__(self) -> None:
        if not isinstance(self.sat_per_kvb, int):
            raise ChainMisuse(f"fee rate must be an int sat/kvB, got {self.sat_per_kvb!r}")

    @classmethod
    def of(cls, fee: int, vsize: int) -> FeeRate:
        """The rate `fee` pays for `vsize` (Core's CFeeRate(fee, size): truncating)."""
        if vsize <= 0:
            return cls(0)
        return cls(_trunc_div(fee * VBYTES_PER_KVB, vsize))

    def fee(self, vsize: int) -> int:
        """The fee this rate asks of `vsize` vbytes, rounded up (Core's CFeeRate::GetFee)."""
        if vsize < 0:
            raise ChainMisuse(f"negative size {vsize}")
        fee = -((-self.sat_per_kvb * vsize) // VBYTES_PER_KVB)
        if fee == 0 and vsize != 0 and self.sat_per_kvb != 0:
            return 1 if self.sat_per_kvb > 0 else -1
        return fee

    def __add__(self, other: FeeRate) -> FeeRate:
        return FeeRate(self.sat_per_kvb + other.sat_per_kvb)

    def __str__(self) -> str:
        whole, frac = divmod(self.sat_per_kvb, VBYTES_PER_KVB)
        return f"{whole}.{frac:03d} sat/vB"

    def __repr__(self) -> str:
        return f"FeeRate({self.sat_per_kvb})"


def _trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero, as C++ does."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q
