"""The BIP174 roles over `wallets.psbt.Psbt`: creator, updater, signer, combiner, input
finalizer and transaction extractor, for P2PKH, P2SH-P2WPKH and P2WPKH inputs.

Every role returns a new `Psbt`; none does I/O. The signer signs SIGHASH_ALL only (an input
asking for another type is refused), with the same low-R signatures as `wallets.signer`, and
checks each signature with `btcnode.consensus.verify_script` before adding it. The extractor
checks every input again when the PSBT carries the outputs they spend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import coincurve

from btcnode.consensus import STANDARD_FLAGS, ScriptError, verify_script
from btcnode.consensus.hashes import hash160
from btcnode.consensus.sighash import SIGHASH_ALL, PrecomputedTxData
from btcnode.consensus.tx import Tx, TxIn, TxOut
from btcnode.signing import p2wpkh_script_for
from wallets._psbt_checks import parse_txout
from wallets._psbt_map import parse_witness, serialize_witness
from wallets.builder import Spendable
from wallets.errors import WalletInputError, WalletMisuse
from wallets.psbt import (
    GlobalKey,
    InputKey,
    KeyOrigin,
    OutputKey,
    Psbt,
    PsbtError,
    PsbtMap,
    PsbtProblem,
)
from wallets.signer import (
    InputVerificationFailed,
    input_digest,
    script_for_key,
    sign_digest_low_r,
    solution_for,
    verify_inputs,
)
from wallets.txsize import InputType, input_type_for_script

__all__ = [
    "PsbtIncomplete",
    "PsbtMismatch",
    "combine_psbts",
    "create_psbt",
    "extract_transaction",
    "final_txin",
    "finalize_psbt",
    "sign_psbt",
    "spent_output",
    "update_from_coins",
    "update_input",
    "update_output",
]

_KEPT_AFTER_FINALIZE = {InputKey.NON_WITNESS_UTXO, InputKey.WITNESS_UTXO}
_KNOWN_INPUT_TYPES = {int(t) for t in InputKey if t is not InputKey.PROPRIETARY}


class PsbtIncomplete(WalletInputError):
    """The extractor found inputs without a final scriptSig or witness."""

    def __init__(self, inputs: Sequence[int]) -> None:
        self.inputs = tuple(inputs)
        super().__init__(f"PSBT inputs {list(self.inputs)} are not finalized")


class PsbtMismatch(WalletInputError):
    """The combiner was given PSBTs of different transactions."""


def _replace_input(psbt: Psbt, n: int, new: PsbtMap) -> Psbt:
    return Psbt(psbt.global_map, (*psbt.inputs[:n], new, *psbt.inputs[n + 1 :]), psbt.outputs)


def create_psbt(tx: Tx) -> Psbt:
    """Creator: a PSBT of `tx`, whose inputs must be unsigned."""
    if any(txin.script_sig or txin.witness for txin in tx.vin):
        raise WalletMisuse("the creator takes an unsigned transaction")
    global_map = PsbtMap(((bytes((GlobalKey.UNSIGNED_TX,)), tx.serialize(with_witness=False)),))
    return Psbt(global_map, tuple(PsbtMap() for _ in tx.vin), tuple(PsbtMap() for _ in tx.vout))


def _with_derivations(m: PsbtMap, key_type: int, derivations: Mapping[bytes, KeyOrigin]) -> PsbtMap:
    for pubkey, origin in derivations.items():
        m = m.with_value(key_type, pubkey, origin.serialize())
    return m


def update_input(
    psbt: Psbt,
    n: int,
    *,
    non_witness_utxo: Tx | None = None,
    witness_utxo: TxOut | None = None,
    redeem_script: bytes | None = None,
    witness_script: bytes | None = None,
    derivations: Mapping[bytes, KeyOrigin] | None = None,
) -> Psbt:
    """Updater: add what input `n` needs to be signed."""
    m = psbt.inputs[n]
    if non_witness_utxo is not None:
        m = m.with_value(InputKey.NON_WITNESS_UTXO, b"", non_witness_utxo.serialize())
    if witness_utxo is not None:
        m = m.with_value(InputKey.WITNESS_UTXO, b"", witness_utxo.serialize())
    if redeem_script is not None:
        m = m.with_value(InputKey.REDEEM_SCRIPT, b"", redeem_script)
    if witness_script is not None:
        m = m.with_value(InputKey.WITNESS_SCRIPT, b"", witness_script)
    m = _with_derivations(m, InputKey.BIP32_DERIVATION, derivations or {})
    return _replace_input(psbt, n, m)


def update_output(
    psbt: Psbt,
    n: int,
    *,
    redeem_script: bytes | None = None,
    witness_script: bytes | None = None,
    derivations: Mapping[bytes, KeyOrigin] | None = None,
) -> Psbt:
    """Updater: describe output `n` (so a signer can recognise its change)."""
    m = psbt.outputs[n]
    if redeem_script is not None:
        m = m.with_value(OutputKey.REDEEM_SCRIPT, b"", redeem_script)
    if witness_script is not None:
        m = m.with_value(OutputKey.WITNESS_SCRIPT, b"", witness_script)
    m = _with_derivations(m, OutputKey.BIP32_DERIVATION, derivations or {})
    outputs = (*psbt.outputs[:n], m, *psbt.outputs[n + 1 :])
    return Psbt(psbt.global_map, psbt.inputs, outputs)


def update_from_coins(
    psbt: Psbt,
    coins: Sequence[Spendable],
    origins: Mapping[bytes, KeyOrigin],
    previous_txs: Mapping[bytes, Tx] | None = None,
) -> Psbt:
    """Updater for the wallet's own coins: UTXOs, the P2SH-P2WPKH redeem script and the key
    origins, matching each coin to the public key in `origins` its script pays.

    P2PKH inputs need their whole previous transaction (`previous_txs` by txid); segwit
    inputs get the witness UTXO, and the previous transaction too when given.
    """
    by_outpoint = {c.outpoint: c for c in coins}
    previous_txs = previous_txs or {}
    for n, txin in enumerate(psbt.tx.vin):
        coin = by_outpoint.get(txin.prevout)
        if coin is None:
            continue
        pubkey = _pubkey_for(coin, origins)
        prev = previous_txs.get(txin.prevout.txid)
        if coin.input_type is InputType.P2PKH and prev is None:
            raise WalletMisuse(f"input {n} is P2PKH: the updater needs its previous transaction")
        psbt = update_input(
            psbt,
            n,
            non_witness_utxo=prev,
            witness_utxo=coin.txout if coin.input_type.is_segwit else None,
            redeem_script=(
                p2wpkh_script_for(pubkey) if coin.input_type is InputType.P2SH_P2WPKH else None
            ),
            derivations={pubkey: origins[pubkey]},
        )
    return psbt


def _pubkey_for(coin: Spendable, origins: Mapping[bytes, KeyOrigin]) -> bytes:
    for pubkey in origins:
        if script_for_key(coin.input_type, pubkey) == coin.txout.script_pubkey:
            return pubkey
    raise WalletMisuse(f"no key in the origins given pays coin {coin.outpoint}")


def spent_output(psbt: Psbt, n: int) -> TxOut | None:
    """The output input `n` spends, from its witness UTXO or its previous transaction."""
    m = psbt.inputs[n]
    raw = m.get(InputKey.WITNESS_UTXO)
    if raw is not None:
        return parse_txout(raw)
    raw = m.get(InputKey.NON_WITNESS_UTXO)
    if raw is not None:
        return Tx.deserialize(raw).vout[psbt.tx.vin[n].prevout.n]
    return None


def _signable(psbt: Psbt, n: int) -> tuple[TxOut, InputType] | None:
    """The output input `n` spends and its template, or None when the PSBT does not say
    what it spends or it is not a template this wallet signs."""
    spent = spent_output(psbt, n)
    if spent is None:
        return None
    try:
        input_type = input_type_for_script(spent.script_pubkey)
    except WalletMisuse:
        return None
    if input_type is InputType.P2SH_P2WPKH:
        redeem = psbt.inputs[n].get(InputKey.REDEEM_SCRIPT)
        if redeem is None or len(redeem) != 22 or redeem[:2] != b"\x00\x14":
            return None
        if spent.script_pubkey[2:22] != hash160(redeem):
            return None
    return spent, input_type


def _is_final(m: PsbtMap) -> bool:
    return m.get(InputKey.FINAL_SCRIPTSIG) is not None or bool(m.get(InputKey.FINAL_SCRIPTWITNESS))


def _check_signature(
    tx: Tx, n: int, spent: TxOut, script_sig: bytes, witness: tuple[bytes, ...]
) -> None:
    old = tx.vin[n]
    trial = Tx(
        tx.version,
        (*tx.vin[:n], TxIn(old.prevout, script_sig, old.sequence, witness), *tx.vin[n + 1 :]),
        tx.vout,
        tx.lock_time,
    )
    try:
        verify_script(spent.script_pubkey, spent.value, trial.serialize(), n, STANDARD_FLAGS)
    except ScriptError as err:
        raise InputVerificationFailed(n, old.prevout, err.error.message) from None


def sign_psbt(psbt: Psbt, keys: Sequence[coincurve.PrivateKey]) -> Psbt:
    """Signer: a partial signature for every input one of `keys` can sign."""
    tx = psbt.tx
    txdata = PrecomputedTxData(tx)
    for n in range(len(tx.vin)):
        m = psbt.inputs[n]
        if _is_final(m):
            continue
        sighash = m.get(InputKey.SIGHASH_TYPE)
        if sighash is not None and int.from_bytes(sighash, "little") != SIGHASH_ALL:
            raise PsbtError(PsbtProblem.UNSUPPORTED_SIGHASH, f"input {n} asks {sighash.hex()}")
        signable = _signable(psbt, n)
        if signable is None:
            continue
        spent, input_type = signable
        for key in keys:
            pubkey = key.public_key.format(compressed=True)
            if script_for_key(input_type, pubkey) != spent.script_pubkey:
                continue
            digest = input_digest(tx, n, spent, input_type, pubkey, txdata)
            signature = sign_digest_low_r(key, digest) + bytes((SIGHASH_ALL,))
            _check_signature(tx, n, spent, *solution_for(input_type, signature, pubkey))
            m = m.with_value(InputKey.PARTIAL_SIG, pubkey, signature)
        psbt = _replace_input(psbt, n, m)
    return psbt


def combine_psbts(psbts: Sequence[Psbt]) -> Psbt:
    """Combiner: every key-value pair of every PSBT of the same transaction (on a conflict,
    the first PSBT's value is kept, as BIP174 allows)."""
    if not psbts:
        raise WalletMisuse("the combiner needs at least one PSBT")
    first = psbts[0]
    unsigned = first.global_map.get(GlobalKey.UNSIGNED_TX)
    for other in psbts[1:]:
        if other.global_map.get(GlobalKey.UNSIGNED_TX) != unsigned:
            raise PsbtMismatch("the PSBTs are of different transactions")

    def merge(maps: Sequence[PsbtMap]) -> PsbtMap:
        pairs = dict(maps[0].pairs)
        for m in maps[1:]:
            for key, value in m.pairs:
                pairs.setdefault(key, value)
        return PsbtMap(tuple(pairs.items()))

    return Psbt(
        merge([p.global_map for p in psbts]),
        tuple(merge([p.inputs[i] for p in psbts]) for i in range(len(first.inputs))),
        tuple(merge([p.outputs[i] for p in psbts]) for i in range(len(first.outputs))),
    )


def _finalize_input(psbt: Psbt, n: int) -> PsbtMap | None:
    signable = _signable(psbt, n)
    if signable is None:
        return None
    spent, input_type = signable
    m = psbt.inputs[n]
    for pubkey, signature in m.of_type(InputKey.PARTIAL_SIG).items():
        if script_for_key(input_type, pubkey) != spent.script_pubkey:
            continue
        script_sig, witness = solution_for(input_type, signature, pubkey)
        _check_signature(psbt.tx, n, spent, script_sig, witness)
        final = m.keeping(set(_KEPT_AFTER_FINALIZE), known=_KNOWN_INPUT_TYPES)
        if script_sig:
            final = final.with_value(InputKey.FINAL_SCRIPTSIG, b"", script_sig)
        if witness:
            final = final.with_value(InputKey.FINAL_SCRIPTWITNESS, b"", serialize_witness(witness))
        return final
    return None


def finalize_psbt(psbt: Psbt) -> Psbt:
    """Input finalizer: final scriptSig and witness for every input a partial signature
    completes; all else but the UTXOs and unknown keys is cleared (BIP174)."""
    for n, m in enumerate(psbt.inputs):
        if _is_final(m):
            continue
        final = _finalize_input(psbt, n)
        if final is not None:
            psbt = _replace_input(psbt, n, final)
    return psbt


def final_txin(txin: TxIn, m: PsbtMap) -> TxIn | None:
    """`txin` with the final scriptSig and witness of its input map `m`; None when `m` has
    neither (the input is not finalized)."""
    script_sig = m.get(InputKey.FINAL_SCRIPTSIG)
    witness_raw = m.get(InputKey.FINAL_SCRIPTWITNESS)
    if script_sig is None and witness_raw is None:
        return None
    witness = parse_witness(witness_raw) if witness_raw is not None else ()
    return TxIn(txin.prevout, script_sig or b"", txin.sequence, witness)


def extract_transaction(psbt: Psbt) -> Tx:
    """Transaction extractor: the network transaction, checked input by input when the
    PSBT has every spent output."""
    tx = psbt.tx
    vin, missing = [], []
    for n, (txin, m) in enumerate(zip(tx.vin, psbt.inputs, strict=True)):
        final_in = final_txin(txin, m)
        if final_in is None:
            missing.append(n)
        else:
            vin.append(final_in)
    if missing:
        raise PsbtIncomplete(missing)
    final = Tx(tx.version, tuple(vin), tx.vout, tx.lock_time)
    spent = [spent_output(psbt, n) for n in range(len(tx.vin))]
    if all(s is not None for s in spent):
        verify_inputs(final, [s for s in spent if s is not None])
    return final
