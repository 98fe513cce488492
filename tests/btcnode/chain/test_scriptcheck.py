"""Script checkers: the raw-bytes fast path never changes a verdict, and the parallel checker
gives the serial reference's verdict and first error, also when a worker dies."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator

import pytest

from btcnode.chain import Chainstate, ChainUpdate, SerialScriptChecker
from btcnode.chain._fastpath import unproven_inputs
from btcnode.chain.parallel import ParallelScriptChecker
from btcnode.chain.scriptcheck import ScriptChecker, check_block_scripts, check_tx
from btcnode.consensus.block import Block
from btcnode.consensus.contextual import script_flags_for_block
from btcnode.consensus.errors import BlockValidationError, ChainMisuse
from btcnode.consensus.hashes import hash160
from btcnode.consensus.params import REGTEST
from btcnode.consensus.script.errors import ScriptError
from btcnode.consensus.script.ops import p2pkh_script, push_data
from btcnode.consensus.sighash import (
    SIGHASH_ALL,
    SIGHASH_ANYONECANPAY,
    SIGHASH_NONE,
    SIGHASH_SINGLE,
    signature_hash_legacy,
)
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.signing import sign_inputs
from common.store import MemoryStore
from tests.btcnode.chain.builder import (
    NOW,
    QUICK_REGTEST,
    ChainBuilder,
    feed,
    keys,
    script_for,
)
from tests.btcnode.consensus.der import high_s

FLAGS = int(script_flags_for_block(200, REGTEST))
KEYS = keys(8)
VALUE = 100_000


def _outpoint(i: int) -> OutPoint:
    return OutPoint(i.to_bytes(4, "big") * 8, i % 3)


def _signed(
    kinds: list[str], i: int, hash_type: int = SIGHASH_ALL, wrong_key_at: int | None = None
) -> tuple[Tx, list[TxOut]]:
    """A transaction spending one output per entry of `kinds` ("p2pkh"/"p2wpkh"), signed;
    input `wrong_key_at` (if any) carries a signature by another key."""
    owners = [KEYS[(i + n) % 8] for n in range(len(kinds))]
    spent = [TxOut(VALUE + n, script_for(owners[n], kind)) for n, kind in enumerate(kinds)]
    vin = tuple(TxIn(_outpoint(i * 10 + n)) for n in range(len(kinds)))
    unsigned = Tx(2, vin, (TxOut(VALUE // 2, script_for(KEYS[i % 8], "p2wpkh")),))
    good = sign_inputs(unsigned, list(zip(owners, spent, strict=True)), hash_type)
    if wrong_key_at is None:
        return good, spent
    return _with_wrong_signature(good, unsigned, spent, kinds, wrong_key_at), spent


def _with_wrong_signature(
    good: Tx, unsigned: Tx, spent: list[TxOut], kinds: list[str], n_in: int
) -> Tx:
    """`good` with input `n_in`'s signature made by a key that does not own the output."""
    wrong = KEYS[7] if spent[n_in].script_pubkey != script_for(KEYS[7], kinds[n_in]) else KEYS[6]
    fake = TxOut(spent[n_in].value, script_for(wrong, kinds[n_in]))
    bad = sign_inputs(
        unsigned,
        [
            (wrong, fake) if n == n_in else (KEYS[0], TxOut(0, script_for(KEYS[0], kinds[n])))
            for n in range(len(kinds))
        ],
    )
    g, b = good.vin[n_in], bad.vin[n_in]
    if g.witness:
        txin = TxIn(g.prevout, g.script_sig, g.sequence, (b.witness[0], g.witness[1]))
    else:
        bad_sig = b.script_sig[1 : 1 + b.script_sig[0]]
        pubkey = g.script_sig[2 + g.script_sig[0] :]
        txin = TxIn(g.prevout, push_data(bad_sig) + push_data(pubkey), g.sequence)
    vin = (*good.vin[:n_in], txin, *good.vin[n_in + 1 :])
    return Tx(good.version, vin, good.vout, good.lock_time)


