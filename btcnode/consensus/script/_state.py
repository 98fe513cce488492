"""The registers of one running script and the interface to the spending transaction.

Shared by the interpreter loop (`interpreter.py`) and the opcode handlers (`_handlers.py`,
`_checksig.py`); nothing here runs a script.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from btcnode.consensus.script.flagbits import MINIMALDATA
from btcnode.consensus.sighash import SigVersion

MAX_SCRIPT_ELEMENT_SIZE = 520  # BIP16 era limit on any pushed or witness element
MAX_OPS_PER_SCRIPT = 201  # non-push ops per script (script.h)
MAX_STACK_SIZE = 1000  # stack plus altstack items (script.h)


class SignatureChecker(Protocol):
    """What the interpreter needs from the spending transaction (Core's BaseSignatureChecker)."""

    def check_ecdsa_signature(
        self, sig: bytes, pubkey: bytes, script_code: bytes, sigversion: SigVersion
    ) -> bool: ...

    def check_lock_time(self, lock_time: int) -> bool: ...

    def check_sequence(self, sequence: int) -> bool: ...


class ExecState:
    """The interpreter's registers while one script runs."""

    __slots__ = (
        "altstack",
        "checker",
        "codesep_pos",
        "false_count",
        "flags",
        "op_count",
        "pc",
        "require_minimal",
        "script",
        "sigversion",
        "stack",
        "vexec",
    )

    def __init__(
        self,
        stack: list[bytes],
        script: bytes,
        flags: int,
        checker: SignatureChecker,
        sigversion: SigVersion,
    ) -> None:
        self.stack = stack
        self.altstack: list[bytes] = []
        self.vexec: list[bool] = []  # Core's ConditionStack
        self.false_count = 0  # how many entries of vexec are False
        self.flags = flags
        self.checker = checker
        self.sigversion = sigversion
        self.script = script
        self.codesep_pos = 0  # the scriptCode starts here (after the last OP_CODESEPARATOR)
        self.pc = 0  # position after the op being executed
        self.require_minimal = bool(flags & MINIMALDATA)
        self.op_count = 0


Handler = Callable[[ExecState, int], None]
