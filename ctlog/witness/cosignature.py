"""Ed25519 witness cosignatures (C2SP tlog-cosignature, cosignature/v1) and k-of-n checks.

A cosignature is a note signature of key type 0x04 on a checkpoint. Its key ID is
SHA-256(name || 0x0A || 0x04 || public key)[:4]; its signature bytes are a uint64 POSIX
timestamp (seconds) followed by an Ed25519 signature over
"cosignature/v1\\ntime <timestamp>\\n" + the checkpoint text. Clients pin (name, key) of the
witnesses they trust and `verify_cosigned` demands k valid cosignatures among them.
Pure: the timestamp is an input, keys come from seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.checkpoint import Checkpoint
from ctlog.errors import InputError, UsageError, VerificationError
from ctlog.note import (
    ED25519_SIGNATURE_SIZE,
    SIG_TYPE_COSIGNATURE_V1,
    SIG_TYPE_ED25519,
    Ed25519KeySigner,
    Ed25519KeyVerifier,
    Note,
    NoteSignature,
    NoteVerifier,
    ed25519_verify,
    verify_note,
)
from ctlog.tls import uint

COSIGNATURE_HEADER = "cosignature/v1"  # tlog-cosignature §Ed25519 signed message
TIMESTAMP_SIZE = 8  # tlog-cosignature §Format: `u64 timestamp` opens timestamped_signature
MAX_TIMESTAMP = (1 << 63) - 1  # tlog-cosignature §Format: MUST NOT exceed 2^63 - 1
COSIGNATURE_SIZE = TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE  # timestamp || Ed25519 signature


def cosigned_message(checkpoint_text: str, timestamp_s: int) -> bytes:
    """tlog-cosignature §Ed25519 signed message: header line, time line, checkpoint text."""
    return f"{COSIGNATURE_HEADER}\ntime {timestamp_s}\n{checkpoint_text}".encode()


def decode_cosignature(sig: bytes) -> tuple[int, bytes]:
    """The (timestamp, Ed25519 signature) of a timestamped_signature; `InputError` if malformed."""
    if len(sig) != COSIGNATURE_SIZE:
        raise InputError(f"a cosignature/v1 signature is {COSIGNATURE_SIZE} bytes, not {len(sig)}")
    timestamp = int.from_bytes(sig[:TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        raise InputError(f"cosignature timestamp {timestamp} exceeds 2^63 - 1")
    return timestamp, sig[TIMESTAMP_SIZE:]


def _checkpoint_text(msg: bytes) -> str:
    """`msg` as checkpoint text: cosignatures are only ever made on checkpoints."""
    try:
        text = msg.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("cosigned text is not valid UTF-8") from None
    Checkpoint.parse(text)
    return text


@dataclass(frozen=True, slots=True)
class CosignatureVerifier(Ed25519KeyVerifier):
    """Verifies one witness's cosignature/v1 signatures."""

    KEY_TYPE = SIG_TYPE_COSIGNATURE_V1
    # A cosigner's vkey or skey may say 0x04 as tlog-cosignature does, or 0x01 as
    # transparency-dev/witness configures them (the cosignature key ID is 0x04-based either way).
    KEY_TYPES = (SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519)
    KEY_TYPES_TEXT = "0x04 or 0x01"

    def verify(self, msg: bytes, sig: bytes) -> bool:
        try:
            timestamp, signature = decode_cosignature(sig)
            text = _checkpoint_text(msg)
        except InputError:
            return False
        return ed25519_verify(self._key, cosigned_message(text, timestamp), signature)


@dataclass(frozen=True, slots=True)
class CosignatureSigner(Ed25519KeySigner):
    """A witness's cosigning key; its skey is written with type 0x04."""

    VERIFIER = CosignatureVerifier

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.public_key, self.name)

    def sign_at(self, msg: bytes, timestamp_s: int) -> bytes:
        """timestamp || Ed25519 signature over the cosigned message for checkpoint text `msg`."""
        if isinstance(timestamp_s, bool) or not 0 <= timestamp_s <= MAX_TIMESTAMP:
            raise UsageError("a cosignature timestamp is in [0, 2^63)")
        try:
            text = _checkpoint_text(msg)
        except InputError as exc:
            raise UsageError(f"only checkpoints are cosigned: {exc}") from None
        signature = self.key.sign(cosigned_message(text, timestamp_s))
        return uint(timestamp_s, TIMESTAMP_SIZE) + signature

    def cosign(self, checkpoint_text: str, timestamp_s: int) -> NoteSignature:
        """The cosignature line of this witness on `checkpoint_text` at `timestamp_s`."""
        sig = self.sign_at(checkpoint_text.encode(), timestamp_s)
        return NoteSignature(self.name, self.key_id, sig)


