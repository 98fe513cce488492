"""Addresses and WIF keys against Core's key_io vectors and the BIP173/BIP350 vectors."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from btcnode.address import (
    AddressError,
    AddressProblem,
    Bech32Encoding,
    WifKey,
    address_for_script,
    b58check_decode,
    b58check_encode,
    b58decode,
    b58encode,
    bech32_decode,
    bech32_encode,
    decode_segwit_address,
    decode_wif,
    encode_segwit_address,
    encode_wif,
    script_for_address,
)
from btcnode.consensus.params import MAINNET, REGTEST, ChainParams
from tests.vectors import load_json

# Core's key_io vectors name four networks; testnet4 and signet share testnet's prefixes.
TESTNET = dataclasses.replace(REGTEST, name="testnet4", bech32_hrp="tb")
NETWORKS: dict[str, ChainParams] = {
    "main": MAINNET,
    "testnet4": TESTNET,
    "signet": dataclasses.replace(TESTNET, name="signet"),
    "regtest": REGTEST,
}

BASE58 = load_json("bitcoin", "base58_encode_decode.json")
KEY_IO_VALID = load_json("bitcoin", "key_io_valid.json")
KEY_IO_INVALID = [row[0] for row in load_json("bitcoin", "key_io_invalid.json")]
BECH32 = load_json("bitcoin", "bech32_vectors.json")
ADDRESS_ROWS = [row for row in KEY_IO_VALID if not row[2]["isPrivkey"]]
KEY_ROWS = [row for row in KEY_IO_VALID if row[2]["isPrivkey"]]


def _id(row: Any) -> str:
    return str(row[0])[:24]


# -- Base58 -------------------------------------------------------------------------------


@pytest.mark.parametrize(("hex_data", "text"), BASE58, ids=[t or "empty" for _, t in BASE58])
def test_base58_vectors(hex_data: str, text: str) -> None:
    assert b58encode(bytes.fromhex(hex_data)) == text
    assert b58decode(text) == bytes.fromhex(hex_data)


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "1 1", "abc+"])
def test_base58_refuses_characters_outside_the_alphabet(bad: str) -> None:
    with pytest.raises(AddressError) as info:
        b58decode(bad)
    assert info.value.problem is AddressProblem.BAD_CHARACTER


def test_base58check_round_trip_and_checksum() -> None:
    text = b58check_encode(b"\x6f" + bytes(range(20)))
    assert b58check_decode(text) == b"\x6f" + bytes(range(20))
    broken = text[:-1] + ("2" if text[-1] != "2" else "3")
    with pytest.raises(AddressError) as info:
        b58check_decode(broken)
    assert info.value.problem is AddressProblem.BAD_CHECKSUM


def test_base58_bounds_its_input() -> None:
    with pytest.raises(AddressError) as info:
        b58decode("2" * 1001)
    assert info.value.problem is AddressProblem.BAD_LENGTH


# -- bech32 / bech32m strings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "text"),
    [(Bech32Encoding.BECH32, t) for t in BECH32["bech32_valid"]]
    + [(Bech32Encoding.BECH32M, t) for t in BECH32["bech32m_valid"]],
    ids=lambda v: v[:20] if isinstance(v, str) else v.name,
)
def test_bech32_valid_strings(encoding: Bech32Encoding, text: str) -> None:
    found, hrp, data = bech32_decode(text)
    assert found is encoding
    assert bech32_encode(hrp, data, encoding) == text.lower()


_STRING_PROBLEMS = {
    "HRP character out of range": AddressProblem.BAD_CHARACTER,
    "overall max length exceeded": AddressProblem.BAD_LENGTH,
    "No separator character": AddressProblem.BAD_FORMAT,
    "Empty HRP": AddressProblem.BAD_FORMAT,
    "empty HRP": AddressProblem.BAD_FORMAT,
    "Invalid data character": AddressProblem.BAD_CHARACTER,
    "Too short checksum": AddressProblem.BAD_LENGTH,
    "Invalid character in checksum": AddressProblem.BAD_CHARACTER,
    "checksum calculated with uppercase form of HRP": AddressProblem.BAD_CHECKSUM,
}


@pytest.mark.parametrize(
    "row",
    BECH32["bech32_invalid"] + BECH32["bech32m_invalid"],
    ids=lambda r: repr(r["string"])[:20],
)
def test_bech32_invalid_strings(row: dict[str, str]) -> None:
    with pytest.raises(AddressError) as info:
        bech32_decode(row["string"])
    assert info.value.problem is _STRING_PROBLEMS[row["reason"]], info.value


def test_bech32_decode_refuses_a_flipped_checksum_character() -> None:
    good = bech32_encode("bcrt", [0, 1, 2, 3], Bech32Encoding.BECH32M)
    bad = good[:-1] + ("q" if good[-1] != "q" else "p")
    with pytest.raises(AddressError) as info:
        bech32_decode(bad)
    assert info.value.problem is AddressProblem.BAD_CHECKSUM


# -- segwit addresses ------------------------------------------------------------------------


def _hrp_of(address: str) -> str:
    return address[: address.rfind("1")].lower()


@pytest.mark.parametrize(
    "row", BECH32["bip350_valid_segwit_addresses"], ids=lambda r: r["address"][:24]
)
def test_bip350_valid_segwit_addresses(row: dict[str, str]) -> None:
    address, script = row["address"], bytes.fromhex(row["scriptPubKey"])
    hrp = _hrp_of(address)
    version, program = decode_segwit_address(hrp, address)
    assert bytes((0x50 + version if version else 0, len(program))) + program == script
    assert encode_segwit_address(hrp, version, program) == address.lower()


@pytest.mark.parametrize(
    "row", BECH32["bip173_valid_segwit_addresses"], ids=lambda r: r["address"][:24]
)
def test_bip173_segwit_addresses_under_bip350(row: dict[str, str]) -> None:
    """Version 0 addresses stay valid; BIP173's bech32 v1+ addresses are refused (BIP350)."""
    address, script = row["address"], bytes.fromhex(row["scriptPubKey"])
    if script[0] == 0:
        version, program = decode_segwit_address(_hrp_of(address), address)
        assert (version, program) == (0, script[2:])
        return
    with pytest.raises(AddressError) as info:
        decode_segwit_address(_hrp_of(address), address)
    assert info.value.problem is AddressProblem.WRONG_CHECKSUM_KIND


