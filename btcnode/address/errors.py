"""`AddressError`: a string that is not an address (or key) of the expected network.

The error says what is wrong (`problem`, a stable `AddressProblem`) and shows the evidence in
its message (the prefix found and the one expected, the program length, ...). It is bad input
from a user, so it belongs to the consensus `ChainError` family but is no `ChainMisuse`.
"""

from __future__ import annotations

import enum

from btcnode.consensus.errors import ChainError

__all__ = ["AddressError", "AddressProblem"]


class AddressProblem(enum.Enum):
    """What is wrong with an address or key string."""

    BAD_CHARACTER = "bad-character"  # outside the Base58 or bech32 alphabet
    MIXED_CASE = "mixed-case"  # bech32 must be all lower or all upper case (BIP173)
    BAD_CHECKSUM = "bad-checksum"
    WRONG_CHECKSUM_KIND = "wrong-checksum-kind"  # bech32 for v1+, or bech32m for v0 (BIP350)
    BAD_LENGTH = "bad-length"  # the string or its payload has an impossible length
    BAD_FORMAT = "bad-format"  # no separator, empty part, not Base58 nor bech32
    WRONG_NETWORK = "wrong-network"  # a valid encoding with another network's prefix
    BAD_WITNESS_VERSION = "bad-witness-version"  # above 16
    BAD_PROGRAM_LENGTH = "bad-program-length"  # BIP141: 20/32 for v0, 2..40 otherwise
    BAD_PADDING = "bad-padding"  # BIP173: more than 4 bits, or non-zero bits, of padding
    EMPTY_DATA = "empty-data"  # a segwit address without a witness version
    NO_DESTINATION = "no-destination"  # the script has no address form


class AddressError(ChainError):
    """`text` is not a valid address (or WIF key) for the network asked for."""

    def __init__(self, problem: AddressProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
