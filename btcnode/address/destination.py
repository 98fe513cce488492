"""Addresses to output scripts and back (Core's key_io DecodeDestination/EncodeDestination
with GetScriptForDestination and ExtractDestination), for one network's `ChainParams`.

Base58Check addresses carry a one-byte prefix (`base58_pubkey_prefix` for P2PKH,
`base58_script_prefix` for P2SH) and a 20-byte hash; segwit addresses carry the network's
`bech32_hrp`. Regtest uses testnet's Base58 prefixes (111/196) and its own hrp `bcrt`, so a
testnet Base58 address is also a regtest one, exactly as in Core.
"""

from __future__ import annotations

from btcnode.address.base58 import b58check_decode, b58check_encode
from btcnode.address.bech32 import (
    CHARSET,
    MAX_BECH32_CHARS,
    decode_segwit_address,
    encode_segwit_address,
)
from btcnode.address.errors import AddressError, AddressProblem
from btcnode.consensus.params import ChainParams
from btcnode.consensus.script.ops import (
    encode_small_int,
    p2pkh_script,
    p2sh_script,
    witness_program,
)
from btcnode.mempool import TxoutType, solve

__all__ = [
    "MAX_ADDRESS_CHARS",
    "address_for_script",
    "script_for_address",
    "witness_script",
]

MAX_ADDRESS_CHARS = MAX_BECH32_CHARS  # the longest address form; Base58 ones are at most 35
HASH_BYTES = 20  # HASH160 of a key or a redeem script


def witness_script(version: int, program: bytes) -> bytes:
    """OP_n <program>: the output script of a witness program (BIP141)."""
    return bytes((encode_small_int(version), len(program))) + program


def script_for_address(address: str, params: ChainParams) -> bytes:
    """The output script `address` pays to on `params`' network; `AddressError` otherwise."""
    if len(address) > MAX_ADDRESS_CHARS:
        raise AddressError(
            AddressProblem.BAD_LENGTH,
            f"address of {len(address)} characters (at most {MAX_ADDRESS_CHARS})",
        )
    if _looks_segwit(address, params.bech32_hrp):
        version, program = decode_segwit_address(params.bech32_hrp, address)
        return witness_script(version, program)
    try:
        payload = b58check_decode(address)
    except AddressError as err:
        if _looks_bech32(address):  # the segwit address of some other network
            hrp = address[: address.rfind("1")].lower()
            raise AddressError(
                AddressProblem.WRONG_NETWORK,
                f"segwit address prefix {hrp!r} is not this network's {params.bech32_hrp!r}",
            ) from None
        raise err
    return _script_for_base58(payload, params)


def _looks_segwit(address: str, hrp: str) -> bool:
    return address.lower().startswith(hrp + "1")


def _looks_bech32(address: str) -> bool:
    separator = address.rfind("1")
    data = address[separator + 1 :].lower()
    return separator > 0 and len(data) >= 6 and all(c in CHARSET for c in data)


def _script_for_base58(payload: bytes, params: ChainParams) -> bytes:
    if len(payload) != 1 + HASH_BYTES:
        raise AddressError(
            AddressProblem.BAD_LENGTH,
            f"Base58 address payload of {len(payload)} bytes (a prefix and a 20-byte hash)",
        )
    prefix, digest = payload[0], payload[1:]
    if prefix == params.base58_pubkey_prefix:
        return p2pkh_script(digest)
    if prefix == params.base58_script_prefix:
        return p2sh_script(digest)
    raise AddressError(
        AddressProblem.WRONG_NETWORK,
        f"Base58 address prefix {prefix} is neither {params.name}'s P2PKH prefix "
        f"{params.base58_pubkey_prefix} nor its P2SH prefix {params.base58_script_prefix}",
    )


def address_for_script(script: bytes, params: ChainParams) -> str | None:
    """The address of an output script, or None for a script without one (P2PK, bare
    multisig, OP_RETURN, nonstandard), as Core's ExtractDestination decides."""
    kind, solutions = solve(script)
    if kind is TxoutType.PUBKEYHASH:
        return b58check_encode(bytes((params.base58_pubkey_prefix,)) + solutions[0])
    if kind is TxoutType.SCRIPTHASH:
        return b58check_encode(bytes((params.base58_script_prefix,)) + solutions[0])
    if kind in _WITNESS_KINDS:
        program = witness_program(script)
        assert program is not None  # solve() classified it as a witness program
        return encode_segwit_address(params.bech32_hrp, *program)
    return None


_WITNESS_KINDS = frozenset(
    {
        TxoutType.WITNESS_V0_KEYHASH,
        TxoutType.WITNESS_V0_SCRIPTHASH,
        TxoutType.WITNESS_V1_TAPROOT,
        TxoutType.WITNESS_UNKNOWN,
        TxoutType.ANCHOR,
    }
)
