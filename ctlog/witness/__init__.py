"""Witnesses (C2SP tlog-witness) and witness cosignatures (C2SP tlog-cosignature).

This package's top level is pure (no I/O, no clock): the cosignature keys and the k-of-n check
clients use (`cosignature`), the add-checkpoint wire formats (`request`), the witness state
machine (`core`) and the errors a client gets back (`errors`). The process around the core
lives in submodules that are imported on purpose: `storage` (LevelDB state), `config`
(witness.toml), `server` (aiohttp, `ctlog witness serve`) and `client` (`request_cosignature`).
"""

from ctlog.witness.core import (
    NEVER_COSIGNED,
    LogUpdate,
    TreeState,
    WitnessCore,
    WitnessResponse,
)
from ctlog.witness.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    CosignReport,
    cosigned_message,
    decode_cosignature,
    verify_cosigned,
)
from ctlog.witness.errors import (
    OldSizeConflict,
    ProofRejected,
    SignatureRejected,
    UnknownLog,
    WitnessRejected,
)
from ctlog.witness.request import (
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    AddCheckpointRequest,
)

__all__ = [
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "NEVER_COSIGNED",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "CosignReport",
    "CosignatureSigner",
    "CosignatureVerifier",
    "LogUpdate",
    "OldSizeConflict",
    "ProofRejected",
    "SignatureRejected",
    "TreeState",
    "UnknownLog",
    "WitnessCore",
    "WitnessRejected",
    "WitnessResponse",
    "cosigned_message",
    "decode_cosignature",
    "verify_cosigned",
]
