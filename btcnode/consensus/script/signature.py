"""Signature and public key encodings, and ECDSA verification as Bitcoin Core does it.

Two DER parsers are involved, as in Core:

* `is_valid_signature_encoding` is BIP66's strict DER check (IsValidSignatureEncoding), used
  by the DERSIG / STRICTENC / LOW_S rules on the signature with its hash type byte.
* `parse_der_lax` is pubkey.cpp's ecdsa_signature_parse_der_lax: what consensus accepted
  before BIP66 and still accepts when DERSIG is off. It returns (r, s); values that overflow
  the group order give (0, 0), a parsed signature that never verifies.

`verify_ecdsa` normalizes S to the lower half before verifying, because libsecp256k1 accepts
only low-S signatures and consensus accepts both. An unparsable public key or signature is a
failed check (False), never an error.
"""

from __future__ import annotations

from btcnode.consensus.script import flagbits as F
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.sighash import SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_SINGLE

try:  # libsecp256k1 through coincurve's cffi binding: parse compact (r, s) directly
    from coincurve._libsecp256k1 import ffi as _ffi
    from coincurve._libsecp256k1 import lib as _lib
    from coincurve.context import GLOBAL_CONTEXT as _GLOBAL_CONTEXT

    _CTX = _GLOBAL_CONTEXT.ctx
except ImportError:  # pragma: no cover - coincurve's private layout changed
    _CTX = None

import coincurve

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_ORDER = SECP256K1_ORDER >> 1

MIN_DER_SIG_BYTES = 9  # BIP66: 0x30 len 0x02 1 r 0x02 1 s hashtype
MAX_DER_SIG_BYTES = 73  # BIP66: two 33-byte integers, headers and the hash type

__all__ = [
    "check_pubkey_encoding",
    "check_signature_encoding",
    "is_compressed_or_uncompressed_pubkey",
    "is_compressed_pubkey",
    "is_defined_hashtype_signature",
    "is_low_der_signature",
    "is_valid_signature_encoding",
    "parse_der_lax",
    "pubkey_length_ok",
    "verify_ecdsa",
]


def is_valid_signature_encoding(sig: bytes) -> bool:
    """BIP66 strict DER, `sig` including its trailing hash type byte."""
    # Format: 0x30 [total-length] 0x02 [R-length] [R] 0x02 [S-length] [S] [sighash]
    size = len(sig)
    if size < MIN_DER_SIG_BYTES or size > MAX_DER_SIG_BYTES:
        return False
    if sig[0] != 0x30 or sig[1] != size - 3:
        return False
    len_r = sig[3]
    if 5 + len_r >= size:
        return False
    len_s = sig[5 + len_r]
    if len_r + len_s + 7 != size:
        return False
    if sig[2] != 0x02 or len_r == 0 or sig[4] & 0x80:
        return False
    if len_r > 1 and sig[4] == 0x00 and not sig[5] & 0x80:
        return False  # R has a needless leading zero
    if sig[len_r + 4] != 0x02 or len_s == 0 or sig[len_r + 6] & 0x80:
        return False
    return not (len_s > 1 and sig[len_r + 6] == 0x00 and not sig[len_r + 7] & 0x80)


def _read_lax_length(der: bytes, pos: int) -> tuple[int, int] | None:
    """An integer's length at `pos` (short or long form); None when malformed."""
    size = len(der)
    if pos == size:
        return None
    lenbyte = der[pos]
    pos += 1
    if not lenbyte & 0x80:
        return lenbyte, pos
    lenbyte -= 0x80
    if lenbyte > size - pos:
        return None
    while lenbyte > 0 and der[pos] == 0:
        pos += 1
        lenbyte -= 1
    if lenbyte >= 4:
        return None
    length = int.from_bytes(der[pos : pos + lenbyte], "big")
    return length, pos + lenbyte


def _read_lax_integer(der: bytes, pos: int) -> tuple[int, int, int] | None:
    """(start, length, next position) of an INTEGER element at `pos`."""
    if pos == len(der) or der[pos] != 0x02:
        return None
    read = _read_lax_length(der, pos + 1)
    if read is None:
        return None
    length, pos = read
    if length > len(der) - pos:
        return None
    return pos, length, pos + length


