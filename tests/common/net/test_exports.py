"""common.net exports the names other packages use."""

from __future__ import annotations

import common.net


def test_public_names_are_exported() -> None:
    for name in common.net.__all__:
        assert hasattr(common.net, name)
    expected = {
        "Envelope",
        "Transport",
        "PeerAddress",
        "ClusterAuth",
        "AiohttpTransport",
        "SimNetwork",
        "LinkFaults",
        "SimTransport",
        "NetError",
        "DecodeError",
        "AuthError",
        "MessageTooLarge",
        "MAX_MSG_BYTES_DEFAULT",
    }
    assert expected <= set(common.net.__all__)
