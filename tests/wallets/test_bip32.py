"""BIP32 against the BIP's test vectors 1-5, the BIP39 root keys and the BIP86 keys."""

from __future__ import annotations

from typing import Any

import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.address import b58check_encode, encode_segwit_address
from btcnode.consensus.hashes import sha256
from btcnode.consensus.params import MAINNET, REGTEST
from tests.vectors import load_json
from wallets.bip32 import (
    HARDENED,
    SECP256K1_ORDER,
    ExtendedKey,
    ExtendedKeyError,
    ExtendedKeyProblem,
    InvalidChildKey,
    InvalidPathError,
    KeyVersions,
    extended_key_network,
    format_path,
    parse_path,
)
from wallets.bip39 import mnemonic_to_seed
from wallets.errors import WalletInputError, WalletMisuse

_FILE: dict[str, Any] = load_json("bitcoin", "bip32_vectors.json")
VECTORS: list[dict[str, Any]] = _FILE["vectors"]
INVALID: list[dict[str, str]] = _FILE["invalid_extended_keys"]
BIP86: list[dict[str, str]] = _FILE["bip86"]["entries"]
STEPS = [(v["vector"], v["seed_hex"], chain) for v in VECTORS for chain in v["chains"]]
SEED_1 = bytes.fromhex(VECTORS[0]["seed_hex"])

# BIP32 test vector 5's reasons, as this module names them
REASONS = {
    "pubkey version / prvkey mismatch": ExtendedKeyProblem.VERSION_KEY_MISMATCH,
    "prvkey version / pubkey mismatch": ExtendedKeyProblem.VERSION_KEY_MISMATCH,
    "invalid pubkey prefix 04": ExtendedKeyProblem.INVALID_PUBLIC_KEY_PREFIX,
    "invalid prvkey prefix 04": ExtendedKeyProblem.INVALID_PRIVATE_KEY_PREFIX,
    "invalid pubkey prefix 01": ExtendedKeyProblem.INVALID_PUBLIC_KEY_PREFIX,
    "invalid prvkey prefix 01": ExtendedKeyProblem.INVALID_PRIVATE_KEY_PREFIX,
    "zero depth with non-zero parent fingerprint": (
        ExtendedKeyProblem.ZERO_DEPTH_PARENT_FINGERPRINT
    ),
    "zero depth with non-zero index": ExtendedKeyProblem.ZERO_DEPTH_CHILD_NUMBER,
    "unknown extended key version": ExtendedKeyProblem.UNKNOWN_VERSION,
    "private key 0 not in 1..n-1": ExtendedKeyProblem.PRIVATE_KEY_OUT_OF_RANGE,
    "private key n not in 1..n-1": ExtendedKeyProblem.PRIVATE_KEY_OUT_OF_RANGE,
    "invalid pubkey 020000000000000000000000000000000000000000000000000000000000000007": (
        ExtendedKeyProblem.INVALID_PUBLIC_KEY
    ),
    "invalid checksum": ExtendedKeyProblem.BAD_CHECKSUM,
}


def test_vector_file_has_vectors_1_to_4_and_vector_5() -> None:
    assert [v["vector"] for v in VECTORS] == [1, 2, 3, 4]
    assert len(STEPS) == 17
    assert len(INVALID) == 16
    assert {row["reason"] for row in INVALID} == set(REASONS)


@pytest.mark.parametrize("step", STEPS, ids=[f"v{n}-{chain['path']}" for n, _, chain in STEPS])
def test_derivation_step(step: tuple[int, str, dict[str, str]]) -> None:
    _, seed_hex, chain = step
    key = ExtendedKey.from_seed(bytes.fromhex(seed_hex)).derive_path(chain["path"])
    assert key.to_base58(MAINNET) == chain["ext_prv"]
    assert key.neuter().to_base58(MAINNET) == chain["ext_pub"]
    assert ExtendedKey.from_base58(chain["ext_prv"], MAINNET) == key
    assert ExtendedKey.from_base58(chain["ext_pub"], MAINNET) == key.neuter()
    assert format_path(parse_path(chain["path"])) == chain["path"].replace("H", "'")


# the steps whose last index is not hardened: CKDpub can derive them from the parent xpub
PUBLIC_STEPS = [step for step in STEPS if step[2]["path"][-1].isdigit()]


def test_public_steps_are_the_non_hardened_ones() -> None:
    assert len(PUBLIC_STEPS) == 6  # m/0H/1, m/0H/1/2H/2, .../1000000000 and v2's m/0, .../1, .../2


