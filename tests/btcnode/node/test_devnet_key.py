"""The devnet's fixed miner key, WIF and address (common.devnet cannot import btcnode to
derive them, so they are written out there) agree with each other."""

from __future__ import annotations

import coincurve

from btcnode.address import WifKey, address_for_script, decode_wif, encode_wif
from btcnode.consensus.params import REGTEST
from btcnode.signing import p2wpkh_script_for
from common.devnet import DEVNET_MINER_ADDRESS, DEVNET_MINER_KEY_HEX, DEVNET_MINER_WIF


def test_the_devnet_key_wif_and_address_agree() -> None:
    secret = bytes.fromhex(DEVNET_MINER_KEY_HEX)
    assert decode_wif(DEVNET_MINER_WIF, REGTEST) == WifKey(secret, True)
    assert encode_wif(WifKey(secret, True), REGTEST) == DEVNET_MINER_WIF
    pubkey = coincurve.PrivateKey(secret).public_key.format(compressed=True)
    assert address_for_script(p2wpkh_script_for(pubkey), REGTEST) == DEVNET_MINER_ADDRESS