def _high_s(tx: Tx) -> Tx:
    """Input 0's signature with S replaced by order - S (valid, but not low-S)."""
    txin = tx.vin[0]
    high = high_s(txin.witness[0])
    return Tx(
        tx.version, (TxIn(txin.prevout, b"", txin.sequence, (high, txin.witness[1])),), tx.vout
    )


def _uncompressed_p2pkh() -> tuple[Tx, list[TxOut]]:
    key = KEYS[3]
    pubkey = key.public_key.format(compressed=False)
    spent = [TxOut(VALUE, p2pkh_script(hash160(pubkey)))]
    unsigned = Tx(1, (TxIn(_outpoint(77)),), (TxOut(5, b"\x51"),))
    digest = signature_hash_legacy(spent[0].script_pubkey, unsigned, 0, SIGHASH_ALL)
    sig = key.sign(digest, hasher=None) + bytes((SIGHASH_ALL,))
    script_sig = push_data(sig) + push_data(pubkey)
    return Tx(1, (TxIn(unsigned.vin[0].prevout, script_sig),), unsigned.vout), spent


def _variants() -> Iterator[tuple[str, Tx, list[TxOut], bool]]:
    """(name, tx, spent outputs, whether the fast path should prove every input)."""
    for kind in ("p2pkh", "p2wpkh"):
        yield f"{kind}-valid", *_signed([kind], 1), True
        for hash_type in (SIGHASH_NONE, SIGHASH_SINGLE, SIGHASH_ALL | SIGHASH_ANYONECANPAY):
            yield f"{kind}-hashtype-{hash_type:#x}", *_signed([kind], 2, hash_type), False
        yield f"{kind}-wrong-key", *_signed([kind], 3, wrong_key_at=0), False
        tx, spent = _signed([kind], 4)
        yield (
            f"{kind}-wrong-amount",
            tx,
            [TxOut(spent[0].value + 1, spent[0].script_pubkey)],
            (
                kind == "p2pkh"  # the legacy signature hash does not cover the amount
            ),
        )
        other = script_for(KEYS[7], kind)
        yield f"{kind}-wrong-script", tx, [TxOut(spent[0].value, other)], False
    yield "mixed-4-inputs", *_signed(["p2pkh", "p2wpkh", "p2wpkh", "p2pkh"], 5), True
    yield "mixed-bad-third", *_signed(["p2pkh", "p2wpkh", "p2wpkh"], 6, wrong_key_at=2), False
    tx, spent = _signed(["p2wpkh"], 7)
    yield "p2wpkh-high-s", _high_s(tx), spent, False
    extra = TxIn(tx.vin[0].prevout, b"", tx.vin[0].sequence, (*tx.vin[0].witness, b"\x01"))
    yield "p2wpkh-extra-witness-item", Tx(2, (extra,), tx.vout), spent, False
    yield "p2pkh-uncompressed-key", *_uncompressed_p2pkh(), False


VARIANTS = list(_variants())


def _verdict(call: Callable[[], None]) -> tuple[str, str, int | None] | None:
    try:
        call()
    except ScriptError as err:
        return err.reject_reason, err.debug, err.input_index
    return None