@pytest.mark.parametrize(
    "step", PUBLIC_STEPS, ids=[f"v{n}-{c['path']}" for n, _, c in PUBLIC_STEPS]
)
def test_public_derivation_matches_private(step: tuple[int, str, dict[str, str]]) -> None:
    """CKDpub from the parent's xpub gives the xpub the vectors give."""
    _, seed_hex, chain = step
    indices = parse_path(chain["path"])
    assert indices[-1] < HARDENED
    parent = ExtendedKey.from_seed(bytes.fromhex(seed_hex)).derive_path(indices[:-1])
    child = parent.neuter().derive_child(indices[-1])
    assert child.to_base58(MAINNET) == chain["ext_pub"]


@pytest.mark.parametrize("row", INVALID, ids=[row["reason"] for row in INVALID])
def test_vector_5_refused_for_its_reason(row: dict[str, str]) -> None:
    with pytest.raises(ExtendedKeyError) as caught:
        ExtendedKey.from_base58(row["key"], MAINNET)
    assert caught.value.problem is REASONS[row["reason"]]
    assert isinstance(caught.value, WalletInputError)


def test_bip39_root_keys() -> None:
    rows = load_json("bitcoin", "bip39_vectors.json")["english"]
    for _, mnemonic, _, root_xprv in rows:
        seed = mnemonic_to_seed(mnemonic, "TREZOR")
        assert ExtendedKey.from_seed(seed).to_base58(MAINNET) == root_xprv


def test_regtest_serialization_and_network_check() -> None:
    key = ExtendedKey.from_seed(SEED_1).derive_path("m/0'/1")
    tprv, tpub = key.to_base58(REGTEST), key.neuter().to_base58(REGTEST)
    assert (tprv[:4], tpub[:4]) == ("tprv", "tpub")
    assert ExtendedKey.from_base58(tprv, REGTEST) == key
    assert extended_key_network(tprv) is REGTEST
    assert extended_key_network(key.to_base58(MAINNET)) is MAINNET
    with pytest.raises(ExtendedKeyError) as caught:
        ExtendedKey.from_base58(tpub, MAINNET)
    assert caught.value.problem is ExtendedKeyProblem.WRONG_NETWORK
    assert "regtest" in str(caught.value) and "mainnet" in str(caught.value)


def test_serialized_fields() -> None:
    key = ExtendedKey.from_seed(SEED_1).derive_path("m/0'/1")
    raw = key.serialize(KeyVersions.for_network(MAINNET))
    assert len(raw) == 78
    assert raw[:4] == bytes.fromhex("0488ade4") and raw[4] == 2
    assert raw[5:9] == ExtendedKey.from_seed(SEED_1).derive_child(HARDENED).fingerprint
    assert int.from_bytes(raw[9:13], "big") == 1
    assert ExtendedKey.deserialize(raw, KeyVersions.for_network(MAINNET)) == key
    with pytest.raises(ExtendedKeyError) as caught:
        ExtendedKey.deserialize(raw + b"\x00", KeyVersions.for_network(MAINNET))
    assert caught.value.problem is ExtendedKeyProblem.BAD_LENGTH


def test_master_key_fingerprint_and_identifier() -> None:
    master = ExtendedKey.from_seed(SEED_1)
    # BIP32 vector 1: m/0H's parent fingerprint is the master's, 3442193e
    assert master.fingerprint.hex() == "3442193e"
    assert master.identifier.hex().startswith("3442193e")
    assert master.neuter().fingerprint == master.fingerprint


def test_private_repr_hides_key_and_chain_code() -> None:
    key = ExtendedKey.from_seed(SEED_1).derive_path("m/0'")
    text = repr(key)
    assert key.private_key.hex() not in text and key.chain_code.hex() not in text
    assert key.fingerprint.hex() in text and "depth=1" in text
    public = key.neuter()
    assert eval(repr(public), {"ExtendedKey": ExtendedKey}) == public  # a constructor


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("m", ()),
        ("m/84'/1'/0'/0/5", (84 + HARDENED, 1 + HARDENED, HARDENED, 0, 5)),
        ("m/84h/1H/0'", (84 + HARDENED, 1 + HARDENED, HARDENED)),
        ("0/5", (0, 5)),
        ("m/2147483647'", (2**32 - 1,)),
    ],
)
def test_parse_path(path: str, expected: tuple[int, ...]) -> None:
    assert parse_path(path) == expected


@pytest.mark.parametrize(
    "path", ["", "m/", "m//1", "m/2147483648", "m/-1", "m/1''", "m/x", "m/01", "n/1", "m/\uff11"]
)
def test_bad_paths_refused(path: str) -> None:
    with pytest.raises(InvalidPathError) as caught:
        parse_path(path)
    assert caught.value.path == path


def test_hardened_from_public_and_absolute_from_child_are_misuse() -> None:
    account = ExtendedKey.from_seed(SEED_1).derive_path("m/0'")
    with pytest.raises(WalletMisuse, match="hardened child 1'"):
        account.neuter().derive_child(HARDENED + 1)
    with pytest.raises(WalletMisuse, match="depth 1"):
        account.derive_path("m/1")
    assert account.derive_path("1") == ExtendedKey.from_seed(SEED_1).derive_path("m/0'/1")
    with pytest.raises(WalletMisuse):
        account.neuter().private_key  # noqa: B018


