"""`btcnode run`'s flags: each bad one is refused with the flag's name and the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.params import REGTEST
from btcnode.daemon.layout import cookie_path, network_dir
from btcnode.daemon.options import NodeOptionError, node_options
from btcnode.signing import p2wpkh_script_for
from tests.btcnode.scenarios.helpers import key, pubkey

MINER_SCRIPT = p2wpkh_script_for(pubkey(key("miner")))
MINER_ADDRESS = address_for_script(MINER_SCRIPT, REGTEST)
MAINNET_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def test_good_flags_decode() -> None:
    assert MINER_ADDRESS is not None
    options = node_options(
        REGTEST,
        datadir="~/x",
        p2p_port=20001,
        rpc_port=20002,
        connect=("127.0.0.1:20011", "[::1]:20012", "localhost"),
        addnode=("127.0.0.1:20021",),
        mine_to=MINER_ADDRESS,
        mine_interval_s=0.5,
        par=2,
    )
    assert options.datadir == Path("~/x").expanduser()
    assert options.mine_script == MINER_SCRIPT
    config = options.p2p_config()
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 20001)
    assert config.connect == (("127.0.0.1", 20011), ("::1", 20012), ("localhost", 18444))
    assert config.addnode == (("127.0.0.1", 20021),)


@pytest.mark.parametrize(
    ("flags", "flag", "words"),
    [
        ({"mine_to": "bcrt1qnotanaddress"}, "--mine-to", "not a regtest address"),
        ({"mine_to": MAINNET_ADDRESS}, "--mine-to", "not this network"),
        ({"connect": ("127.0.0.1:0",)}, "--connect", "port must be"),
        ({"addnode": ("[::1",)}, "--addnode", "expected [IPv6]:port"),
        ({"p2p_port": 0}, "--p2p-port", "not a TCP port"),
        ({"rpc_port": 18444}, "--rpc-port", "also the --p2p-port"),
        ({"par": 0}, "--par", "use 1"),
        ({"mine_interval_s": 0.0}, "--mine-interval", "at least"),
        ({"rpc_user": "u"}, "--rpcuser", "go together"),
        ({"rpc_user": "u:v", "rpc_password": "p"}, "--rpcuser", "':'"),
        ({"rpc_user": "u", "rpc_password": ""}, "--rpcpassword", "empty"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("--") else None,
)
def test_bad_flags_are_refused_naming_the_flag(
    flags: dict[str, Any], flag: str, words: str
) -> None:
    with pytest.raises(NodeOptionError) as caught:
        node_options(REGTEST, datadir="/tmp/x", **flags)
    assert caught.value.flag == flag
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"{flag}: ")


def test_the_layout_is_core_s_regtest_subdirectory() -> None:
    assert network_dir("/d") == Path("/d/regtest")
    assert cookie_path("/d") == Path("/d/regtest/.cookie")
