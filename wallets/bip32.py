"""BIP32 hierarchical deterministic keys: master key from a seed, child derivation along
paths (parsed in `wallets._bip32_path`), and the 78-byte serialization (xprv/xpub on
mainnet, tprv/tpub on testnet and regtest).

Pure: no I/O. An `ExtendedKey` is frozen and always valid (its `__post_init__` enforces
BIP32's rules), private or public by its key bytes (0x00 ‖ k, or a compressed point). The
network is never stored: it is a `ChainParams` passed to `to_base58`/`from_base58`. The repr of
a private key shows the fingerprint and position only, never the key or the chain code.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

import coincurve

from btcnode.address import AddressError, AddressProblem, b58check_decode, b58check_encode
from btcnode.consensus.hashes import hash160
from btcnode.consensus.params import NETWORKS, ChainParams
from btcnode.consensus.script.signature import SECP256K1_ORDER
from wallets._bip32_path import (
    HARDENED,
    MAX_DEPTH,
    InvalidPathError,
    format_path,
    is_hardened,
    parse_path,
)
from wallets.errors import WalletError, WalletInputError, WalletMisuse

__all__ = [
    "HARDENED",
    "MAX_DEPTH",
    "MAX_SEED_BYTES",
    "MIN_SEED_BYTES",
    "SECP256K1_ORDER",
    "SERIALIZED_BYTES",
    "ExtendedKey",
    "ExtendedKeyError",
    "ExtendedKeyProblem",
    "InvalidChildKey",
    "InvalidPathError",
    "KeyVersions",
    "extended_key_network",
    "extended_key_payload",
    "format_path",
    "is_hardened",
    "parse_path",
]

MASTER_HMAC_KEY = b"Bitcoin seed"  # BIP32 "Master key generation"
MIN_SEED_BYTES, MAX_SEED_BYTES = 16, 64  # BIP32: a seed of 128 to 512 bits
SERIALIZED_BYTES = 78  # BIP32 "Serialization format": 4+1+4+4+32+33
CHAIN_CODE_BYTES = 32
KEY_BYTES = 33  # 0x00 ‖ 32-byte secret, or a compressed SEC point
FINGERPRINT_BYTES = 4
ZERO_FINGERPRINT = bytes(FINGERPRINT_BYTES)


class ExtendedKeyProblem(enum.Enum):
    """What is wrong with an extended key (the reasons of BIP32 test vector 5 and more)."""

    BAD_ENCODING = "bad-encoding"  # not Base58
    BAD_CHECKSUM = "bad-checksum"
    BAD_LENGTH = "bad-length"  # not 78 bytes
    UNKNOWN_VERSION = "unknown-version"
    WRONG_NETWORK = "wrong-network"  # a known version of another network
    WRONG_ADDRESS_TYPE = "wrong-address-type"  # SLIP-132: a zpub where a ypub is expected
    VERSION_KEY_MISMATCH = "version-key-mismatch"  # xpub with a private key or vice versa
    INVALID_PRIVATE_KEY_PREFIX = "invalid-private-key-prefix"  # xprv key not 0x00-prefixed
    INVALID_PUBLIC_KEY_PREFIX = "invalid-public-key-prefix"  # xpub key not 02/03
    INVALID_PUBLIC_KEY = "invalid-public-key"  # 02/03 but not on the curve
    PRIVATE_KEY_OUT_OF_RANGE = "private-key-out-of-range"  # 0 or >= n
    ZERO_DEPTH_PARENT_FINGERPRINT = "zero-depth-parent-fingerprint"
    ZERO_DEPTH_CHILD_NUMBER = "zero-depth-child-number"
    INVALID_MASTER_KEY = "invalid-master-key"  # BIP32: IL = 0 or >= n for this seed


class ExtendedKeyError(WalletInputError):
    """An extended key (string, bytes or fields) is invalid; `problem` says how."""

    def __init__(self, problem: ExtendedKeyProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


class InvalidChildKey(WalletError):
    """BIP32: child `index` is invalid (probability < 2**-127); use the next index."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"child {format_path((index,), relative=True)} is invalid: {reason}")
        self.index = index
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KeyVersions:
    """The 4-byte version prefixes of a network's (or a SLIP-132 type's) xprv and xpub."""

    private: int
    public: int

    @classmethod
    def for_network(cls, params: ChainParams) -> KeyVersions:
        return cls(params.bip32_private_version, params.bip32_public_version)


