"""Script checks of a block through a pluggable `ScriptChecker`, and the serial one.

A checker verifies every input of every non-coinbase transaction of a block and raises the
`ScriptError` of the first failing input in block order, its debug naming the transaction
(position in the block and txid) and the input. Every checker must give the same verdict
and the same first error as `SerialScriptChecker(fast_path=False)`, which runs the
interpreter on every input; the fast path (`_fastpath`) only ever skips inputs it has proven
valid, so it cannot change either.

`check_tx_range` is the unit of work shared by the serial checker and the workers of
`btcnode.chain.parallel`: a contiguous range of a block's transactions, with the outputs
their inputs spend, one `PrecomputedTxData` per transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from btcnode.chain._fastpath import unproven_inputs
from btcnode.consensus import PrecomputedTxData, verify_input
from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.script.errors import ScriptError
from btcnode.consensus.tx import Tx, TxOut


class ScriptChecker(Protocol):
    def check_block(
        self,
        block: Block,
        spent_outputs: Sequence[Sequence[TxOut]],
        flags: int,
        *,
        tx_bytes: Sequence[bytes] | None = None,
    ) -> None:
        """Verify the scripts of every input of `block`; raise the first `ScriptError`.

        `spent_outputs[i]` are the outputs spent by the inputs of `block.txs[i + 1]`, in
        input order. `tx_bytes[i]`, if given, is `block.txs[i].serialize()` (the coinbase
        included), which a checker may use instead of serializing again.
        """
        ...


def located_error(err: ScriptError, position: int, txid: bytes, n_in: int) -> ScriptError:
    """`err` with the transaction (position in the block, txid) and input named."""
    return ScriptError(
        err.error,
        input_index=n_in,
        mandatory=err.mandatory,
        debug=f"tx {position} {hash256_hex(txid)}: {err.evidence}",
    )


def check_tx_range(
    first_position: int,
    spent_outputs: Sequence[Sequence[TxOut]],
    flags: int,
    *,
    raw_txs: Sequence[bytes] | None = None,
    txs: Sequence[Tx] | None = None,
) -> None:
    """Verify transactions `first_position`, `first_position + 1`, ... of a block.

    With `raw_txs` the fast path runs first and the interpreter checks only what it left;
    `txs` (if not given, each transaction the interpreter needs is decoded from `raw_txs`)
    avoids decoding. Raises the first failing input's `ScriptError` (`located_error`).
    """
    if raw_txs is None and txs is None:
        raise ChainMisuse("check_tx_range needs the transactions or their bytes")
    for k, outs in enumerate(spent_outputs):
        if raw_txs is not None:
            todo: Sequence[int] = unproven_inputs(raw_txs[k], outs, flags)
            if not todo:
                continue
            tx = txs[k] if txs is not None else Tx.deserialize(raw_txs[k])
        else:
            assert txs is not None
            tx = txs[k]
            todo = range(len(tx.vin))
        _check_inputs(first_position + k, tx, outs, todo, flags)


def _check_inputs(
    position: int, tx: Tx, outs: Sequence[TxOut], todo: Sequence[int], flags: int
) -> None:
    if len(outs) != len(tx.vin):
        raise ChainMisuse(f"tx {position}: {len(outs)} spent outputs for {len(tx.vin)} inputs")
    txdata = PrecomputedTxData(tx, outs)
    for n_in in todo:
        try:
            verify_input(tx, n_in, outs, flags, txdata)
        except ScriptError as err:
            raise located_error(err, position, tx.txid, n_in) from err


class SerialScriptChecker:
    """Checks every input in this process, in block order.

    `fast_path=False` runs the interpreter on every input: the reference other checkers are
    compared with.
    """

    __slots__ = ("fast_path",)

    def __init__(self, *, fast_path: bool = True) -> None:
        self.fast_path = fast_path

    def check_block(
        self,
        block: Block,
        spent_outputs: Sequence[Sequence[TxOut]],
        flags: int,
        *,
        tx_bytes: Sequence[bytes] | None = None,
    ) -> None:
        txs = block.txs[1:]
        if len(spent_outputs) != len(txs):
            raise ChainMisuse(f"spent outputs for {len(spent_outputs)} of {len(txs)} txs")
        raw_txs: Sequence[bytes] | None = None
        if self.fast_path:
            raw_txs = tx_bytes[1:] if tx_bytes is not None else [tx.serialize() for tx in txs]
        check_tx_range(1, spent_outputs, flags, raw_txs=raw_txs, txs=txs)

    def close(self) -> None:
        """Nothing to release; present so every checker can be closed alike."""