@dataclass(frozen=True, slots=True)
class CosignReport:
    """What `verify_cosigned` found: the checkpoint, who cosigned it (name, timestamp), who did
    not, and whose cosignature was present but invalid."""

    checkpoint: Checkpoint
    log_names: tuple[str, ...]
    cosigned: tuple[tuple[str, int], ...]
    missing: tuple[str, ...]
    invalid: tuple[str, ...]
    min_witnesses: int

    def to_json(self) -> dict[str, object]:
        return {
            "origin": self.checkpoint.origin,
            "tree_size": self.checkpoint.tree_size,
            "root_hash": self.checkpoint.root_hash.hex(),
            "log_signers": list(self.log_names),
            "cosigned": [{"witness": name, "timestamp": ts} for name, ts in self.cosigned],
            "missing": list(self.missing),
            "invalid": list(self.invalid),
            "min_witnesses": self.min_witnesses,
        }


def verify_cosigned(
    note_bytes: bytes | Note,
    log_verifier: NoteVerifier,
    witness_verifiers: Sequence[CosignatureVerifier],
    min_witnesses: int,
) -> CosignReport:
    """Check that the log signed the checkpoint and at least `min_witnesses` of
    `witness_verifiers` cosigned it; else raise `VerificationError` naming who did and did not.

    A witness counts once however many lines it has, and only if every one of them verifies;
    a bad cosignature is reported as invalid rather than failing the whole note, so one broken
    witness cannot veto a quorum of good ones. Unknown signature lines are ignored.
    """
    _check_policy(log_verifier, witness_verifiers, min_witnesses)
    note = note_bytes if isinstance(note_bytes, Note) else Note.parse(note_bytes)
    log_names = verify_note(note, [log_verifier])
    checkpoint = Checkpoint.from_note(note)
    cosigned: list[tuple[str, int]] = []
    missing: list[str] = []
    invalid: list[str] = []
    for witness in witness_verifiers:
        mine = [s for s in note.signatures if (s.name, s.key_id) == (witness.name, witness.key_id)]
        if not mine:
            missing.append(witness.name)
        elif all(witness.verify(note.message, s.signature) for s in mine):
            newest = max(decode_cosignature(s.signature)[0] for s in mine)
            cosigned.append((witness.name, newest))
        else:
            invalid.append(witness.name)
    report = CosignReport(
        checkpoint, tuple(log_names), tuple(cosigned), tuple(missing), tuple(invalid), min_witnesses
    )
    if len(cosigned) < min_witnesses:
        raise VerificationError(_shortfall(report), evidence=report.to_json())
    return report


def _check_policy(
    log_verifier: NoteVerifier, witnesses: Sequence[CosignatureVerifier], min_witnesses: int
) -> None:
    if isinstance(min_witnesses, bool) or not 0 <= min_witnesses <= len(witnesses):
        raise UsageError(f"min_witnesses must be in [0, {len(witnesses)}], got {min_witnesses}")
    idents = [(w.name, w.key_id) for w in witnesses]
    if len(set(idents)) != len(idents):
        raise UsageError("the same witness key is listed twice")
    if (log_verifier.name, log_verifier.key_id) in idents:
        raise UsageError("the log key is also listed as a witness")


def _shortfall(report: CosignReport) -> str:
    signed = ", ".join(name for name, _ in report.cosigned) or "none"
    parts = [
        f"checkpoint has {len(report.cosigned)} valid witness cosignatures, "
        f"{report.min_witnesses} required; cosigned: {signed}",
        f"missing: {', '.join(report.missing) or 'none'}",
    ]
    if report.invalid:
        parts.append(f"invalid: {', '.join(report.invalid)}")
    return "; ".join(parts)


__all__ = [
    "COSIGNATURE_SIZE",
    "MAX_TIMESTAMP",
    "CosignReport",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosigned_message",
    "decode_cosignature",
    "verify_cosigned",
]
