"""BIP174 key-value maps, key types, key origins and errors: the pieces `wallets.psbt` is
built from.

A map keeps its pairs in order and refuses a repeated key; a key is a compact-size type
followed by the key data. `KeyOrigin` is a BIP32 fingerprint and path; witness stacks are
serialized as in a transaction. `PsbtError.problem` names the BIP174 rule a PSBT broke.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.serialize import ByteReader, ser_compact_size
from wallets.errors import WalletInputError, WalletMisuse

__all__ = [
    "PSBT_MAGIC",
    "GlobalKey",
    "InputKey",
    "KeyOrigin",
    "OutputKey",
    "PsbtError",
    "PsbtMap",
    "PsbtProblem",
    "parse_witness",
    "serialize_witness",
]

PSBT_MAGIC = b"psbt\xff"
PSBT_HIGHEST_VERSION = 0  # this module reads version 0 only (BIP370 v2 is not supported)
BIP32_XPUB_BYTES = 78  # BIP32 serialization without the Base58Check checksum


class PsbtProblem(enum.Enum):
    BAD_MAGIC = "not a PSBT: the magic bytes are missing"
    DECODE = "malformed bytes"
    DUPLICATE_KEY = "a key appears twice in one map"
    INVALID_KEY = "a key has the wrong key data for its type"
    INVALID_VALUE = "a value has the wrong form for its type"
    NO_UNSIGNED_TX = "the global map has no unsigned transaction"
    SIGNED_UNSIGNED_TX = "the unsigned transaction has a scriptSig or witness"
    UTXO_MISMATCH = "a non-witness UTXO is not the transaction the input spends"
    UNSUPPORTED_VERSION = "a PSBT version this wallet does not read"
    BASE64 = "not valid base64"
    UNSUPPORTED_SIGHASH = "a sighash type this wallet does not sign with"


class PsbtError(WalletInputError):
    """A PSBT that does not decode or breaks BIP174; `problem` says which rule."""

    def __init__(self, problem: PsbtProblem, detail: str) -> None:
        self.problem, self.detail = problem, detail
        super().__init__(f"invalid PSBT: {problem.value}: {detail}")


class GlobalKey(enum.IntEnum):
    UNSIGNED_TX = 0x00
    XPUB = 0x01
    VERSION = 0xFB
    PROPRIETARY = 0xFC


class InputKey(enum.IntEnum):
    NON_WITNESS_UTXO = 0x00
    WITNESS_UTXO = 0x01
    PARTIAL_SIG = 0x02
    SIGHASH_TYPE = 0x03
    REDEEM_SCRIPT = 0x04
    WITNESS_SCRIPT = 0x05
    BIP32_DERIVATION = 0x06
    FINAL_SCRIPTSIG = 0x07
    FINAL_SCRIPTWITNESS = 0x08
    RIPEMD160 = 0x0A
    SHA256 = 0x0B
    HASH160 = 0x0C
    HASH256 = 0x0D
    PROPRIETARY = 0xFC


class OutputKey(enum.IntEnum):
    REDEEM_SCRIPT = 0x00
    WITNESS_SCRIPT = 0x01
    BIP32_DERIVATION = 0x02
    PROPRIETARY = 0xFC


@dataclass(frozen=True, slots=True)
class KeyOrigin:
    """A BIP32 origin: the master key's fingerprint and the derivation path."""

    fingerprint: bytes
    path: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.fingerprint) != 4:
            raise WalletMisuse(f"a fingerprint is 4 bytes, got {len(self.fingerprint)}")
        if any(not 0 <= i <= 0xFFFFFFFF for i in self.path):
            raise WalletMisuse(f"path index out of range in {self.path}")

    def serialize(self) -> bytes:
        return self.fingerprint + b"".join(i.to_bytes(4, "little") for i in self.path)

    @classmethod
    def deserialize(cls, value: bytes) -> KeyOrigin:
        if len(value) < 4 or len(value) % 4:
            raise PsbtError(PsbtProblem.INVALID_VALUE, f"key origin of {len(value)} bytes")
        path = tuple(int.from_bytes(value[i : i + 4], "little") for i in range(4, len(value), 4))
        return cls(value[:4], path)


def serialize_witness(stack: tuple[bytes, ...]) -> bytes:
    return ser_compact_size(len(stack)) + b"".join(ser_compact_size(len(i)) + i for i in stack)


def parse_witness(value: bytes) -> tuple[bytes, ...]:
    reader = ByteReader(value)
    items = tuple(reader.read_var_bytes() for _ in range(reader.read_count(1)))
    reader.finish()
    return items


@dataclass(frozen=True, slots=True)
class PsbtMap:
    """One map: (key, value) pairs in order; a key is its type (compact size) and data."""

    pairs: tuple[tuple[bytes, bytes], ...] = ()

    def __post_init__(self) -> None:
        seen = set()
        for key, _ in self.pairs:
            if not key:
                raise PsbtError(PsbtProblem.INVALID_KEY, "an empty key ends a map, not a pair")
            if key in seen:
                raise PsbtError(PsbtProblem.DUPLICATE_KEY, f"key {key.hex()}")
            seen.add(key)
            _split_key(key)

    def items(self) -> Iterator[tuple[int, bytes, bytes]]:
        """(type, key data, value) for every pair."""
        for key, value in self.pairs:
            key_type, key_data = _split_key(key)
            yield key_type, key_data, value

    def get(self, key_type: int, key_data: bytes = b"") -> bytes | None:
        key = ser_compact_size(key_type) + key_data
        return next((v for k, v in self.pairs if k == key), None)

    def of_type(self, key_type: int) -> dict[bytes, bytes]:
        return {data: value for t, data, value in self.items() if t == key_type}

    def with_value(self, key_type: int, key_data: bytes, value: bytes) -> PsbtMap:
        """This map with the pair set (replaced in place, or appended)."""
        key = ser_compact_size(key_type) + key_data
        if any(k == key for k, _ in self.pairs):
            return PsbtMap(tuple((k, value if k == key else v) for k, v in self.pairs))
        return PsbtMap((*self.pairs, (key, value)))

    def keeping(self, key_types: set[int], *, known: set[int] | None = None) -> PsbtMap:
        """Only the pairs of `key_types`, and, given the `known` types, every unknown one."""
        kept = []
        for key, value in self.pairs:
            key_type, _ = _split_key(key)
            if key_type in key_types or (known is not None and key_type not in known):
                kept.append((key, value))
        return PsbtMap(tuple(kept))

    def serialize(self) -> bytes:
        out = b"".join(
            ser_compact_size(len(k)) + k + ser_compact_size(len(v)) + v for k, v in self.pairs
        )
        return out + b"\x00"

    @classmethod
    def read_from(cls, reader: ByteReader, check_key: Callable[[int, bytes], None]) -> PsbtMap:
        """A map read up to its terminator; `check_key` sees each key before its value."""
        pairs: list[tuple[bytes, bytes]] = []
        while True:
            key = reader.read_var_bytes()
            if not key:
                return cls(tuple(pairs))
            check_key(*_split_key(key))
            pairs.append((key, reader.read_var_bytes()))
            if len({k for k, _ in pairs}) != len(pairs):
                raise PsbtError(PsbtProblem.DUPLICATE_KEY, f"key {key.hex()}")


def _split_key(key: bytes) -> tuple[int, bytes]:
    reader = ByteReader(key)
    try:
        key_type = reader.read_compact_size()
    except SerializationError as err:
        raise PsbtError(PsbtProblem.INVALID_KEY, f"key {key.hex()}: {err.debug}") from None
    return key_type, key[reader.pos :]
