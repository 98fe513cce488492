"""Shortcuts for ConnectBlock's per-transaction checks in the common case, each returning
the general function's result or NOT_PROVEN (the caller then runs the general function,
which alone produces reject reasons).

- `fee_if_plain`: `check_tx_inputs` when every coin is present, mature and in money range,
  and the fee is in range. The running sums Core checks input by input are non-negative and
  increasing, so checking the last one bounds them all.
- `sigop_cost_if_plain`: `transaction_sigop_cost` when every spent script is P2PKH (no
  P2SH sigops, not a witness program: 0) or P2WPKH (a v0 20-byte program: 1 with WITNESS,
  else 0); legacy sigops come from the transaction's cached count as in the general one.
- `needs_sequence_locks`: False exactly when Core's CalculateSequenceLocks returns no lock
  (BIP68 not enforced, version < 2 as uint32, or every input has the disable flag), so
  `sequence_locks` would pass without reading a coin or a median time past.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from btcnode.consensus.checks import legacy_sigop_count
from btcnode.consensus.coins import Coin
from btcnode.consensus.params import MAX_MONEY
from btcnode.consensus.script.flagbits import WITNESS
from btcnode.consensus.sequence_locks import SEQUENCE_LOCKTIME_DISABLE_FLAG, enforces_bip68
from btcnode.consensus.tx import WITNESS_SCALE_FACTOR, Tx

NOT_PROVEN: Final = -1  # fees and sigop costs are never negative
_P2PKH_BYTES, _P2PKH_HEAD, _P2PKH_TAIL = 25, b"\x76\xa9\x14", b"\x88\xac"
_P2WPKH_BYTES, _P2WPKH_HEAD = 22, b"\x00\x14"


def fee_if_plain(
    tx: Tx, coins: Sequence[Coin | None], spend_height: int, coinbase_maturity: int
) -> int:
    """The fee `check_tx_inputs` would return, or NOT_PROVEN where it might raise."""
    value_in = 0
    for coin in coins:
        if coin is None:
            return NOT_PROVEN
        if coin.is_coinbase and spend_height - coin.height < coinbase_maturity:
            return NOT_PROVEN
        value = coin.out.value
        if value < 0:
            return NOT_PROVEN
        value_in += value
    if value_in > MAX_MONEY:
        return NOT_PROVEN
    fee = value_in - sum([out.value for out in tx.vout])
    return fee if 0 <= fee <= MAX_MONEY else NOT_PROVEN


def sigop_cost_if_plain(tx: Tx, coins: Sequence[Coin | None], flags: int) -> int:
    """The cost `transaction_sigop_cost` would return for a non-coinbase `tx`, or
    NOT_PROVEN when a spent script is neither P2PKH nor P2WPKH."""
    per_p2wpkh = 1 if flags & WITNESS else 0
    witness_cost = 0
    for coin in coins:
        if coin is None:
            return NOT_PROVEN
        script = coin.out.script_pubkey
        size = len(script)
        if size == _P2WPKH_BYTES and script[:2] == _P2WPKH_HEAD:
            witness_cost += per_p2wpkh
        elif not (
            size == _P2PKH_BYTES and script[:3] == _P2PKH_HEAD and script[23:] == _P2PKH_TAIL
        ):
            return NOT_PROVEN
    return legacy_sigop_count(tx) * WITNESS_SCALE_FACTOR + witness_cost


def needs_sequence_locks(tx: Tx, enforce_bip68: bool) -> bool:
    """Whether BIP68 can constrain `tx` at all; see the module docstring."""
    if not enforces_bip68(tx, enforce_bip68):
        return False
    return any(not txin.sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG for txin in tx.vin)
