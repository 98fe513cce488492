"""A linearizability checker for recorded KV client histories (Wing & Gong, Lowe; per key).

Tests record every client call as an `Operation` (invocation and answer times on one clock, or
no answer) and assert `check_history(ops).ok is True`; on failure `bad_key` and `explanation`
say which key and which operation broke linearizability. `ok is None` means the search gave up
at its timeout: undecided, which a test must report as a failure.
"""

from tests.lincheck._checker import LinResult, check_history
from tests.lincheck._history import OP_NAMES, HistoryError, Operation

__all__ = ["OP_NAMES", "HistoryError", "LinResult", "Operation", "check_history"]