def parse_der_lax(der: bytes) -> tuple[int, int] | None:
    """Core's ecdsa_signature_parse_der_lax on a signature without its hash type byte."""
    size = len(der)
    # The common case first: the BIP66 shape with short-form lengths and nothing trailing,
    # where the lax parser reads exactly the two integers below.
    if 8 <= size < 0x82 and der[0] == 0x30 and der[1] == size - 2 and der[2] == 0x02:
        len_r = der[3]
        s_at = 4 + len_r
        shaped = len_r < 0x80 and s_at + 2 <= size and der[s_at] == 0x02
        if shaped and der[s_at + 1] == size - s_at - 2:
            r = int.from_bytes(der[4:s_at], "big")
            s = int.from_bytes(der[s_at + 2 :], "big")
            if r >= SECP256K1_ORDER or s >= SECP256K1_ORDER:
                return 0, 0  # overflow: a parsed but invalid signature
            return r, s
    return _parse_der_lax_general(der)


def _parse_der_lax_general(der: bytes) -> tuple[int, int] | None:
    size = len(der)
    if size == 0 or der[0] != 0x30:
        return None
    if size == 1:
        return None
    pos = 2
    lenbyte = der[1]
    if lenbyte & 0x80:  # the sequence length is skipped, not checked
        lenbyte -= 0x80
        if lenbyte > size - pos:
            return None
        pos += lenbyte
    r_part = _read_lax_integer(der, pos)
    if r_part is None:
        return None
    s_part = _read_lax_integer(der, r_part[2])
    if s_part is None:
        return None
    r_bytes = der[r_part[0] : r_part[0] + r_part[1]].lstrip(b"\x00")
    s_bytes = der[s_part[0] : s_part[0] + s_part[1]].lstrip(b"\x00")
    if len(r_bytes) > 32 or len(s_bytes) > 32:
        return 0, 0  # overflow: a parsed but invalid signature
    r, s = int.from_bytes(r_bytes, "big"), int.from_bytes(s_bytes, "big")
    if r >= SECP256K1_ORDER or s >= SECP256K1_ORDER:
        return 0, 0  # secp256k1_ecdsa_signature_parse_compact refuses; Core zeroes it
    return r, s


def is_low_der_signature(sig: bytes) -> bool:
    """Core's IsLowDERSignature without the encoding check: S is at most half the order."""
    parsed = parse_der_lax(sig[:-1])
    if parsed is None:
        return False
    return parsed[1] <= SECP256K1_HALF_ORDER


def is_defined_hashtype_signature(sig: bytes) -> bool:
    """STRICTENC: the hash type is ALL, NONE or SINGLE, optionally with ANYONECANPAY."""
    if not sig:
        return False
    base = sig[-1] & ~SIGHASH_ANYONECANPAY
    return SIGHASH_ALL <= base <= SIGHASH_SINGLE


def is_compressed_or_uncompressed_pubkey(pubkey: bytes) -> bool:
    size = len(pubkey)
    if size < 33:
        return False
    if pubkey[0] == 0x04:
        return size == 65
    if pubkey[0] in (0x02, 0x03):
        return size == 33
    return False  # hybrid (06/07) and anything else


def is_compressed_pubkey(pubkey: bytes) -> bool:
    return len(pubkey) == 33 and pubkey[0] in (0x02, 0x03)


def check_signature_encoding(sig: bytes, flags: int) -> None:
    """Core's CheckSignatureEncoding: raises SIG_DER, SIG_HIGH_S or SIG_HASHTYPE."""
    if not sig:
        return  # the empty signature is the compact way to fail a CHECKSIG on purpose
    if flags & F.STRICT_DER and not is_valid_signature_encoding(sig):
        raise ScriptError(ScriptErr.SIG_DER, debug=f"signature {sig.hex()}")
    if flags & F.LOW_S and not is_low_der_signature(sig):
        raise ScriptError(ScriptErr.SIG_HIGH_S, debug=f"signature {sig.hex()}")
    if flags & F.STRICTENC and not is_defined_hashtype_signature(sig):
        raise ScriptError(ScriptErr.SIG_HASHTYPE, debug=f"hash type {sig[-1]:#x}")


def check_pubkey_encoding(pubkey: bytes, flags: int, witness_v0: bool) -> None:
    """Core's CheckPubKeyEncoding: raises PUBKEYTYPE or WITNESS_PUBKEYTYPE."""
    if flags & F.STRICTENC and not is_compressed_or_uncompressed_pubkey(pubkey):
        raise ScriptError(ScriptErr.PUBKEYTYPE, debug=f"public key {pubkey.hex()}")
    if flags & F.WITNESS_PUBKEYTYPE and witness_v0 and not is_compressed_pubkey(pubkey):
        raise ScriptError(ScriptErr.WITNESS_PUBKEYTYPE, debug=f"public key {pubkey.hex()}")


