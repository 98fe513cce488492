"""The hash functions of Bitcoin: SHA-256d, HASH160 (RIPEMD-160 of SHA-256), tagged hashes.

RIPEMD-160 comes from hashlib when OpenSSL offers it and from a pure-Python implementation
(`btcnode.consensus._ripemd160`) when it does not (OpenSSL 3 moved it to the legacy provider).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from btcnode.consensus._ripemd160 import ripemd160_pure


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    """SHA-256 applied twice: txids, block hashes, merkle nodes, checksums."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _pick_ripemd160() -> Callable[[bytes], bytes]:
    try:
        hashlib.new("ripemd160", b"")
    except ValueError:
        return ripemd160_pure

    prototype = hashlib.new("ripemd160")

    def ripemd160_openssl(data: bytes) -> bytes:
        state = prototype.copy()  # copying a prebuilt object skips the provider lookup
        state.update(data)
        return state.digest()

    return ripemd160_openssl


ripemd160: Callable[[bytes], bytes] = _pick_ripemd160()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160(SHA-256(data)): P2PKH and P2WPKH key hashes, P2SH script hashes."""
    return ripemd160(hashlib.sha256(data).digest())


def sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


def hash256_hex(digest: bytes) -> str:
    """A txid or block hash as Bitcoin displays it: byte-reversed hex."""
    return digest[::-1].hex()


def hash_from_hex(text: str) -> bytes:
    """The internal byte order of a displayed (reversed-hex) 32-byte hash."""
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError(f"a hash is 32 bytes, got {len(raw)}")
    return raw[::-1]
