"""What a script may ask of the transaction spending it: signatures, lock time, sequence.

`TransactionSignatureChecker` is Core's GenericTransactionSignatureChecker for input `n_in`
of `tx` spending `amount` satoshis. The lock-time rules are BIP65 (CHECKLOCKTIMEVERIFY) and
BIP112 (CHECKSEQUENCEVERIFY, with BIP68's encoding of relative lock times).
"""

from __future__ import annotations

from btcnode.consensus.script.signature import pubkey_length_ok, verify_ecdsa
from btcnode.consensus.sequence_locks import (
    SEQUENCE_LOCKTIME_DISABLE_FLAG,
    SEQUENCE_LOCKTIME_MASK,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
)
from btcnode.consensus.sighash import PrecomputedTxData, SigVersion, signature_hash
from btcnode.consensus.tx import LOCKTIME_THRESHOLD, SEQUENCE_FINAL, Tx


class TransactionSignatureChecker:
    """Signature, lock-time and sequence checks for one input of one transaction."""

    __slots__ = ("amount", "n_in", "tx", "txdata")

    def __init__(
        self, tx: Tx, n_in: int, amount: int, txdata: PrecomputedTxData | None = None
    ) -> None:
        self.tx = tx
        self.n_in = n_in
        self.amount = amount
        self.txdata = txdata if txdata is not None and txdata.tx is tx else PrecomputedTxData(tx)

    def check_ecdsa_signature(
        self, sig: bytes, pubkey: bytes, script_code: bytes, sigversion: SigVersion
    ) -> bool:
        """Core's CheckECDSASignature: `sig` ends with its hash type byte."""
        if not pubkey_length_ok(pubkey) or not sig:
            return False
        digest = signature_hash(
            script_code, self.tx, self.n_in, sig[-1], self.amount, sigversion, self.txdata
        )
        return verify_ecdsa(sig[:-1], pubkey, digest)

    def check_lock_time(self, lock_time: int) -> bool:
        """BIP65: the transaction's lock time is of the same kind and at least `lock_time`."""
        tx_lock_time = self.tx.lock_time
        if (tx_lock_time < LOCKTIME_THRESHOLD) != (lock_time < LOCKTIME_THRESHOLD):
            return False
        if lock_time > tx_lock_time:
            return False
        # A final input disables the lock time (IsFinalTx), and with it this check.
        return self.tx.vin[self.n_in].sequence != SEQUENCE_FINAL

    def check_sequence(self, sequence: int) -> bool:
        """BIP112: the input's relative lock is of the same kind and at least `sequence`."""
        tx_sequence = self.tx.vin[self.n_in].sequence
        # Core compares the version as unsigned: static_cast<uint32_t>(version) < 2.
        if self.tx.version & 0xFFFFFFFF < 2:
            return False
        if tx_sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG:
            return False
        mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK
        tx_masked, wanted = tx_sequence & mask, sequence & mask
        if (tx_masked < SEQUENCE_LOCKTIME_TYPE_FLAG) != (wanted < SEQUENCE_LOCKTIME_TYPE_FLAG):
            return False
        return wanted <= tx_masked
