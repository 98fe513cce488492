"""Exact virtual sizes of transactions before they are signed (Core's CalculateMaximumSignedTxSize).

Every size here is what the signed transaction will weigh at most: signatures are counted at
their largest low-R size, 71 bytes with the hash type (a 70-byte DER signature: r and s of at
most 32 bytes each, because `wallets.signer` grinds the nonce for a low R as Core does and
libsecp256k1 always gives a low S), public keys at 33 bytes (compressed). A signed
transaction's real vsize is therefore never above the estimate, and only below it when a
signature came out shorter (r or s with a leading zero byte, one chance in 256 each).

Sizes are in weight units (BIP141: 4 per non-witness byte, 1 per witness byte) and in
virtual bytes (weight / 4, rounded up). Sigop-adjusted vsize (Core's -bytespersigop) is not
applied: the three single-key templates never reach it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from btcnode.consensus.script.ops import is_p2sh
from btcnode.consensus.serialize import ser_compact_size
from btcnode.consensus.tx import WITNESS_SCALE_FACTOR, TxOut
from wallets.errors import WalletMisuse

__all__ = [
    "MAX_LOW_R_SIGNATURE_BYTES",
    "PUBKEY_BYTES",
    "InputType",
    "estimate_vsize",
    "estimate_weight",
    "input_type_for_script",
    "input_vsize",
    "input_weight",
    "output_size",
    "tx_overhead_weight",
    "vsize_of_weight",
]

MAX_LOW_R_SIGNATURE_BYTES = 71  # Core's DUMMY_SIGNATURE_CREATOR: 70-byte low-R DER + hash type
PUBKEY_BYTES = 33  # compressed SEC1 key; WITNESS_PUBKEYTYPE requires it for segwit spends
_OUTPOINT_BYTES = 32 + 4
_SEQUENCE_BYTES = 4
_P2WPKH_PROGRAM_BYTES = 22  # OP_0 <20 bytes>: the P2SH-P2WPKH redeem script
_P2PKH_FRAME = b"\x76\xa9\x14\x88\xac"  # OP_DUP OP_HASH160 <20> ... OP_EQUALVERIFY OP_CHECKSIG
_TX_FIXED_BYTES = 4 + 4  # version and lock time
_SEGWIT_MARKER_WEIGHT = 2  # BIP144 marker and flag bytes, witness data (weight 1 each)


class InputType(enum.Enum):
    """How a coin is spent: the three single-key templates the wallet signs."""

    P2PKH = "p2pkh"
    P2SH_P2WPKH = "p2sh-p2wpkh"
    P2WPKH = "p2wpkh"

    @property
    def is_segwit(self) -> bool:
        return self is not InputType.P2PKH


def input_type_for_script(script_pubkey: bytes) -> InputType:
    """The input type spending `script_pubkey`; any P2SH is taken to wrap a P2WPKH program."""
    if len(script_pubkey) == 25 and script_pubkey[:3] + script_pubkey[23:] == _P2PKH_FRAME:
        return InputType.P2PKH
    if len(script_pubkey) == 22 and script_pubkey[:2] == b"\x00\x14":
        return InputType.P2WPKH
    if is_p2sh(script_pubkey):
        return InputType.P2SH_P2WPKH
    raise WalletMisuse(
        f"script {script_pubkey.hex()} is not P2PKH, P2WPKH or P2SH-P2WPKH: "
        "the wallet cannot size or sign a spend of it"
    )


def _push_size(n: int) -> int:
    return 1 + n  # every push here is under 76 bytes: one length byte


def _witness_size(input_type: InputType) -> int:
    """The serialized witness stack: item count, signature, public key."""
    if not input_type.is_segwit:
        return 0
    return 1 + _push_size(MAX_LOW_R_SIGNATURE_BYTES) + _push_size(PUBKEY_BYTES)


def _script_sig_size(input_type: InputType) -> int:
    if input_type is InputType.P2PKH:
        return _push_size(MAX_LOW_R_SIGNATURE_BYTES) + _push_size(PUBKEY_BYTES)
    if input_type is InputType.P2SH_P2WPKH:
        return _push_size(_P2WPKH_PROGRAM_BYTES)
    return 0


def input_weight(input_type: InputType) -> int:
    """The weight of one signed input (Core's GetTransactionInputWeight), without the one
    empty-witness byte a non-segwit input gets in a segwit transaction."""
    script_sig = _script_sig_size(input_type)
    base = _OUTPOINT_BYTES + len(ser_compact_size(script_sig)) + script_sig + _SEQUENCE_BYTES
    return base * WITNESS_SCALE_FACTOR + _witness_size(input_type)


def vsize_of_weight(weight: int) -> int:
    """Virtual bytes of `weight` weight units, rounded up (BIP141)."""
    return (weight + WITNESS_SCALE_FACTOR - 1) // WITNESS_SCALE_FACTOR


def input_vsize(input_type: InputType) -> int:
    """Vbytes one input adds (Core's per-coin input bytes used for effective values):
    148 - 1 = 147 for P2PKH, 91 for P2SH-P2WPKH, 68 for P2WPKH."""
    return vsize_of_weight(input_weight(input_type))


def output_size(script_pubkey: bytes) -> int:
    """Serialized bytes of an output paying `script_pubkey`: value, length, script."""
    return 8 + len(ser_compact_size(len(script_pubkey))) + len(script_pubkey)


def tx_overhead_weight(n_inputs: int, n_outputs: int, *, segwit: bool) -> int:
    """Version, lock time, the two counts, and the segwit marker and flag when any input
    has a witness."""
    base = _TX_FIXED_BYTES + len(ser_compact_size(n_inputs)) + len(ser_compact_size(n_outputs))
    return base * WITNESS_SCALE_FACTOR + (_SEGWIT_MARKER_WEIGHT if segwit else 0)


def estimate_weight(input_types: Sequence[InputType], outputs: Sequence[TxOut | bytes]) -> int:
    """The weight of the signed transaction with these inputs and outputs (scripts or TxOuts).

    In a segwit transaction every input has a witness field: a legacy input's is one empty
    count byte (weight 1).
    """
    segwit = any(t.is_segwit for t in input_types)
    weight = tx_overhead_weight(len(input_types), len(outputs), segwit=segwit)
    for input_type in input_types:
        weight += input_weight(input_type)
        if segwit and not input_type.is_segwit:
            weight += 1
    for out in outputs:
        script = out.script_pubkey if isinstance(out, TxOut) else out
        weight += output_size(script) * WITNESS_SCALE_FACTOR
    return weight


def estimate_vsize(input_types: Sequence[InputType], outputs: Sequence[TxOut | bytes]) -> int:
    """The vsize of the signed transaction (weight / 4 rounded up)."""
    return vsize_of_weight(estimate_weight(input_types, outputs))