def test_invalid_child_cases() -> None:
    """BIP32: IL >= n, or a zero child key, makes index i invalid (caller tries i+1)."""
    master = ExtendedKey.from_seed(SEED_1)
    chain_code = bytes(32)
    too_big = SECP256K1_ORDER.to_bytes(32, "big") + chain_code
    with pytest.raises(InvalidChildKey) as caught:
        master._child_from_digest(7, too_big, master.fingerprint)
    assert caught.value.index == 7 and "IL" in caught.value.reason
    negated = (SECP256K1_ORDER - int.from_bytes(master.private_key, "big")).to_bytes(32, "big")
    with pytest.raises(InvalidChildKey, match="zero"):
        master._child_from_digest(8, negated + chain_code, master.fingerprint)
    with pytest.raises(InvalidChildKey, match="infinity"):
        master.neuter()._child_from_digest(9, negated + chain_code, master.fingerprint)


def test_field_validation() -> None:
    with pytest.raises(WalletMisuse):
        ExtendedKey(0, bytes(4), 0, bytes(31), b"\x00" + bytes(31) + b"\x01")
    with pytest.raises(ExtendedKeyError) as caught:
        ExtendedKey(1, bytes(4), 0, bytes(32), b"\x00" * 33)
    assert caught.value.problem is ExtendedKeyProblem.PRIVATE_KEY_OUT_OF_RANGE
    with pytest.raises(WalletMisuse):
        ExtendedKey.from_seed(bytes(15))


def _tap_tweak(internal_key: bytes) -> bytes:
    """BIP341/BIP86 output key, written from the spec: P + tagged_hash("TapTweak", x(P))·G."""
    tag = sha256(b"TapTweak")
    tweak = sha256(tag + tag + internal_key)
    return coincurve.PublicKey(b"\x02" + internal_key).add(tweak).format()[1:]


def test_bip86_keys() -> None:
    """BIP86's keys are plain BIP32 keys at m/86'/0'/...; the Taproot tweak and bech32m
    address are checked with a reference written here and btcnode's bech32m encoder."""
    root, account, *addresses = BIP86
    master = ExtendedKey.from_seed(mnemonic_to_seed(root["mnemonic"]))
    assert master.to_base58(MAINNET) == root["rootpriv"]
    assert master.neuter().to_base58(MAINNET) == root["rootpub"]
    assert master.derive_path("m/86'/0'/0'").to_base58(MAINNET) == account["xprv"]
    assert master.derive_path("m/86'/0'/0'").neuter().to_base58(MAINNET) == account["xpub"]
    assert len(addresses) == 3
    for entry in addresses:
        key = master.derive_path(entry["label"].rsplit("= ", 1)[1])
        assert key.to_base58(MAINNET) == entry["xprv"]
        assert key.neuter().to_base58(MAINNET) == entry["xpub"]
        assert key.public_key[1:].hex() == entry["internal_key"]
        output_key = _tap_tweak(key.public_key[1:])
        assert output_key.hex() == entry["output_key"]
        assert entry["scriptPubKey"] == "5120" + entry["output_key"]
        assert encode_segwit_address("bc", 1, output_key) == entry["address"]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.binary(min_size=16, max_size=64),
    indices=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
    last=st.integers(0, HARDENED - 1),
)
def test_public_and_private_derivation_agree(seed: bytes, indices: list[int], last: int) -> None:
    """N(CKDpriv(k, i)) == CKDpub(N(k), i) for non-hardened i (BIP32), and every key
    survives its serialization on both networks."""
    parent = ExtendedKey.from_seed(seed).derive_path(indices)
    child = parent.derive_child(last)
    assert child.neuter() == parent.neuter().derive_child(last)
    assert child.parent_fingerprint == parent.fingerprint and child.depth == len(indices) + 1
    for params in (MAINNET, REGTEST):
        for key in (child, child.neuter()):
            assert ExtendedKey.from_base58(key.to_base58(params), params) == key


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("xprv0OIl", ExtendedKeyProblem.BAD_ENCODING),
        (b58check_encode(bytes.fromhex("0488ade4") + bytes(70)), ExtendedKeyProblem.BAD_LENGTH),
        (VECTORS[0]["chains"][0]["ext_prv"][:-1] + "j", ExtendedKeyProblem.BAD_CHECKSUM),
    ],
)
def test_malformed_strings(text: str, problem: ExtendedKeyProblem) -> None:
    with pytest.raises(ExtendedKeyError) as caught:
        ExtendedKey.from_base58(text, MAINNET)
    assert caught.value.problem is problem