@dataclass(frozen=True, slots=True)
class ExtendedKey:
    """A BIP32 extended key: `key` is 0x00 ‖ k (private) or a compressed point (public)."""

    depth: int
    parent_fingerprint: bytes
    child_number: int
    chain_code: bytes
    key: bytes

    def __post_init__(self) -> None:
        _check_fields(self)
        if self.depth == 0 and self.parent_fingerprint != ZERO_FINGERPRINT:
            raise ExtendedKeyError(
                ExtendedKeyProblem.ZERO_DEPTH_PARENT_FINGERPRINT,
                f"a master key (depth 0) has parent fingerprint 00000000, "
                f"not {self.parent_fingerprint.hex()}",
            )
        if self.depth == 0 and self.child_number != 0:
            raise ExtendedKeyError(
                ExtendedKeyProblem.ZERO_DEPTH_CHILD_NUMBER,
                f"a master key (depth 0) has child number 0, not {self.child_number}",
            )
        _check_key(self.key)

    def __repr__(self) -> str:
        if self.is_private:
            return (
                f"ExtendedKey(<private key {self.fingerprint.hex()}>, depth={self.depth}, "
                f"parent_fingerprint={self.parent_fingerprint.hex()}, "
                f"child_number={self.child_number})"
            )
        return (
            f"ExtendedKey(depth={self.depth}, "
            f"parent_fingerprint=bytes.fromhex({self.parent_fingerprint.hex()!r}), "
            f"child_number={self.child_number}, "
            f"chain_code=bytes.fromhex({self.chain_code.hex()!r}), "
            f"key=bytes.fromhex({self.key.hex()!r}))"
        )

    @classmethod
    def from_seed(cls, seed: bytes) -> ExtendedKey:
        """BIP32 "Master key generation": I = HMAC-SHA512("Bitcoin seed", S)."""
        if not isinstance(seed, bytes) or not MIN_SEED_BYTES <= len(seed) <= MAX_SEED_BYTES:
            raise WalletMisuse("a BIP32 seed is 16 to 64 bytes")
        digest = hmac.new(MASTER_HMAC_KEY, seed, hashlib.sha512).digest()
        secret = int.from_bytes(digest[:32], "big")
        if not 0 < secret < SECP256K1_ORDER:  # BIP32: "the master key is invalid"
            raise ExtendedKeyError(
                ExtendedKeyProblem.INVALID_MASTER_KEY, "this seed gives an invalid master key"
            )
        return cls(0, ZERO_FINGERPRINT, 0, digest[32:], b"\x00" + digest[:32])

    @property
    def is_private(self) -> bool:
        return self.key[0] == 0

    @property
    def private_key(self) -> bytes:
        """The 32-byte secret; `WalletMisuse` on a public key."""
        if not self.is_private:
            raise WalletMisuse("a public extended key has no private key")
        return self.key[1:]

    @property
    def public_key(self) -> bytes:
        """The 33-byte compressed public key (BIP32's serP(K))."""
        if self.is_private:
            return coincurve.PublicKey.from_valid_secret(self.key[1:]).format(compressed=True)
        return self.key

    @property
    def identifier(self) -> bytes:
        """BIP32 "Key identifiers": HASH160 of the public key."""
        return hash160(self.public_key)

    @property
    def fingerprint(self) -> bytes:
        return self.identifier[:FINGERPRINT_BYTES]

    def neuter(self) -> ExtendedKey:
        """BIP32 N((k, c)): the public extended key of this key (itself if already public)."""
        if not self.is_private:
            return self
        fields = (self.depth, self.parent_fingerprint, self.child_number, self.chain_code)
        return ExtendedKey(*fields, self.public_key)

    def derive_child(self, index: int) -> ExtendedKey:
        """CKDpriv or CKDpub; hardened indices only from a private key. `InvalidChildKey`
        in BIP32's 2**-127 case (IL ≥ n or a zero key): proceed with the next index."""
        if not isinstance(index, int) or not 0 <= index < 2**32:
            raise WalletMisuse(f"a child index is in 0..2**32-1, not {index!r}")
        if self.depth >= MAX_DEPTH:
            raise WalletMisuse(f"a key at depth {MAX_DEPTH} has no children (depth is a byte)")
        if is_hardened(index) and not self.is_private:
            raise WalletMisuse(
                f"cannot derive hardened child {format_path((index,), relative=True)} "
                "from a public key"
            )
        public_key = self.public_key  # a point multiplication for a private key: once
        data = (self.key if is_hardened(index) else public_key) + index.to_bytes(4, "big")
        digest = hmac.new(self.chain_code, data, hashlib.sha512).digest()
        return self._child_from_digest(index, digest, hash160(public_key)[:FINGERPRINT_BYTES])

    def _child_from_digest(self, index: int, digest: bytes, fingerprint: bytes) -> ExtendedKey:
        """The child for I = `digest` (BIP32 CKDpriv / CKDpub, after the HMAC), whose parent
        has `fingerprint`."""
        tweak = int.from_bytes(digest[:32], "big")
        if tweak >= SECP256K1_ORDER:
            raise InvalidChildKey(index, "IL is not below the curve order")
        if self.is_private:
            secret = (tweak + int.from_bytes(self.key[1:], "big")) % SECP256K1_ORDER
            if secret == 0:
                raise InvalidChildKey(index, "the child private key is zero")
            key = b"\x00" + secret.to_bytes(32, "big")
        else:
            point = coincurve.PublicKey(self.key)
            try:
                child = point.add(digest[:32]) if tweak else point
            except ValueError:  # IL·G + K is the point at infinity
                raise InvalidChildKey(index, "the child public key is infinity") from None
            key = child.format(compressed=True)
        return ExtendedKey(self.depth + 1, fingerprint, index, digest[32:], key)

    def derive_path(self, path: str | Iterable[int]) -> ExtendedKey:
        """Derive along "m/84'/1'/0'/0/5" (absolute: this key must be a master key) or
        "0/5" (relative), or a sequence of indices (hardened ones with `HARDENED` added)."""
        if isinstance(path, str):
            absolute = path.strip().startswith("m")
            indices = parse_path(path)
            if absolute and self.depth != 0:
                raise WalletMisuse(
                    f"path {path!r} starts at the master key 'm' but this key has depth "
                    f"{self.depth}; give a path relative to it"
                )
        else:
            indices = tuple(path)
        key = self
        for index in indices:
            key = key.derive_child(index)
        return key

    def serialize(self, versions: KeyVersions) -> bytes:
        """BIP32's 78 bytes, with `versions.private` or `versions.public` as its version."""
        version = versions.private if self.is_private else versions.public
        return (
            version.to_bytes(4, "big")
            + bytes((self.depth,))
            + self.parent_fingerprint
            + self.child_number.to_bytes(4, "big")
            + self.chain_code
            + self.key
        )

    @classmethod
    def deserialize(cls, buf: bytes, versions: KeyVersions) -> ExtendedKey:
        """Parse 78 bytes whose version is one of `versions`, with BIP32's checks."""
        if len(buf) != SERIALIZED_BYTES:
            raise ExtendedKeyError(
                ExtendedKeyProblem.BAD_LENGTH,
                f"an extended key is {SERIALIZED_BYTES} bytes, this one {len(buf)}",
            )
        version = int.from_bytes(buf[:4], "big")
        if version not in (versions.private, versions.public):
            raise ExtendedKeyError(
                ExtendedKeyProblem.UNKNOWN_VERSION,
                f"unknown extended key version {buf[:4].hex()} (expected "
                f"{versions.private:08x} or {versions.public:08x})",
            )
        _check_version_matches_key(version == versions.private, buf[45])
        return cls(
            depth=buf[4],
            parent_fingerprint=buf[5:9],
            child_number=int.from_bytes(buf[9:13], "big"),
            chain_code=buf[13:45],
            key=buf[45:78],
        )

    def to_base58(self, params: ChainParams) -> str:
        """xprv/xpub (mainnet) or tprv/tpub (testnet, regtest): Base58Check of `serialize`."""
        return b58check_encode(self.serialize(KeyVersions.for_network(params)))

    @classmethod
    def from_base58(cls, text: str, params: ChainParams) -> ExtendedKey:
        """Parse an xprv/xpub of `params`' network; a key of another known network is
        refused with both networks named."""
        payload = extended_key_payload(text)
        versions = KeyVersions.for_network(params)
        found = _network_of_version(payload[:4])
        known = int.from_bytes(payload[:4], "big") in (versions.private, versions.public)
        if not known and found is not None:
            raise ExtendedKeyError(
                ExtendedKeyProblem.WRONG_NETWORK,
                f"this is a {found.name} extended key, expected a {params.name} one",
            )
        return cls.deserialize(payload, versions)


