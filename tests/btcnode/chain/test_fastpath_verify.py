"""The fast path's direct libsecp256k1 verify agrees with coincurve's public verify."""

from __future__ import annotations

import hashlib

import coincurve
import pytest

from btcnode.chain import _fastpath

KEY = coincurve.PrivateKey(b"\x07" * 32)
DIGEST = hashlib.sha256(b"message").digest()
SIG = KEY.sign(DIGEST, hasher=None) + b"\x01"
PUB = KEY.public_key.format(compressed=True)
OFF_CURVE = b"\x02" + b"\x00" * 31 + b"\x05"  # x = 5: x^3 + 7 = 132 is not a square mod p


def _public(sig: bytes, pubkey: bytes, digest: bytes) -> bool:
    try:
        return bool(coincurve.PublicKey(pubkey).verify(sig[:-1], digest, hasher=None))
    except ValueError:
        return False


@pytest.mark.parametrize(
    ("sig", "pubkey", "digest"),
    [
        (SIG, PUB, DIGEST),
        (SIG, PUB, bytes(32)),
        (SIG[:10] + b"\x01", PUB, DIGEST),
        (SIG, OFF_CURVE, DIGEST),
        (SIG, coincurve.PrivateKey(b"\x08" * 32).public_key.format(), DIGEST),
    ],
    ids=["valid", "other-digest", "bad-der", "key-off-curve", "other-key"],
)
def test_verify_matches_public_api(sig: bytes, pubkey: bytes, digest: bytes) -> None:
    expected = _public(sig, pubkey, digest)
    assert _fastpath._verify(sig, pubkey, digest) is expected
    assert _fastpath._verify(sig, pubkey, digest) is expected  # again, from the key cache


def test_valid_case_is_valid() -> None:
    assert _public(SIG, PUB, DIGEST)
    assert not _public(SIG, OFF_CURVE, DIGEST)
