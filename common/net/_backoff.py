"""Exponential reconnect backoff with jitter.

Delays double from `min_s` up to `max_s`; each is scaled by a factor drawn uniformly from
[0.5, 1.0) ("equal jitter") so that nodes restarted together do not redial in lockstep. The
randomness is an input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.errors import ConfigError
from common.net._types import RandomSource

_MAX_DOUBLINGS = 62  # past this 2**n overflows any sensible delay; the cap applies long before


@dataclass(slots=True)
class Backoff:
    min_s: float
    max_s: float
    _attempt: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ConfigError(
                f"reconnect backoff needs 0 < min_s <= max_s, got {self.min_s}, {self.max_s}"
            )

    def next_delay(self, rng: RandomSource) -> float:
        """Seconds to wait before the next attempt; each call doubles the base until the cap."""
        base = min(self.max_s, self.min_s * (2 ** min(self._attempt, _MAX_DOUBLINGS)))
        if base < self.max_s:
            self._attempt += 1
        return base * (0.5 + 0.5 * rng.random())

    def reset(self) -> None:
        """Start again from `min_s` (after a connection succeeded)."""
        self._attempt = 0