_SEGWIT_PROBLEMS = {
    "Invalid human-readable part": AddressProblem.WRONG_NETWORK,
    "Invalid checksum": AddressProblem.BAD_CHECKSUM,
    "Invalid checksum (Bech32 instead of Bech32m)": AddressProblem.WRONG_CHECKSUM_KIND,
    "Invalid checksum (Bech32m instead of Bech32)": AddressProblem.WRONG_CHECKSUM_KIND,
    "Invalid character in checksum": AddressProblem.BAD_CHARACTER,
    "Invalid witness version": AddressProblem.BAD_WITNESS_VERSION,
    "Invalid program length": AddressProblem.BAD_PROGRAM_LENGTH,
    "Invalid program length (1 byte)": AddressProblem.BAD_PROGRAM_LENGTH,
    "Invalid program length (41 bytes)": AddressProblem.BAD_PROGRAM_LENGTH,
    "Invalid program length for witness version 0 (per BIP141)": (
        AddressProblem.BAD_PROGRAM_LENGTH
    ),
    "Mixed case": AddressProblem.MIXED_CASE,
    "zero padding of more than 4 bits": AddressProblem.BAD_PADDING,
    "Non-zero padding in 8-to-5 conversion": AddressProblem.BAD_PADDING,
    "Empty data section": AddressProblem.EMPTY_DATA,
}


@pytest.mark.parametrize(
    "row",
    BECH32["bip173_invalid_segwit_addresses"] + BECH32["bip350_invalid_segwit_addresses"],
    ids=lambda r: r["address"][:24],
)
@pytest.mark.parametrize("hrp", ["bc", "tb"])
def test_invalid_segwit_addresses(row: dict[str, str], hrp: str) -> None:
    address = row["address"]
    with pytest.raises(AddressError) as info:
        decode_segwit_address(hrp, address)
    if _hrp_of(address) == hrp or row["reason"] == "Invalid human-readable part":
        assert info.value.problem is _SEGWIT_PROBLEMS[row["reason"]], info.value
    else:
        assert info.value.problem in (AddressProblem.WRONG_NETWORK, _SEGWIT_PROBLEMS[row["reason"]])


