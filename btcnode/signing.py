"""Signing transaction inputs for the common single-key templates (P2PKH, P2WPKH, P2SH-P2WPKH).

A small helper for tests, the miner and benchmarks; the wallet builds on the same pieces.
Signatures are deterministic (RFC 6979 nonces from libsecp256k1), DER-encoded and low-S, so
they pass the standard policy flags (LOW_S, STRICTENC, NULLFAIL). Keys are always used with
their compressed public key, as WITNESS_PUBKEYTYPE requires for segwit spends.

Every input of one transaction is signed against the unsigned transaction with one shared
`PrecomputedTxData`: a signature hash never covers the other inputs' scriptSigs or witnesses,
so adding them afterwards does not change what was signed.
"""

from __future__ import annotations

from collections.abc import Sequence

import coincurve

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import hash160
from btcnode.consensus.script.ops import (
    is_p2sh,
    p2pkh_script,
    p2sh_script,
    p2wpkh_script,
    push_data,
)
from btcnode.consensus.sighash import (
    SIGHASH_ALL,
    PrecomputedTxData,
    signature_hash_legacy,
    signature_hash_witness_v0,
)
from btcnode.consensus.tx import Tx, TxIn, TxOut

__all__ = [
    "p2pkh_script_for",
    "p2sh_p2wpkh_script_for",
    "p2wpkh_redeem_script_for",
    "p2wpkh_script_for",
    "sign_inputs",
    "sign_p2pkh_input",
    "sign_p2sh_p2wpkh_input",
    "sign_p2wpkh_input",
]


def _pubkey(key: coincurve.PrivateKey) -> bytes:
    return key.public_key.format(compressed=True)


def p2pkh_script_for(pubkey: bytes) -> bytes:
    """OP_DUP OP_HASH160 <hash160(pubkey)> OP_EQUALVERIFY OP_CHECKSIG."""
    return p2pkh_script(hash160(pubkey))


def p2wpkh_script_for(pubkey: bytes) -> bytes:
    """OP_0 <hash160(pubkey)> (BIP141)."""
    return p2wpkh_script(hash160(pubkey))


def p2wpkh_redeem_script_for(pubkey: bytes) -> bytes:
    """The redeem script of a P2SH-wrapped P2WPKH output: the witness program itself."""
    return p2wpkh_script_for(pubkey)


def p2sh_p2wpkh_script_for(pubkey: bytes) -> bytes:
    """OP_HASH160 <hash160(redeem script)> OP_EQUAL around a P2WPKH program (BIP141)."""
    return p2sh_script(hash160(p2wpkh_redeem_script_for(pubkey)))


def _sign_digest(key: coincurve.PrivateKey, digest: bytes, hash_type: int) -> bytes:
    """DER low-S signature of a 32-byte hash, followed by the hash type byte."""
    if not 0 <= hash_type <= 0xFF:
        raise ChainMisuse(f"hash type {hash_type:#x} does not fit the signature's last byte")
    return key.sign(digest, hasher=None) + bytes((hash_type,))


def _check_input(tx: Tx, n_in: int) -> None:
    if not 0 <= n_in < len(tx.vin):
        raise ChainMisuse(f"input index {n_in} out of range for {len(tx.vin)} inputs")


def _check_script(spent: TxOut, expected: bytes, template: str) -> None:
    if spent.script_pubkey != expected:
        raise ChainMisuse(
            f"the key does not match the spent {template} output "
            f"(script {spent.script_pubkey.hex()}, key gives {expected.hex()})"
        )


def _with_input(tx: Tx, n_in: int, script_sig: bytes, witness: tuple[bytes, ...]) -> Tx:
    old = tx.vin[n_in]
    new = TxIn(old.prevout, script_sig, old.sequence, witness)
    return Tx(tx.version, (*tx.vin[:n_in], new, *tx.vin[n_in + 1 :]), tx.vout, tx.lock_time)


def _solve_p2pkh(
    tx: Tx,
    n_in: int,
    key: coincurve.PrivateKey,
    spent: TxOut,
    hash_type: int,
    txdata: PrecomputedTxData,
) -> tuple[bytes, tuple[bytes, ...]]:
    pubkey = _pubkey(key)
    _check_script(spent, p2pkh_script_for(pubkey), "P2PKH")
    digest = signature_hash_legacy(spent.script_pubkey, tx, n_in, hash_type, txdata)
    return push_data(_sign_digest(key, digest, hash_type)) + push_data(pubkey), ()


