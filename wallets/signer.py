"""Signing a built transaction, and checking every input with the consensus library.

Signatures are ECDSA over secp256k1 with RFC 6979 nonces, low S (libsecp256k1 normalises),
and low R: like Core (CKey::Sign with grind=true) the nonce is re-derived with a 32-byte
counter as extra entropy until r has no high bit, so the DER signature is at most 70 bytes
and `wallets.txsize` can count 71 with the hash type. Only SIGHASH_ALL is produced.

Before a signed transaction is returned every input is run through
`btcnode.consensus.verify_script` with Core's standard verification flags; any failure
raises `InputVerificationFailed` naming the input, so nothing unspendable leaves the wallet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import coincurve
from coincurve._libsecp256k1 import ffi, lib  # the nonce function hook for low-R grinding

from btcnode.consensus import STANDARD_FLAGS, ChainMisuse, ScriptError, verify_script
from btcnode.consensus.script.ops import push_data
from btcnode.consensus.sighash import (
    SIGHASH_ALL,
    PrecomputedTxData,
    signature_hash_legacy,
    signature_hash_witness_v0,
)
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.signing import (
    p2pkh_script_for,
    p2sh_p2wpkh_script_for,
    p2wpkh_redeem_script_for,
    p2wpkh_script_for,
)
from wallets.builder import Spendable
from wallets.errors import WalletError, WalletMisuse
from wallets.txsize import InputType

__all__ = [
    "MAX_GRIND_ATTEMPTS",
    "InputVerificationFailed",
    "KeyLookup",
    "KeyMismatch",
    "input_digest",
    "script_for_key",
    "sign_digest_low_r",
    "sign_transaction",
    "solution_for",
    "verify_inputs",
]

MAX_GRIND_ATTEMPTS = 1 << 16  # half of all nonces give a low R; 2^-65536 odds of running out

KeyLookup = Callable[[Spendable], coincurve.PrivateKey]


class InputVerificationFailed(WalletError):
    """A signed input does not pass the script check: it names the input and why."""

    def __init__(self, input_index: int, outpoint: OutPoint, reason: str) -> None:
        self.input_index, self.outpoint, self.reason = input_index, outpoint, reason
        super().__init__(f"input {input_index} ({outpoint}) fails verification: {reason}")


class KeyMismatch(WalletMisuse):
    """The key given for an input is not the one its script pays."""

    def __init__(self, input_index: int, script_pubkey: bytes, key_script: bytes) -> None:
        self.input_index = input_index
        super().__init__(
            f"the key for input {input_index} gives script {key_script.hex()}, "
            f"but the coin pays {script_pubkey.hex()}"
        )


def _has_low_r(der: bytes) -> bool:
    return der[3] <= 32 and der[4] < 0x80  # r is 32 bytes or fewer, no sign padding


def sign_digest_low_r(key: coincurve.PrivateKey, digest: bytes) -> bytes:
    """A DER low-S, low-R signature of a 32-byte digest (Core's CKey::Sign, grind=true)."""
    if len(digest) != 32:
        raise WalletMisuse(f"a signature hash is 32 bytes, got {len(digest)}")
    der = key.sign(digest, hasher=None)
    counter = 0
    while not _has_low_r(der):
        counter += 1
        if counter > MAX_GRIND_ATTEMPTS:
            raise WalletError("no low-R nonce found: the signing library misbehaves")
        extra = ffi.new("unsigned char[32]", counter.to_bytes(4, "little") + bytes(28))
        der = key.sign(
            digest, hasher=None, custom_nonce=(lib.secp256k1_nonce_function_rfc6979, extra)
        )
    return der


def script_for_key(input_type: InputType, pubkey: bytes) -> bytes:
    """The script a coin of `input_type` paying `pubkey` has."""
    if input_type is InputType.P2PKH:
        return p2pkh_script_for(pubkey)
    if input_type is InputType.P2WPKH:
        return p2wpkh_script_for(pubkey)
    return p2sh_p2wpkh_script_for(pubkey)


def input_digest(
    tx: Tx,
    n_in: int,
    spent: TxOut,
    input_type: InputType,
    pubkey: bytes,
    txdata: PrecomputedTxData,
) -> bytes:
    """The SIGHASH_ALL signature hash of input `n_in`: legacy for P2PKH, BIP143 otherwise
    (the scriptCode of a P2WPKH spend is the P2PKH script of the key)."""
    if input_type is InputType.P2PKH:
        return signature_hash_legacy(spent.script_pubkey, tx, n_in, SIGHASH_ALL, txdata)
    script_code = p2pkh_script_for(pubkey)
    return signature_hash_witness_v0(script_code, tx, n_in, spent.value, SIGHASH_ALL, txdata)


def solution_for(
    input_type: InputType, signature: bytes, pubkey: bytes
) -> tuple[bytes, tuple[bytes, ...]]:
    """The scriptSig and witness of a spend, from its signature (with hash type) and key."""
    if input_type is InputType.P2PKH:
        return push_data(signature) + push_data(pubkey), ()
    script_sig = b""
    if input_type is InputType.P2SH_P2WPKH:
        script_sig = push_data(p2wpkh_redeem_script_for(pubkey))
    return script_sig, (signature, pubkey)


def sign_transaction(tx: Tx, spent: Sequence[Spendable], key_for: KeyLookup) -> Tx:
    """`tx` with every input signed (SIGHASH_ALL) and verified; `spent[i]` is input i's coin
    and `key_for(coin)` its private key."""
    if len(spent) != len(tx.vin):
        raise WalletMisuse(f"{len(spent)} coins for a transaction with {len(tx.vin)} inputs")
    for n_in, (txin, coin) in enumerate(zip(tx.vin, spent, strict=True)):
        if txin.prevout != coin.outpoint:
            raise WalletMisuse(f"input {n_in} spends {txin.prevout}, the coin is {coin.outpoint}")
    txdata = PrecomputedTxData(tx, [c.txout for c in spent])
    vin = []
    for n_in, coin in enumerate(spent):
        key = key_for(coin)
        pubkey = key.public_key.format(compressed=True)
        key_script = script_for_key(coin.input_type, pubkey)
        if key_script != coin.txout.script_pubkey:
            raise KeyMismatch(n_in, coin.txout.script_pubkey, key_script)
        digest = input_digest(tx, n_in, coin.txout, coin.input_type, pubkey, txdata)
        signature = sign_digest_low_r(key, digest) + bytes((SIGHASH_ALL,))
        script_sig, witness = solution_for(coin.input_type, signature, pubkey)
        old = tx.vin[n_in]
        vin.append(TxIn(old.prevout, script_sig, old.sequence, witness))
    signed = Tx(tx.version, tuple(vin), tx.vout, tx.lock_time)
    verify_inputs(signed, [c.txout for c in spent])
    return signed


def verify_inputs(tx: Tx, spent_outputs: Sequence[TxOut], flags: int = STANDARD_FLAGS) -> None:
    """Every input of `tx` against the output it spends, as a relaying node checks it."""
    if len(spent_outputs) != len(tx.vin):
        raise WalletMisuse(f"{len(spent_outputs)} spent outputs for {len(tx.vin)} inputs")
    tx_bytes = tx.serialize()
    for n_in, out in enumerate(spent_outputs):
        try:
            verify_script(out.script_pubkey, out.value, tx_bytes, n_in, flags)
        except ScriptError as err:
            raise InputVerificationFailed(n_in, tx.vin[n_in].prevout, err.error.message) from None
        except ChainMisuse as err:
            raise InputVerificationFailed(n_in, tx.vin[n_in].prevout, str(err)) from None
