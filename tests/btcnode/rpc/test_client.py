"""The async and blocking clients against the server."""

from __future__ import annotations

import asyncio

import pytest

from btcnode.rpc import RpcClient, RpcCredentials, RpcError, SyncRpcClient
from btcnode.rpc.client import RpcTransportError
from tests.btcnode.rpc.harness import CREDENTIALS, Harness


def test_async_client_calls_and_raises_typed_errors(rpc: Harness) -> None:
    async def scenario() -> tuple[object, object, RpcError]:
        async with RpcClient(rpc.url, CREDENTIALS) as client:
            count = await client.call("getblockcount")
            genesis = await client.call("getblockhash", 0)
            try:
                await client.call("getblockhash", 1)
            except RpcError as err:
                return count, genesis, err
        raise AssertionError("getblockhash 1 on a fresh chain must fail")

    count, genesis, error = asyncio.run(scenario())
    assert count == 0
    assert genesis == rpc.node.params.genesis.header.hash_hex
    assert (error.code, error.message) == (-8, "Block height out of range")


def test_async_client_bad_credentials(rpc: Harness) -> None:
    async def scenario() -> None:
        async with RpcClient(rpc.url, RpcCredentials("alice", "nope")) as client:
            await client.call("getblockcount")

    with pytest.raises(RpcTransportError) as info:
        asyncio.run(scenario())
    assert info.value.status == 401


def test_sync_client_error_answer(rpc: Harness) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("nosuchmethod")
    assert (info.value.code, info.value.message) == (-32601, "Method not found")


def test_unreachable_server() -> None:
    client = SyncRpcClient("http://127.0.0.1:1/", CREDENTIALS, timeout_seconds=5)
    with pytest.raises(RpcTransportError) as info:
        client.call("getblockcount")
    assert info.value.status is None
