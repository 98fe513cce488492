"""The P2PKH and P2WPKH fast paths of verify_input equal the full interpreter.

A seeded generator builds signed spends and breaks them in the ways that matter (wrong key,
high S, non-strict DER, undefined hash types, empty signatures, uncompressed and hybrid
keys, wrong amounts, stray or missing witness items) under assorted flag sets; for each,
`verify_input` (which takes the fast path) and `verify_script_sig` (the interpreter) must
give the same error name. A failure names the case's seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import coincurve
import pytest

from btcnode.consensus.script import verify as verify_module
from btcnode.consensus.script.checker import TransactionSignatureChecker
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.flags import MANDATORY_FLAGS, STANDARD_FLAGS
from btcnode.consensus.script.ops import push_data
from btcnode.consensus.script.signature import parse_der_lax
from btcnode.consensus.script.verify import verify_input, verify_script_sig
from btcnode.consensus.sighash import (
    SIGHASH_ALL,
    SIGHASH_ANYONECANPAY,
    SIGHASH_NONE,
    SIGHASH_SINGLE,
    PrecomputedTxData,
)
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.signing import p2pkh_script_for, p2wpkh_script_for, sign_inputs
from tests.btcnode.consensus.der import der_signature, high_s
from tests.btcnode.consensus.script_vectors import ALL_FLAGS, is_valid_combination

CASES = 400
KEYS = [coincurve.PrivateKey(bytes([i + 1]) * 32) for i in range(4)]
HASH_TYPES = [
    SIGHASH_ALL,
    SIGHASH_NONE,
    SIGHASH_SINGLE,
    SIGHASH_ALL | SIGHASH_ANYONECANPAY,
    SIGHASH_SINGLE | SIGHASH_ANYONECANPAY,
]


def _hybrid(pubkey_uncompressed: bytes) -> bytes:
    return bytes((6 + (pubkey_uncompressed[-1] & 1),)) + pubkey_uncompressed[1:]


# Outcomes the generator must reach for the comparison to mean something.
REACHED = (
    "OK",
    "EVAL_FALSE",
    "SIG_DER",
    "SIG_HIGH_S",
    "SIG_HASHTYPE",
    "NULLFAIL",
    "EQUALVERIFY",
    "PUBKEYTYPE",
    "WITNESS_PUBKEYTYPE",
    "WITNESS_PROGRAM_MISMATCH",
)

Mutation = Callable[[bytes, bytes, random.Random], tuple[bytes, bytes]]


def _padded_r(sig: bytes, pub: bytes, rng: random.Random) -> tuple[bytes, bytes]:
    parsed = parse_der_lax(sig[:-1])
    assert parsed is not None
    return der_signature(*parsed, pad_r=1) + sig[-1:], pub


MUTATIONS: dict[str, Mutation] = {
    "none": lambda sig, pub, rng: (sig, pub),
    "high_s": lambda sig, pub, rng: (high_s(sig), pub),
    "padded_r": _padded_r,
    "hash_type": lambda sig, pub, rng: (sig[:-1] + bytes((rng.choice([0, 4, 0x41, 0x84]),)), pub),
    "flip_bit": lambda sig, pub, rng: (sig[:10] + bytes((sig[10] ^ 1,)) + sig[11:], pub),
    "empty_sig": lambda sig, pub, rng: (b"", pub),
    "garbage_sig": lambda sig, pub, rng: (rng.randbytes(rng.randrange(9, 74)), pub),
    "truncated": lambda sig, pub, rng: (sig[: rng.randrange(1, len(sig))], pub),
    "other_pubkey": lambda sig, pub, rng: (sig, KEYS[3].public_key.format()),
    "bad_pubkey": lambda sig, pub, rng: (sig, b"\x05" + pub[1:]),
}


def _build_case(seed: int) -> tuple[Tx, list[TxOut], int, str, int]:
    rng = random.Random(seed)
    n_inputs = rng.randrange(1, 4)
    vin = tuple(
        TxIn(OutPoint(rng.randbytes(32), rng.randrange(4)), sequence=rng.choice([0, 0xFFFFFFFF]))
        for _ in range(n_inputs)
    )
    vout = tuple(TxOut(rng.randrange(1, 10**6), b"\x51") for _ in range(rng.randrange(1, 3)))
    tx = Tx(rng.choice([1, 2]), vin, vout, rng.randrange(0, 500))
    keys, spent_outputs, kinds = [], [], []
    for _ in range(n_inputs):
        key = rng.choice(KEYS[:3])
        kind = rng.choice(["p2pkh", "p2wpkh"])
        pub = key.public_key.format()
        script = p2pkh_script_for(pub) if kind == "p2pkh" else p2wpkh_script_for(pub)
        keys.append(key)
        spent_outputs.append(TxOut(rng.randrange(1, 10**8), script))
        kinds.append(kind)
    hash_type = rng.choice(HASH_TYPES)
    signed = sign_inputs(tx, list(zip(keys, spent_outputs, strict=True)), hash_type)
    n_in = rng.randrange(n_inputs)
    key, kind = keys[n_in], kinds[n_in]
    if rng.random() < 0.8:
        pub = key.public_key.format()
        sig = signed.vin[n_in].witness[0] if kind == "p2wpkh" else _first_push(signed, n_in)
    else:  # uncompressed or hybrid: PUBKEYTYPE / WITNESS_PUBKEYTYPE under policy
        pub = key.public_key.format(compressed=False)
        if rng.random() < 0.5:
            pub = _hybrid(pub)  # libsecp256k1 parses it; STRICTENC refuses it
        script = p2pkh_script_for(pub) if kind == "p2pkh" else p2wpkh_script_for(pub)
        spent_outputs[n_in] = TxOut(spent_outputs[n_in].value, script)
        sig = _sign_uncompressed(signed, n_in, key, pub, spent_outputs[n_in], hash_type, kind)
    mutation = rng.choice(list(MUTATIONS))
    sig, pub = MUTATIONS[mutation](sig, pub, rng)
    if rng.random() < 0.1:  # verify against a wrong amount
        spent = spent_outputs[n_in]
        spent_outputs[n_in] = TxOut(spent.value + 1, spent.script_pubkey)
    tx = _with_spend(signed, n_in, kind, sig, pub, rng)
    flags = _flags(rng)
    return tx, spent_outputs, n_in, mutation, flags


def _first_push(tx: Tx, n_in: int) -> bytes:
    script_sig = tx.vin[n_in].script_sig
    return script_sig[1 : 1 + script_sig[0]]


def _sign_uncompressed(
    tx: Tx, n_in: int, key: coincurve.PrivateKey, pubkey: bytes, spent: TxOut, hash_type: int,
    kind: str,
) -> bytes:  # fmt: skip
    from btcnode.consensus.sighash import signature_hash_legacy, signature_hash_witness_v0

    if kind == "p2pkh":
        digest = signature_hash_legacy(spent.script_pubkey, tx, n_in, hash_type)
    else:
        code = p2pkh_script_for(pubkey)
        digest = signature_hash_witness_v0(code, tx, n_in, spent.value, hash_type)
    return key.sign(digest, hasher=None) + bytes((hash_type,))


def _with_spend(tx: Tx, n_in: int, kind: str, sig: bytes, pub: bytes, rng: random.Random) -> Tx:
    old = tx.vin[n_in]
    if kind == "p2pkh":
        script_sig, witness = push_data(sig) + push_data(pub), ()
        if rng.random() < 0.05:
            witness = (b"\x01",)  # WITNESS_UNEXPECTED
    else:
        script_sig, witness = b"", (sig, pub)
        if rng.random() < 0.05:
            witness = (sig, pub, b"")[: rng.choice([1, 3])]  # WITNESS_PROGRAM_MISMATCH
    new = TxIn(old.prevout, script_sig, old.sequence, witness)
    return Tx(tx.version, (*tx.vin[:n_in], new, *tx.vin[n_in + 1 :]), tx.vout, tx.lock_time)


def _flags(rng: random.Random) -> int:
    choice = rng.randrange(4)
    if choice == 0:
        return int(STANDARD_FLAGS)
    if choice == 1:
        return int(MANDATORY_FLAGS)
    if choice == 2:
        return 0
    while True:
        flags = rng.getrandbits(17) & ALL_FLAGS
        if is_valid_combination(flags):
            return flags


def _outcome(call: Callable[[], None]) -> str:
    try:
        call()
    except ScriptError as err:
        return err.error.name
    return ScriptErr.OK.name


def _compare(seed: int) -> tuple[str, str]:
    tx, spent, n_in, mutation, flags = _build_case(seed)
    txdata = PrecomputedTxData(tx, spent)
    fast = _outcome(lambda: verify_input(tx, n_in, spent, flags, txdata))
    checker = TransactionSignatureChecker(tx, n_in, spent[n_in].value, txdata)
    txin = tx.vin[n_in]
    script = spent[n_in].script_pubkey
    general = _outcome(
        lambda: verify_script_sig(txin.script_sig, script, txin.witness, flags, checker)
    )
    assert fast == general, f"SEED={seed} mutation={mutation} flags={flags:#x}"
    return mutation, fast


def test_fast_paths_equal_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = Counter[str]()
    for name in ("_verify_p2pkh", "_verify_p2wpkh"):
        original = getattr(verify_module, name)

        def counting(*args: object, _name: str = name, _f: Callable[..., None] = original) -> None:
            taken[_name] += 1
            _f(*args)

        monkeypatch.setattr(verify_module, name, counting)
    outcomes = Counter(_compare(seed) for seed in range(CASES))
    errors = Counter(error for _, error in outcomes.elements())
    # The generator must reach the interesting outcomes, through both fast paths.
    assert taken["_verify_p2pkh"] > CASES // 4 and taken["_verify_p2wpkh"] > CASES // 4
    for name in REACHED:
        assert errors[name] > 0, f"no case ended in {name}: {errors}"
