"""Bad input never crashes the server: every method, given junk arguments, answers with a
deliberate Core-style error (or a result), never an unhandled Python exception."""

from __future__ import annotations

from typing import Any

import pytest

from btcnode.rpc import RPC_METHODS
from btcnode.rpc.registry import MethodSpec, ParamKind
from tests.btcnode.rpc.conftest import Funded

JUNK: list[Any] = [
    None,
    True,
    -1,
    2**70,
    0.5,
    "",
    "zz",
    "00" * 32,
    "bcrt1" + "q" * 50,
    [],
    [1, "x", None],
    [{"txid": 5, "vout": "x"}],
    {},
    {"a": [1]},
    {"data": 5},
]
# Messages of the registry's safety net: the method did not handle its own input.
UNHANDLED = ("TypeError", "AttributeError", "KeyError", "IndexError", "ValueError", "Assertion")


# A plausible value of each kind, so junk in one position reaches the method's own checks.
PLAUSIBLE = {
    ParamKind.NUM: 1,
    ParamKind.STR: "00" * 32,
    ParamKind.BOOL: True,
    ParamKind.ARR: [],
    ParamKind.OBJ: {},
    ParamKind.AMOUNT: 1,
}


def _argument_lists(spec: MethodSpec) -> list[list[Any]]:
    """Junk everywhere, then junk in one position with plausible values in the others."""
    lists = [[value] * max(1, len(spec.params)) for value in JUNK]
    plausible = [PLAUSIBLE[param.kind] for param in spec.params]
    for i in range(len(spec.params)):
        lists += [[*plausible[:i], value, *plausible[i + 1 :]] for value in JUNK]
    return lists


@pytest.mark.parametrize("method", [spec.name for spec in RPC_METHODS.specs()])
def test_junk_arguments_get_deliberate_errors(funded: Funded, method: str) -> None:
    spec = RPC_METHODS.get(method)
    assert spec is not None
    batch = [
        {"jsonrpc": "2.0", "method": method, "params": params, "id": i}
        for i, params in enumerate(_argument_lists(spec))
    ]
    status, replies = funded.rpc.post_json(batch)
    assert status == 200 and len(replies) == len(batch)
    for request, reply in zip(batch, replies, strict=True):
        error = reply.get("error")
        if error is None:
            continue
        assert error["code"] != -32603, (request, error)
        assert not error["message"].startswith(UNHANDLED), (request, error)
    assert funded.rpc.call("getblockcount") >= 101  # still serving
