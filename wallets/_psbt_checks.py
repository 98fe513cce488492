"""BIP174's rules for each known key type: the key data's length and the value's form.

Each `check_*_map` raises `PsbtError` naming the map, the key type and what is wrong. Key
types not listed pass through unchecked (they are the unknown keys BIP174 preserves).
"""

from __future__ import annotations

import coincurve

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.hashes import hash160, ripemd160, sha256, sha256d
from btcnode.consensus.serialize import ByteReader
from btcnode.consensus.tx import Tx, TxOut
from wallets._psbt_map import (
    BIP32_XPUB_BYTES,
    PSBT_HIGHEST_VERSION,
    GlobalKey,
    InputKey,
    KeyOrigin,
    OutputKey,
    PsbtError,
    PsbtMap,
    PsbtProblem,
    parse_witness,
)

__all__ = [
    "check_global_key",
    "check_global_map",
    "check_input_key",
    "check_input_map",
    "check_output_key",
    "check_output_map",
    "parse_txout",
]

_EMPTY_KEY_TYPES_IN = {
    InputKey.NON_WITNESS_UTXO,
    InputKey.WITNESS_UTXO,
    InputKey.SIGHASH_TYPE,
    InputKey.REDEEM_SCRIPT,
    InputKey.WITNESS_SCRIPT,
    InputKey.FINAL_SCRIPTSIG,
    InputKey.FINAL_SCRIPTWITNESS,
}
_PREIMAGE_HASHES = {
    InputKey.RIPEMD160: (20, ripemd160),
    InputKey.SHA256: (32, sha256),
    InputKey.HASH160: (20, hash160),
    InputKey.HASH256: (32, sha256d),
}


def _bad_key(where: str, key_type: int, why: str) -> PsbtError:
    return PsbtError(PsbtProblem.INVALID_KEY, f"{where} key type {key_type:#04x}: {why}")


def _bad_value(where: str, key_type: int, why: str) -> PsbtError:
    return PsbtError(PsbtProblem.INVALID_VALUE, f"{where} key type {key_type:#04x}: {why}")


def _check_pubkey(where: str, key_type: int, data: bytes) -> None:
    if len(data) not in (33, 65):
        raise _bad_key(where, key_type, f"a public key is 33 or 65 bytes, got {len(data)}")
    try:
        coincurve.PublicKey(data)
    except ValueError:
        raise _bad_key(where, key_type, "not a valid public key") from None


def _check_proprietary(where: str, data: bytes) -> None:
    reader = ByteReader(data)
    try:
        reader.read_var_bytes()  # identifier
        reader.read_compact_size()  # subtype; the rest is the subkey data
    except SerializationError as err:
        raise _bad_key(where, 0xFC, f"proprietary key: {err.debug}") from None


def _check_origin(where: str, key_type: int, value: bytes) -> None:
    if len(value) < 4 or len(value) % 4:
        raise _bad_value(where, key_type, f"key origin of {len(value)} bytes")
    KeyOrigin.deserialize(value)


def parse_txout(value: bytes) -> TxOut:
    reader = ByteReader(value)
    try:
        amount = reader.read_i64()
        script = reader.read_var_bytes()
        reader.finish()
    except SerializationError as err:
        raise _bad_value("input", InputKey.WITNESS_UTXO, err.debug) from None
    return TxOut(amount, script)


def check_global_key(key_type: int, data: bytes) -> None:
    """A global key's data, checked as soon as the key is read (as Core does)."""
    if key_type in (GlobalKey.UNSIGNED_TX, GlobalKey.VERSION) and data:
        raise _bad_key("global", key_type, "this type has no key data")
    if key_type == GlobalKey.XPUB and len(data) != BIP32_XPUB_BYTES:
        raise _bad_key("global", key_type, f"an xpub is 78 bytes, got {len(data)}")
    if key_type == GlobalKey.PROPRIETARY:
        _check_proprietary("global", data)