@pytest.mark.parametrize(("name", "tx", "spent", "proven"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_fast_path_only_skips_inputs_the_interpreter_accepts(
    name: str, tx: Tx, spent: list[TxOut], proven: bool
) -> None:
    raw = tx.serialize()
    left = unproven_inputs(raw, spent, FLAGS)
    assert (left == []) is proven, (name, left)
    reference = _verdict(lambda: check_tx(3, spent, FLAGS, tx=tx))
    assert _verdict(lambda: check_tx(3, spent, FLAGS, raw=raw)) == reference
    assert _verdict(lambda: check_tx(3, spent, FLAGS, raw=raw, tx=tx)) == reference
    for n_in in set(range(len(spent))) - set(left):
        assert reference is None or reference[2] != n_in  # never skips a failing input


def test_fast_path_leaves_undecodable_bytes_to_the_interpreter() -> None:
    tx, spent = _signed(["p2wpkh"], 1)
    assert unproven_inputs(tx.serialize()[:-1], spent, FLAGS) == [0]
    assert unproven_inputs(b"", spent, FLAGS) == [0]


def _block(bad_positions: set[int], count: int = 240) -> tuple[Block, list[list[TxOut]]]:
    txs, spent = [], []
    for i in range(count):
        kinds = ["p2wpkh"] if i % 3 else ["p2pkh", "p2wpkh"]
        wrong = len(kinds) - 1 if i + 1 in bad_positions else None
        tx, outs = _signed(kinds, 100 + i, wrong_key_at=wrong)
        txs.append(tx)
        spent.append(outs)
    return ChainBuilder().block(REGTEST.genesis.hash, txs), spent


@pytest.fixture(scope="module")
def parallel() -> Iterator[ParallelScriptChecker]:
    with ParallelScriptChecker(workers=2, chunk_inputs=16) as checker:
        yield checker


@pytest.mark.parametrize("bad", [set(), {120}, {40, 200}, {1}, {240}], ids=str)
def test_parallel_verdict_equals_the_serial_reference(
    parallel: ParallelScriptChecker, bad: set[int]
) -> None:
    block, spent = _block(bad)
    reference = _verdict(
        lambda: check_block_scripts(SerialScriptChecker(fast_path=False), block, spent, FLAGS)
    )
    if bad:
        assert reference is not None and f"tx {min(bad)} " in reference[1]
    else:
        assert reference is None
    assert (
        _verdict(lambda: check_block_scripts(SerialScriptChecker(), block, spent, FLAGS))
        == reference
    )
    assert _verdict(lambda: check_block_scripts(parallel, block, spent, FLAGS)) == reference
    tx_bytes = [tx.serialize() for tx in block.txs]
    assert (
        _verdict(lambda: check_block_scripts(parallel, block, spent, FLAGS, tx_bytes=tx_bytes))
        == reference
    )


@pytest.mark.parametrize("bad", [set(), {120}], ids=str)
def test_meanwhile_work_runs_once_inside_a_session_and_leaves_the_verdict_alone(
    parallel: ParallelScriptChecker, bad: set[int]
) -> None:
    block, spent = _block(bad)
    reference = _verdict(lambda: check_block_scripts(SerialScriptChecker(), block, spent, FLAGS))
    ran: list[bool] = []

    def work() -> None:  # runs while the session is still open: chunks are out, none checked
        ran.append(parallel._session is not None)

    def check() -> None:
        with parallel.meanwhile(work):
            check_block_scripts(parallel, block, spent, FLAGS)

    assert _verdict(check) == reference
    assert ran == [True]


def test_meanwhile_work_without_a_session_runs_at_exit_but_not_after_an_error(
    parallel: ParallelScriptChecker,
) -> None:
    ran: list[str] = []
    with parallel.meanwhile(lambda: ran.append("exit")):
        assert ran == []
    assert ran == ["exit"]
    with pytest.raises(KeyError), parallel.meanwhile(lambda: ran.append("error")):
        raise KeyError("the caller failed")
    assert ran == ["exit"]
    with (
        pytest.raises(ChainMisuse, match="already open"),
        parallel.meanwhile(list),
        parallel.meanwhile(list),
    ):
        pass
    good, good_spent = _block(set())
    check_block_scripts(parallel, good, good_spent, FLAGS)  # nothing pending is left behind
    assert ran == ["exit"]


def test_an_abandoned_session_leaves_the_pool_clean(parallel: ParallelScriptChecker) -> None:
    block, spent = _block({5})
    session = parallel.begin(FLAGS)
    for position, tx in enumerate(block.txs[1:100], start=1):
        session.add(position, tx, spent[position - 1])
    session.abandon()
    good, good_spent = _block(set())
    # no stale answer is taken for this block
    check_block_scripts(parallel, good, good_spent, FLAGS)


def test_a_dead_worker_is_replaced_and_the_verdict_still_reached() -> None:
    block, spent = _block({77})
    reference = _verdict(lambda: check_block_scripts(SerialScriptChecker(), block, spent, FLAGS))
    with ParallelScriptChecker(workers=1, chunk_inputs=8) as checker:
        pid = checker._workers[0].process.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert _verdict(lambda: check_block_scripts(checker, block, spent, FLAGS)) == reference
        assert checker.workers == 1 and checker._workers[0].process.pid != pid
        good, good_spent = _block(set())
        check_block_scripts(checker, good, good_spent, FLAGS)


def _signed_chain(checker: ScriptChecker, bad_index: int | None) -> tuple[Chainstate, Block, Block]:
    """QUICK_REGTEST: block 1 pays a P2WPKH key, block 2 fans it out to 24 outputs of both
    kinds, block 3 spends them all in signed transactions (`bad_index` by the wrong key).
    Returns the chainstate (at block 2), block 2 and block 3."""
    builder = ChainBuilder(QUICK_REGTEST)
    funder = KEYS[0]
    b1 = builder.block(QUICK_REGTEST.genesis.hash, script_pubkey=script_for(funder, "p2wpkh"))
    reward = b1.txs[0].vout[0]
    kinds = ["p2pkh" if i % 2 else "p2wpkh" for i in range(24)]
    outs = tuple(TxOut(VALUE, script_for(KEYS[i % 8], kind)) for i, kind in enumerate(kinds))
    fan = sign_inputs(Tx(2, (TxIn(OutPoint(b1.txs[0].txid, 0)),), outs), [(funder, reward)])
    b2 = builder.block(b1.hash, [fan], fees=reward.value - 24 * VALUE)
    txs = []
    for i, out in enumerate(outs):
        unsigned = Tx(2, (TxIn(OutPoint(fan.txid, i)),), (TxOut(VALUE - 1000, b"\x51"),))
        signed = sign_inputs(unsigned, [(KEYS[i % 8], out)])
        if i == bad_index:
            signed = _with_wrong_signature(signed, unsigned, [out], [kinds[i]], 0)
        txs.append(signed)
    tag = b"bad" if bad_index is not None else b"good"
    b3 = builder.block(b2.hash, txs, fees=24 * 1000, tag=tag)
    chainstate = Chainstate.open(MemoryStore(), QUICK_REGTEST, checker=checker)
    feed(chainstate, [b1, b2])
    return chainstate, b2, b3


@pytest.mark.parametrize("kind", ["serial", "parallel"])
def test_a_bad_signature_rejects_the_block_and_a_good_sibling_connects(
    parallel: ParallelScriptChecker, kind: str
) -> None:
    checker: ScriptChecker = parallel if kind == "parallel" else SerialScriptChecker()
    chainstate, b2, bad = _signed_chain(checker, bad_index=13)
    before = chainstate.utxo_stats()
    update = chainstate.process_block(bad, NOW)
    assert isinstance(update, ChainUpdate)
    [invalid] = update.invalid
    assert invalid.reject_reason.startswith("mandatory-script-verify-flag-failed")
    assert "tx 14 " in invalid.error.debug and "input 0" in invalid.error.debug
    assert chainstate.tip_hash == b2.hash and chainstate.utxo_stats() == before
    _, _, good = _signed_chain(SerialScriptChecker(), bad_index=None)
    assert feed(chainstate, [good])[0].connected == (good,)
    assert chainstate.utxo_stats().coins == before.coins + 1  # 24 spent, 24 made, a coinbase


def test_an_early_started_block_that_fails_its_checks_releases_the_checker(
    parallel: ParallelScriptChecker,
) -> None:
    chainstate, b2, good = _signed_chain(parallel, bad_index=None)
    mutated = Block(good.header, good.txs[:-1])  # the header's merkle root no longer matches
    with pytest.raises(BlockValidationError) as info:
        chainstate.process_block(mutated, NOW)  # its first connect pass had already started
    assert info.value.reject_reason == "bad-txnmrklroot"
    assert chainstate.tip_hash == b2.hash
    assert feed(chainstate, [good])[0].connected == (good,)  # a new session can begin
