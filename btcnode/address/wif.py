"""Wallet Import Format private keys (Core's key_io EncodeSecret/DecodeSecret).

Base58Check of the network's `base58_secret_prefix`, the 32-byte secret, and a 0x01 byte
when the key is used with its compressed public key.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.address.base58 import b58check_decode, b58check_encode
from btcnode.address.errors import AddressError, AddressProblem
from btcnode.consensus.params import ChainParams
from btcnode.consensus.script.signature import SECP256K1_ORDER

__all__ = ["SECRET_BYTES", "WifKey", "decode_wif", "encode_wif"]

SECRET_BYTES = 32
COMPRESSED_FLAG = 0x01


@dataclass(frozen=True, slots=True)
class WifKey:
    secret: bytes
    compressed: bool

    def __post_init__(self) -> None:
        if len(self.secret) != SECRET_BYTES:
            raise AddressError(
                AddressProblem.BAD_LENGTH, f"a secret is 32 bytes, got {len(self.secret)}"
            )
        if not 0 < int.from_bytes(self.secret, "big") < SECP256K1_ORDER:  # Core's CKey::Check
            raise AddressError(AddressProblem.BAD_FORMAT, "secret outside 1..n-1 of secp256k1")

    def __repr__(self) -> str:
        return f"WifKey(<secret>, compressed={self.compressed})"


def encode_wif(key: WifKey, params: ChainParams) -> str:
    suffix = bytes((COMPRESSED_FLAG,)) if key.compressed else b""
    return b58check_encode(bytes((params.base58_secret_prefix,)) + key.secret + suffix)


def decode_wif(text: str, params: ChainParams) -> WifKey:
    payload = b58check_decode(text)
    if not payload or payload[0] != params.base58_secret_prefix:
        found = payload[0] if payload else None
        raise AddressError(
            AddressProblem.WRONG_NETWORK,
            f"WIF prefix {found} is not {params.name}'s {params.base58_secret_prefix}",
        )
    body = payload[1:]
    if len(body) == SECRET_BYTES:
        return WifKey(body, compressed=False)
    if len(body) == SECRET_BYTES + 1 and body[-1] == COMPRESSED_FLAG:
        return WifKey(body[:-1], compressed=True)
    raise AddressError(
        AddressProblem.BAD_LENGTH,
        f"WIF payload of {len(body)} bytes (32, or 33 ending in 0x01)",
    )