def check_input_key(key_type: int, data: bytes, n: int = 0) -> None:
    """An input key's data, checked as soon as the key is read."""
    where = f"input {n}"
    if key_type in _EMPTY_KEY_TYPES_IN and data:
        raise _bad_key(where, key_type, "this type has no key data")
    if key_type in (InputKey.PARTIAL_SIG, InputKey.BIP32_DERIVATION):
        _check_pubkey(where, key_type, data)
    if key_type in _PREIMAGE_HASHES:
        size = _PREIMAGE_HASHES[InputKey(key_type)][0]
        if len(data) != size:
            raise _bad_key(where, key_type, f"the hash is {size} bytes, got {len(data)}")
    if key_type == InputKey.PROPRIETARY:
        _check_proprietary(where, data)


def check_output_key(key_type: int, data: bytes, n: int = 0) -> None:
    """An output key's data, checked as soon as the key is read."""
    where = f"output {n}"
    if key_type in (OutputKey.REDEEM_SCRIPT, OutputKey.WITNESS_SCRIPT) and data:
        raise _bad_key(where, key_type, "this type has no key data")
    if key_type == OutputKey.BIP32_DERIVATION:
        _check_pubkey(where, key_type, data)
    if key_type == OutputKey.PROPRIETARY:
        _check_proprietary(where, data)


def check_global_map(global_map: PsbtMap) -> Tx:
    """The global map's keys and values, and its unsigned transaction."""
    for key_type, data, value in global_map.items():
        check_global_key(key_type, data)
        if key_type == GlobalKey.XPUB:
            _check_origin("global", key_type, value)
        if key_type == GlobalKey.VERSION:
            if len(value) != 4:
                raise _bad_value("global", key_type, "the version is a 4-byte value, no key data")
            version = int.from_bytes(value, "little")
            if version > PSBT_HIGHEST_VERSION:
                raise PsbtError(PsbtProblem.UNSUPPORTED_VERSION, f"version {version}")
    raw = global_map.get(GlobalKey.UNSIGNED_TX)
    if raw is None:
        raise PsbtError(PsbtProblem.NO_UNSIGNED_TX, "key type 0x00 is missing")
    try:
        tx = Tx.deserialize(raw, allow_witness=False)
    except SerializationError as err:
        raise _bad_value("global", GlobalKey.UNSIGNED_TX, err.debug) from None
    for n, txin in enumerate(tx.vin):
        if txin.script_sig or txin.witness:
            raise PsbtError(PsbtProblem.SIGNED_UNSIGNED_TX, f"input {n}")
    return tx


def check_input_map(input_map: PsbtMap, n: int) -> Tx | None:
    """The input map's keys and values; its non-witness UTXO, decoded, if it has one."""
    where = f"input {n}"
    utxo = None
    for key_type, data, value in input_map.items():
        check_input_key(key_type, data, n)
        if key_type == InputKey.NON_WITNESS_UTXO:
            try:
                utxo = Tx.deserialize(value)
            except SerializationError as err:
                raise _bad_value(where, key_type, err.debug) from None
        elif key_type == InputKey.WITNESS_UTXO:
            parse_txout(value)
        elif key_type == InputKey.BIP32_DERIVATION:
            _check_origin(where, key_type, value)
        elif key_type == InputKey.SIGHASH_TYPE and len(value) != 4:
            raise _bad_value(where, key_type, f"a sighash type is 4 bytes, got {len(value)}")
        elif key_type == InputKey.FINAL_SCRIPTWITNESS:
            try:
                parse_witness(value)
            except SerializationError as err:
                raise _bad_value(where, key_type, err.debug) from None
        elif key_type in _PREIMAGE_HASHES:
            digest = _PREIMAGE_HASHES[InputKey(key_type)][1]
            if digest(value) != data:
                raise _bad_value(where, key_type, "the preimage does not hash to the key")
    return utxo


def check_output_map(output_map: PsbtMap, n: int) -> None:
    for key_type, data, value in output_map.items():
        check_output_key(key_type, data, n)
        if key_type == OutputKey.BIP32_DERIVATION:
            _check_origin(f"output {n}", key_type, value)
