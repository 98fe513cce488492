"""BIP174 partially signed transactions, version 0: the binary and base64 forms.

A PSBT is the magic `psbt\\xff`, a global map, one map per input and one per output of the
unsigned transaction. Each map keeps its key-value pairs in the order they were read (or
added), so that a PSBT re-serializes byte for byte, and unknown keys (later BIPs, other
wallets) pass through untouched. `PsbtMap` refuses duplicate keys; `Psbt` checks every key
type BIP174 defines for the key-data length and value form it gives it, and the structure:
an unsigned transaction with empty scriptSigs and witnesses, one map per input and output, a
non-witness UTXO whose txid is the one the input spends, version 0. Every length is bounded
by the bytes left; trailing bytes are refused. The roles are in `wallets.psbt_roles`.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from functools import partial

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.serialize import ByteReader
from btcnode.consensus.tx import Tx
from wallets._psbt_checks import (
    check_global_key,
    check_global_map,
    check_input_key,
    check_input_map,
    check_output_key,
    check_output_map,
)
from wallets._psbt_map import (
    PSBT_MAGIC,
    GlobalKey,
    InputKey,
    KeyOrigin,
    OutputKey,
    PsbtError,
    PsbtMap,
    PsbtProblem,
)

__all__ = [
    "PSBT_MAGIC",
    "GlobalKey",
    "InputKey",
    "KeyOrigin",
    "OutputKey",
    "Psbt",
    "PsbtError",
    "PsbtMap",
    "PsbtProblem",
]


@dataclass(frozen=True, slots=True)
class Psbt:
    """A whole PSBT: the global map, and one map per input and per output."""

    global_map: PsbtMap
    inputs: tuple[PsbtMap, ...]
    outputs: tuple[PsbtMap, ...]
    # The unsigned transaction, decoded once by the checks (every role reads it).
    _tx: Tx = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tx = check_global_map(self.global_map)
        if len(self.inputs) != len(tx.vin) or len(self.outputs) != len(tx.vout):
            raise PsbtError(
                PsbtProblem.DECODE,
                f"{len(self.inputs)} input and {len(self.outputs)} output maps for a "
                f"transaction of {len(tx.vin)} inputs and {len(tx.vout)} outputs",
            )
        for n, input_map in enumerate(self.inputs):
            utxo = check_input_map(input_map, n)
            if utxo is not None and utxo.txid != tx.vin[n].prevout.txid:
                raise PsbtError(PsbtProblem.UTXO_MISMATCH, f"input {n}")
        for n, output_map in enumerate(self.outputs):
            check_output_map(output_map, n)
        object.__setattr__(self, "_tx", tx)

    @property
    def tx(self) -> Tx:
        """The unsigned transaction."""
        return self._tx

    def serialize(self) -> bytes:
        maps = (self.global_map, *self.inputs, *self.outputs)
        return PSBT_MAGIC + b"".join(m.serialize() for m in maps)

    @classmethod
    def deserialize(cls, buf: bytes) -> Psbt:
        if not buf.startswith(PSBT_MAGIC):
            raise PsbtError(PsbtProblem.BAD_MAGIC, f"starts with {buf[:5].hex()}")
        reader = ByteReader(buf, len(PSBT_MAGIC))
        try:
            global_map = PsbtMap.read_from(reader, check_global_key)
            tx = check_global_map(global_map)
            inputs = tuple(
                PsbtMap.read_from(reader, partial(check_input_key, n=n)) for n in range(len(tx.vin))
            )
            outputs = tuple(
                PsbtMap.read_from(reader, partial(check_output_key, n=n))
                for n in range(len(tx.vout))
            )
            reader.finish()
        except SerializationError as err:
            raise PsbtError(PsbtProblem.DECODE, err.debug) from None
        return cls(global_map, inputs, outputs)

    def to_base64(self) -> str:
        return binascii.b2a_base64(self.serialize(), newline=False).decode("ascii")

    @classmethod
    def from_base64(cls, text: str) -> Psbt:
        try:
            raw = binascii.a2b_base64(text.strip().encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError) as err:
            raise PsbtError(PsbtProblem.BASE64, str(err)) from None
        return cls.deserialize(raw)
