"""Script checks of a block through a pluggable `ScriptChecker`, and the serial one.

A checker verifies every input of every non-coinbase transaction of a block and raises the
`ScriptError` of the first failing input in block order, its debug naming the transaction
(position in the block and txid) and the input. Checks are fed through a session, one
transaction at a time as soon as the outputs it spends are known, so a parallel checker
can start verifying while the caller is still working through the block (Core's
CCheckQueueControl): `begin(flags)`, `add(...)` per transaction, then `finish()` for the
verdict or `abandon()` when the block failed for another reason.

Every checker must give the verdict and first error of `SerialScriptChecker(fast_path=
False)`, which runs the interpreter on every input. The fast path (`_fastpath`) only skips
inputs it has proven valid, so it cannot change either.
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


class ScriptCheckSession(Protocol):
    def add(
        self, position: int, tx: Tx, spent_outputs: Sequence[TxOut], raw: bytes | None = None
    ) -> None:
        """Queue the checks of `tx`, at `position` in the block, spending `spent_outputs`
        (one per input); `raw`, if given, is `tx.serialize()`. Positions must ascend."""
        ...

    def finish(self) -> None:
        """Wait for every queued check; raise the first failing input's `ScriptError`."""
        ...

    def abandon(self) -> None:
        """Drop the queued checks (the block failed another rule)."""
        ...


class ScriptChecker(Protocol):
    def begin(self, flags: int) -> ScriptCheckSession:
        """A session checking with `flags`; one session at a time per checker."""
        ...


def check_block_scripts(
    checker: ScriptChecker,
    block: Block,
    spent_outputs: Sequence[Sequence[TxOut]],
    flags: int,
    *,
    tx_bytes: Sequence[bytes] | None = None,
) -> None:
    """Check every input of `block` in one session.

    `spent_outputs[i]` are the outputs spent by `block.txs[i + 1]`; `tx_bytes[i]`, if given,
    is `block.txs[i].serialize()` (the coinbase included).
    """
    txs = block.txs[1:]
    if len(spent_outputs) != len(txs):
        raise ChainMisuse(f"spent outputs for {len(spent_outputs)} of {len(txs)} txs")
    session = checker.begin(flags)
    try:
        for position, tx in enumerate(txs, start=1):
            raw = tx_bytes[position] if tx_bytes is not None else None
            session.add(position, tx, spent_outputs[position - 1], raw)
    except BaseException:
        session.abandon()
        raise
    session.finish()


def located_error(err: ScriptError, position: int, txid: bytes, n_in: int) -> ScriptError:
    """`err` with the transaction (position in the block, txid) and input named."""
    return ScriptError(
        err.error,
        input_index=n_in,
        mandatory=err.mandatory,
        debug=f"tx {position} {hash256_hex(txid)}: {err.evidence}",
    )


def check_tx(
    position: int,
    spent_outputs: Sequence[TxOut],
    flags: int,
    *,
    raw: bytes | None = None,
    tx: Tx | None = None,
) -> None:
    """Verify every input of one transaction (given as `raw` bytes, `tx`, or both).

    With `raw`, the fast path runs first and the interpreter checks only what it left; the
    transaction is decoded from `raw` only if the interpreter is needed and `tx` is None.
    Raises the first failing input's `ScriptError` (`located_error`).
    """
    if raw is not None:
        todo: Sequence[int] = unproven_inputs(raw, spent_outputs, flags)
        if not todo:
            return
        if tx is None:
            tx = Tx.deserialize(raw)
    elif tx is not None:
        todo = range(len(tx.vin))
    else:
        raise ChainMisuse("check_tx needs the transaction or its bytes")
    if len(spent_outputs) != len(tx.vin):
        raise ChainMisuse(f"tx {position}: {len(spent_outputs)} spent outputs, {len(tx.vin)} in")
    txdata = PrecomputedTxData(tx, spent_outputs)
    for n_in in todo:
        try:
            verify_input(tx, n_in, spent_outputs, flags, txdata)
        except ScriptError as err:
            raise located_error(err, position, tx.txid, n_in) from err


class _SerialSession:
    __slots__ = ("_fast_path", "_flags", "_queued")

    def __init__(self, flags: int, fast_path: bool) -> None:
        self._flags = flags
        self._fast_path = fast_path
        self._queued: list[tuple[int, Tx, Sequence[TxOut], bytes | None]] = []

    def add(
        self, position: int, tx: Tx, spent_outputs: Sequence[TxOut], raw: bytes | None = None
    ) -> None:
        self._queued.append((position, tx, spent_outputs, raw))

    def finish(self) -> None:
        queued, self._queued = self._queued, []
        for position, tx, spent_outputs, raw in queued:
            if self._fast_path:
                raw = raw if raw is not None else tx.serialize()
                check_tx(position, spent_outputs, self._flags, raw=raw, tx=tx)
            else:
                check_tx(position, spent_outputs, self._flags, tx=tx)

    def abandon(self) -> None:
        self._queued = []


class SerialScriptChecker:
    """Checks every input in this process, in block order, when the session finishes.

    `fast_path=False` runs the interpreter on every input: the reference other checkers are
    compared with.
    """

    __slots__ = ("fast_path",)

    def __init__(self, *, fast_path: bool = True) -> None:
        self.fast_path = fast_path

    def begin(self, flags: int) -> ScriptCheckSession:
        return _SerialSession(flags, self.fast_path)

    def close(self) -> None:
        """Nothing to release; present so every checker can be closed alike."""