# -- Core's key_io vectors ----------------------------------------------------------------


@pytest.mark.parametrize("row", ADDRESS_ROWS, ids=_id)
def test_key_io_valid_addresses(row: list[Any]) -> None:
    address, script_hex, meta = row
    params = NETWORKS[meta["chain"]]
    script = bytes.fromhex(script_hex)
    assert script_for_address(address, params) == script
    assert address_for_script(script, params) == address
    if meta.get("tryCaseFlip"):
        assert script_for_address(address.swapcase(), params) == script


@pytest.mark.parametrize("row", ADDRESS_ROWS, ids=_id)
def test_key_io_addresses_of_other_networks_are_refused(row: list[Any]) -> None:
    address, _, meta = row
    own = NETWORKS[meta["chain"]]
    for name, params in NETWORKS.items():
        if (params.bech32_hrp, params.base58_pubkey_prefix) == (
            own.bech32_hrp,
            own.base58_pubkey_prefix,
        ):
            continue  # testnet4 and signet share every prefix
        is_base58 = not address.lower().startswith(own.bech32_hrp + "1")
        if is_base58 and params.base58_pubkey_prefix == own.base58_pubkey_prefix:
            continue  # regtest shares testnet's Base58 prefixes
        with pytest.raises(AddressError) as info:
            script_for_address(address, params)
        assert info.value.problem is AddressProblem.WRONG_NETWORK, (name, info.value)


@pytest.mark.parametrize("row", KEY_ROWS, ids=_id)
def test_key_io_valid_wif_keys(row: list[Any]) -> None:
    text, secret_hex, meta = row
    params = NETWORKS[meta["chain"]]
    key = decode_wif(text, params)
    assert key == WifKey(bytes.fromhex(secret_hex), meta["isCompressed"])
    assert encode_wif(key, params) == text
    with pytest.raises(AddressError):
        script_for_address(text, params)  # a key is not an address


@pytest.mark.parametrize("text", KEY_IO_INVALID, ids=lambda t: t[:24] or "empty")
def test_key_io_invalid_strings(text: str) -> None:
    for params in NETWORKS.values():
        with pytest.raises(AddressError):
            script_for_address(text, params)
        with pytest.raises(AddressError):
            decode_wif(text, params)


# -- scripts without an address, and error evidence -----------------------------------------


@pytest.mark.parametrize(
    "script_hex",
    [
        "21" + "02" + "11" * 32 + "ac",  # P2PK: Core's ExtractDestination gives no address
        "6a0401020304",  # OP_RETURN
        "5121" + "02" + "11" * 32 + "51ae",  # bare 1-of-1 multisig
        "0015" + "11" * 21,  # version 0 with a 21-byte program
        "",
        "ff",
    ],
)
def test_scripts_without_an_address(script_hex: str) -> None:
    assert address_for_script(bytes.fromhex(script_hex), REGTEST) is None


def test_pay_to_anchor_has_an_address() -> None:
    assert address_for_script(bytes.fromhex("51024e73"), MAINNET) == "bc1pfeessrawgf"


def test_wrong_network_says_what_it_expected() -> None:
    mainnet_address = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    with pytest.raises(AddressError) as info:
        script_for_address(mainnet_address, REGTEST)
    assert info.value.problem is AddressProblem.WRONG_NETWORK
    assert "'bc'" in info.value.message and "'bcrt'" in info.value.message


def test_mixed_case_regtest_address() -> None:
    address = encode_segwit_address("bcrt", 0, bytes(20))
    mixed = address[:5] + address[5:].upper()
    with pytest.raises(AddressError) as info:
        script_for_address(mixed, REGTEST)
    assert info.value.problem is AddressProblem.MIXED_CASE


def test_overlong_address_is_refused_before_decoding() -> None:
    with pytest.raises(AddressError) as info:
        script_for_address("bcrt1" + "q" * 200, REGTEST)
    assert info.value.problem is AddressProblem.BAD_LENGTH


def test_wif_repr_hides_the_secret() -> None:
    key = WifKey(bytes(31) + b"\x07", compressed=True)
    assert "07" not in repr(key)
    with pytest.raises(AddressError):
        WifKey(bytes(32), compressed=True)  # zero is not a valid secret