def extended_key_payload(text: str) -> bytes:
    """The 78 bytes of a Base58Check extended key string, checksum and length checked."""
    if not isinstance(text, str):
        raise WalletMisuse(f"an extended key string must be a str, not {type(text).__name__}")
    try:
        payload = b58check_decode(text.strip())
    except AddressError as err:
        problem = (
            ExtendedKeyProblem.BAD_CHECKSUM
            if err.problem is AddressProblem.BAD_CHECKSUM
            else ExtendedKeyProblem.BAD_ENCODING
        )
        raise ExtendedKeyError(problem, f"not an extended key: {err.message}") from None
    if len(payload) != SERIALIZED_BYTES:
        raise ExtendedKeyError(
            ExtendedKeyProblem.BAD_LENGTH,
            f"an extended key is {SERIALIZED_BYTES} bytes, this one {len(payload)}",
        )
    return payload


def extended_key_network(text: str) -> ChainParams:
    """The network whose xprv/xpub version `text` carries (the first of those sharing one:
    regtest's tprv/tpub are testnet's)."""
    payload = extended_key_payload(text)
    found = _network_of_version(payload[:4])
    if found is None:
        raise ExtendedKeyError(
            ExtendedKeyProblem.UNKNOWN_VERSION,
            f"unknown extended key version {payload[:4].hex()}",
        )
    return found