def _solve_p2wpkh(
    tx: Tx,
    n_in: int,
    key: coincurve.PrivateKey,
    spent: TxOut,
    hash_type: int,
    txdata: PrecomputedTxData,
    *,
    wrapped: bool,
) -> tuple[bytes, tuple[bytes, ...]]:
    pubkey = _pubkey(key)
    if wrapped:
        _check_script(spent, p2sh_p2wpkh_script_for(pubkey), "P2SH-P2WPKH")
    else:
        _check_script(spent, p2wpkh_script_for(pubkey), "P2WPKH")
    script_code = p2pkh_script_for(pubkey)  # BIP143: the P2WPKH scriptCode
    digest = signature_hash_witness_v0(script_code, tx, n_in, spent.value, hash_type, txdata)
    script_sig = push_data(p2wpkh_redeem_script_for(pubkey)) if wrapped else b""
    return script_sig, (_sign_digest(key, digest, hash_type), pubkey)


def _solve(
    tx: Tx,
    n_in: int,
    key: coincurve.PrivateKey,
    spent: TxOut,
    hash_type: int,
    txdata: PrecomputedTxData,
) -> tuple[bytes, tuple[bytes, ...]]:
    """The scriptSig and witness spending `spent`, chosen by its template."""
    script = spent.script_pubkey
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14":
        return _solve_p2pkh(tx, n_in, key, spent, hash_type, txdata)
    if len(script) == 22 and script[:2] == b"\x00\x14":
        return _solve_p2wpkh(tx, n_in, key, spent, hash_type, txdata, wrapped=False)
    if is_p2sh(script):
        return _solve_p2wpkh(tx, n_in, key, spent, hash_type, txdata, wrapped=True)
    raise ChainMisuse(f"cannot sign for script {script.hex()}: not P2PKH, P2WPKH or P2SH-P2WPKH")


def sign_p2pkh_input(
    tx: Tx, n_in: int, key: coincurve.PrivateKey, spent: TxOut, hash_type: int = SIGHASH_ALL
) -> Tx:
    """`tx` with input `n_in` spending the P2PKH output `spent` of `key`."""
    _check_input(tx, n_in)
    script_sig, witness = _solve_p2pkh(tx, n_in, key, spent, hash_type, PrecomputedTxData(tx))
    return _with_input(tx, n_in, script_sig, witness)


def sign_p2wpkh_input(
    tx: Tx, n_in: int, key: coincurve.PrivateKey, spent: TxOut, hash_type: int = SIGHASH_ALL
) -> Tx:
    """`tx` with input `n_in` spending the P2WPKH output `spent` of `key` (BIP143)."""
    _check_input(tx, n_in)
    txdata = PrecomputedTxData(tx)
    script_sig, witness = _solve_p2wpkh(tx, n_in, key, spent, hash_type, txdata, wrapped=False)
    return _with_input(tx, n_in, script_sig, witness)


def sign_p2sh_p2wpkh_input(
    tx: Tx, n_in: int, key: coincurve.PrivateKey, spent: TxOut, hash_type: int = SIGHASH_ALL
) -> Tx:
    """`tx` with input `n_in` spending the P2SH-wrapped P2WPKH output `spent` of `key`."""
    _check_input(tx, n_in)
    txdata = PrecomputedTxData(tx)
    script_sig, witness = _solve_p2wpkh(tx, n_in, key, spent, hash_type, txdata, wrapped=True)
    return _with_input(tx, n_in, script_sig, witness)


def sign_inputs(
    tx: Tx,
    keys_and_spent_outputs: Sequence[tuple[coincurve.PrivateKey, TxOut]],
    hash_type: int = SIGHASH_ALL,
) -> Tx:
    """`tx` with every input signed; entry i is the key and the output input i spends.

    The template of each spent output picks the spend: P2PKH, P2WPKH, or P2SH (taken to
    wrap the key's P2WPKH program).
    """
    if len(keys_and_spent_outputs) != len(tx.vin):
        raise ChainMisuse(
            f"{len(keys_and_spent_outputs)} keys for a transaction with {len(tx.vin)} inputs"
        )
    txdata = PrecomputedTxData(tx, [spent for _, spent in keys_and_spent_outputs])
    vin = []
    for n_in, (key, spent) in enumerate(keys_and_spent_outputs):
        script_sig, witness = _solve(tx, n_in, key, spent, hash_type, txdata)
        old = tx.vin[n_in]
        vin.append(TxIn(old.prevout, script_sig, old.sequence, witness))
    return Tx(tx.version, tuple(vin), tx.vout, tx.lock_time)
