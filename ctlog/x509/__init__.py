"""X.509 for the log: parsing chains, accepted roots, chain validation, precert TBS rules.

Pure: no clock, files or sockets (time is `now_ms`; `ctlog.x509.pemfile` reads files).
`validate_chain` is what add-chain and add-pre-chain run (RFC 6962 §4.1, §4.2); its
`ValidatedChain` builds the TimestampedEntry, the extra_data and the static-ct TileLeaf.
`precert_entry_from_final` rebuilds the entry behind a certificate's embedded SCTs (§3.3).
"""

from ctlog.x509._certs import (
    MAX_CHAIN_LENGTH,
    RootSet,
    key_hash,
    ms_from_datetime,
    parse_certificate,
    parse_chain,
)
from ctlog.x509._chain import (
    MAX_VERIFIED_LINKS,
    ValidatedChain,
    VerifiedLinks,
    entry_for_chain,
    precert_entry_from_final,
    validate_chain,
)
from ctlog.x509._pem import ders_to_pem, pem_to_ders
from ctlog.x509._tbs import (
    POISON_OID,
    PRECERT_SIGNING_EKU_OID,
    SCT_LIST_OID,
    extension_value,
    precert_tbs,
    sct_list_bytes,
    spki_der,
    tbs_without_sct_list,
)

__all__ = [
    "MAX_CHAIN_LENGTH",
    "MAX_VERIFIED_LINKS",
    "POISON_OID",
    "PRECERT_SIGNING_EKU_OID",
    "SCT_LIST_OID",
    "RootSet",
    "ValidatedChain",
    "VerifiedLinks",
    "ders_to_pem",
    "entry_for_chain",
    "extension_value",
    "key_hash",
    "ms_from_datetime",
    "parse_certificate",
    "parse_chain",
    "pem_to_ders",
    "precert_entry_from_final",
    "precert_tbs",
    "sct_list_bytes",
    "spki_der",
    "tbs_without_sct_list",
    "validate_chain",
]