def pubkey_length_ok(pubkey: bytes) -> bool:
    """CPubKey::IsValid: the length the first byte announces (2/3: 33, 4/6/7: 65)."""
    if not pubkey:
        return False
    first = pubkey[0]
    if first in (2, 3):
        return len(pubkey) == 33
    if first in (4, 6, 7):
        return len(pubkey) == 65
    return False


def verify_ecdsa(der_sig: bytes, pubkey: bytes, msg32: bytes) -> bool:
    """CPubKey::Verify: lax DER parse, S normalized to low, then libsecp256k1 verify."""
    if not pubkey_length_ok(pubkey):
        return False
    parsed = parse_der_lax(der_sig)
    if parsed is None:
        return False
    r, s = parsed
    if r == 0 or s == 0:
        return False
    if s > SECP256K1_HALF_ORDER:
        s = SECP256K1_ORDER - s  # secp256k1_ecdsa_signature_normalize
    return _verify_compact(r.to_bytes(32, "big") + s.to_bytes(32, "big"), pubkey, msg32)


# Parsed public keys by their bytes: parsing a compressed key costs a square root, about a
# fifth of a verification, and keys repeat across inputs (address reuse, consolidations).
# Dropped wholesale when full; a miss only costs the parse. Holds no verdicts, only keys.
MAX_CACHED_PUBKEYS = 8192
_pubkeys: dict[bytes, object] = {}  # bytes -> parsed `secp256k1_pubkey *`


def _parsed_pubkey(pubkey: bytes) -> object | None:
    key = _pubkeys.get(pubkey)
    if key is None:
        key = _ffi.new("secp256k1_pubkey *")
        if not _lib.secp256k1_ec_pubkey_parse(_CTX, key, pubkey, len(pubkey)):
            return None
        if len(_pubkeys) >= MAX_CACHED_PUBKEYS:
            _pubkeys.clear()
        _pubkeys[pubkey] = key
    return key


def _verify_compact_cffi(compact: bytes, pubkey: bytes, msg32: bytes) -> bool:
    parsed_key = _parsed_pubkey(pubkey)
    if parsed_key is None:
        return False
    sig = _ffi.new("secp256k1_ecdsa_signature *")
    if not _lib.secp256k1_ecdsa_signature_parse_compact(_CTX, sig, compact):
        return False
    return bool(_lib.secp256k1_ecdsa_verify(_CTX, sig, msg32, parsed_key))


def _verify_strict_der_cffi(der_sig: bytes, pubkey: bytes, msg32: bytes) -> bool:
    parsed_key = _parsed_pubkey(pubkey)
    sig = _ffi.new("secp256k1_ecdsa_signature *")
    if parsed_key is None or not _lib.secp256k1_ecdsa_signature_parse_der(
        _CTX, sig, der_sig, len(der_sig)
    ):
        return False
    return bool(_lib.secp256k1_ecdsa_verify(_CTX, sig, msg32, parsed_key))


def _verify_strict_der_public_api(der_sig: bytes, pubkey: bytes, msg32: bytes) -> bool:
    try:
        return coincurve.PublicKey(pubkey).verify(der_sig, msg32, hasher=None)
    except ValueError:
        return False


def _verify_compact_public_api(compact: bytes, pubkey: bytes, msg32: bytes) -> bool:
    try:
        key = coincurve.PublicKey(pubkey)
    except ValueError:
        return False
    r, s = compact[:32], compact[32:]
    return key.verify(_strict_der(r, s), msg32, hasher=None)


def _strict_der(r: bytes, s: bytes) -> bytes:
    def integer(value: bytes) -> bytes:
        value = value.lstrip(b"\x00") or b"\x00"
        if value[0] & 0x80:
            value = b"\x00" + value
        return b"\x02" + bytes((len(value),)) + value

    body = integer(r) + integer(s)
    return b"\x30" + bytes((len(body),)) + body


_verify_compact = _verify_compact_cffi if _CTX is not None else _verify_compact_public_api

# libsecp256k1's own verify of a strict-DER signature (no hash type byte): what
# `PublicKey(p).verify(sig, digest, hasher=None)` does, through the cffi binding with cached
# keys when it is importable. Accepts only low-S signatures; callers that must accept high S
# (consensus) go through `verify_ecdsa`.
verify_strict_der = _verify_strict_der_cffi if _CTX is not None else _verify_strict_der_public_api