def _network_of_version(version_bytes: bytes) -> ChainParams | None:
    version = int.from_bytes(version_bytes, "big")
    for params in NETWORKS.values():
        if version in (params.bip32_private_version, params.bip32_public_version):
            return params
    return None


def _check_version_matches_key(private_version: bool, prefix: int) -> None:
    """BIP32 test vector 5: a pubkey version with a private key and vice versa, and a key
    prefix that fits neither."""
    kind = "private" if private_version else "public"
    if (private_version and prefix in (2, 3)) or (not private_version and prefix == 0):
        raise ExtendedKeyError(
            ExtendedKeyProblem.VERSION_KEY_MISMATCH,
            f"a {kind} key version carries a {'public' if private_version else 'private'} key",
        )
    if private_version and prefix != 0:
        raise ExtendedKeyError(
            ExtendedKeyProblem.INVALID_PRIVATE_KEY_PREFIX,
            f"invalid private key prefix {prefix:02x} (a private key starts with 00)",
        )


def _check_fields(key: ExtendedKey) -> None:
    for name, value, size in (
        ("parent_fingerprint", key.parent_fingerprint, FINGERPRINT_BYTES),
        ("chain_code", key.chain_code, CHAIN_CODE_BYTES),
        ("key", key.key, KEY_BYTES),
    ):
        if not isinstance(value, bytes) or len(value) != size:
            raise WalletMisuse(f"{name} must be {size} bytes")
    if not isinstance(key.depth, int) or not 0 <= key.depth <= MAX_DEPTH:
        raise WalletMisuse(f"depth must be in 0..{MAX_DEPTH}, not {key.depth!r}")
    if not isinstance(key.child_number, int) or not 0 <= key.child_number < 2**32:
        raise WalletMisuse(f"child_number must be in 0..2**32-1, not {key.child_number!r}")


def _check_key(key: bytes) -> None:
    """0x00 ‖ k with k in 1..n-1, or a valid compressed point (BIP32 test vector 5)."""
    prefix = key[0]
    if prefix == 0:
        if not 0 < int.from_bytes(key[1:], "big") < SECP256K1_ORDER:
            raise ExtendedKeyError(
                ExtendedKeyProblem.PRIVATE_KEY_OUT_OF_RANGE,
                "the private key is not in 1..n-1 of secp256k1",
            )
        return
    if prefix not in (2, 3):
        raise ExtendedKeyError(
            ExtendedKeyProblem.INVALID_PUBLIC_KEY_PREFIX,
            f"invalid public key prefix {prefix:02x} (a compressed point starts 02 or 03)",
        )
    try:
        coincurve.PublicKey(key)
    except ValueError:
        raise ExtendedKeyError(
            ExtendedKeyProblem.INVALID_PUBLIC_KEY,
            f"public key {key.hex()} is not a point on secp256k1",
        ) from None
