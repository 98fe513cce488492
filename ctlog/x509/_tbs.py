"""TBSCertificate surgery for precertificates (RFC 6962 §3.2 and §3.3), byte-exact.

The log hashes and signs a precertificate's TBSCertificate with the poison extension removed;
a TLS client rebuilds the same bytes from the final certificate by removing the SCT list.
When a Precertificate Signing Certificate issued the precertificate, the issuer and the
Authority Key Identifier are replaced by those of the final issuer. Fields that do not
change are copied as they were encoded, never re-encoded.
"""

from __future__ import annotations

from ctlog.errors import InputError
from ctlog.x509._der import (
    BOOLEAN,
    CONTEXT_0,
    CONTEXT_3,
    OCTET_STRING,
    OID,
    SEQUENCE,
    Tlv,
    children,
    encode_oid,
    encode_tlv,
    parse_one,
)

POISON_OID = "1.3.6.1.4.1.11129.2.4.3"  # RFC 6962 §3.1 precertificate poison
SCT_LIST_OID = "1.3.6.1.4.1.11129.2.4.2"  # RFC 6962 §3.3 embedded SCT list
PRECERT_SIGNING_EKU_OID = "1.3.6.1.4.1.11129.2.4.4"  # RFC 6962 §3.1 Precertificate Signing
AUTHORITY_KEY_ID_OID = "2.5.29.35"  # RFC 5280 §4.2.1.1

# Positions after the optional version, RFC 5280 §4.1: serialNumber, signature, issuer,
# validity, subject, subjectPublicKeyInfo.
_ISSUER = 2
_SUBJECT_PUBLIC_KEY_INFO = 5


def tbs_fields(cert_der: bytes) -> list[Tlv]:
    """The TBSCertificate's fields of a DER Certificate (RFC 5280 §4.1)."""
    cert = parse_one(cert_der, SEQUENCE, "certificate")
    parts = children(cert.value)
    if len(parts) != 3 or parts[0].tag != SEQUENCE:
        raise InputError("certificate is not a SEQUENCE of tbsCertificate, algorithm, signature")
    fields = children(parts[0].value)
    if len(fields) < _offset(fields) + _SUBJECT_PUBLIC_KEY_INFO + 1:
        raise InputError("tbsCertificate lacks mandatory fields")
    return fields


def _offset(fields: list[Tlv]) -> int:
    return 1 if fields and fields[0].tag == CONTEXT_0 else 0


def spki_der(cert_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo exactly as encoded in the certificate."""
    fields = tbs_fields(cert_der)
    return fields[_offset(fields) + _SUBJECT_PUBLIC_KEY_INFO].raw


def issuer_der(cert_der: bytes) -> bytes:
    """The issuer Name exactly as encoded in the certificate."""
    fields = tbs_fields(cert_der)
    return fields[_offset(fields) + _ISSUER].raw


def _extensions(fields: list[Tlv]) -> list[Tlv]:
    wrapper = [f for f in fields if f.tag == CONTEXT_3]
    if not wrapper:
        return []
    return children(parse_one(wrapper[0].value, SEQUENCE, "extensions").value)


def _extension_parts(extension: Tlv) -> tuple[bytes, Tlv | None, Tlv]:
    """(extnID content, critical BOOLEAN or None, extnValue OCTET STRING) of one Extension."""
    parts = children(extension.value) if extension.tag == SEQUENCE else []
    if len(parts) == 2 and parts[0].tag == OID and parts[1].tag == OCTET_STRING:
        return parts[0].value, None, parts[1]
    if len(parts) == 3 and [p.tag for p in parts] == [OID, BOOLEAN, OCTET_STRING]:
        return parts[0].value, parts[1], parts[2]
    raise InputError("certificate has a malformed Extension")


def _find(extensions: list[Tlv], dotted: str) -> list[int]:
    oid = encode_oid(dotted)
    return [i for i, ext in enumerate(extensions) if _extension_parts(ext)[0] == oid]


def extension_value(cert_der: bytes, dotted: str) -> bytes | None:
    """The content of extension `dotted`'s extnValue OCTET STRING, or None if absent."""
    extensions = _extensions(tbs_fields(cert_der))
    found = _find(extensions, dotted)
    if len(found) > 1:
        raise InputError(f"certificate repeats extension {dotted}")
    return _extension_parts(extensions[found[0]])[2].value if found else None


def sct_list_bytes(cert_der: bytes) -> bytes | None:
    """RFC 6962 §3.3: the TLS SignedCertificateTimestampList embedded in a certificate.

    The extnValue holds an OCTET STRING whose content is the TLS-encoded list.
    """
    value = extension_value(cert_der, SCT_LIST_OID)
    if value is None:
        return None
    return parse_one(value, OCTET_STRING, "SCT list extension").value


def _rebuild(fields: list[Tlv], extensions: list[bytes]) -> bytes:
    """Re-assemble a TBSCertificate with a new extension list; an empty list drops [3]."""
    out = [f.raw for f in fields if f.tag != CONTEXT_3]
    if extensions:
        out.append(encode_tlv(CONTEXT_3, encode_tlv(SEQUENCE, b"".join(extensions))))
    return encode_tlv(SEQUENCE, b"".join(out))


def _without(extensions: list[Tlv], dotted: str, what: str) -> list[Tlv]:
    found = _find(extensions, dotted)
    if len(found) != 1:
        raise InputError(f"{what} must carry extension {dotted} exactly once")
    return [ext for i, ext in enumerate(extensions) if i != found[0]]


def tbs_without_sct_list(cert_der: bytes) -> bytes:
    """RFC 6962 §3.3: the final certificate's TBS with the embedded SCT list removed."""
    fields = tbs_fields(cert_der)
    kept = _without(_extensions(fields), SCT_LIST_OID, "a certificate with embedded SCTs")
    return _rebuild(fields, [ext.raw for ext in kept])


def precert_tbs(precert_der: bytes, signing_cert_der: bytes | None = None) -> bytes:
    """RFC 6962 §3.2: the precertificate's TBS without the poison extension.

    With `signing_cert_der` (a Precertificate Signing Certificate that issued the
    precertificate), the issuer becomes the signing certificate's issuer and the Authority
    Key Identifier becomes the signing certificate's own one: the final issuer's identity.
    """
    fields = tbs_fields(precert_der)
    kept = _without(_extensions(fields), POISON_OID, "a precertificate")
    if signing_cert_der is None:
        return _rebuild(fields, [ext.raw for ext in kept])
    fields[_offset(fields) + _ISSUER] = parse_one(issuer_der(signing_cert_der), SEQUENCE, "issuer")
    return _rebuild(fields, _replace_authority_key_id(kept, signing_cert_der))


def _replace_authority_key_id(extensions: list[Tlv], signing_cert_der: bytes) -> list[bytes]:
    """Give the precertificate the signing certificate's AKI: replace, drop, or append it."""
    signing_extensions = _extensions(tbs_fields(signing_cert_der))
    source = _find(signing_extensions, AUTHORITY_KEY_ID_OID)
    source_value = _extension_parts(signing_extensions[source[0]])[2] if source else None
    target = _find(extensions, AUTHORITY_KEY_ID_OID)
    raws = [ext.raw for ext in extensions]
    if target and source_value is None:
        del raws[target[0]]
    elif target and source_value is not None:
        oid, critical, _ = _extension_parts(extensions[target[0]])
        body = encode_tlv(OID, oid) + (critical.raw if critical else b"") + source_value.raw
        raws[target[0]] = encode_tlv(SEQUENCE, body)
    elif source_value is not None:
        raws.append(
            encode_tlv(
                SEQUENCE, encode_tlv(OID, encode_oid(AUTHORITY_KEY_ID_OID)) + source_value.raw
            )
        )
    return raws


__all__ = [
    "AUTHORITY_KEY_ID_OID",
    "POISON_OID",
    "PRECERT_SIGNING_EKU_OID",
    "SCT_LIST_OID",
    "extension_value",
    "issuer_der",
    "precert_tbs",
    "sct_list_bytes",
    "spki_der",
    "tbs_fields",
    "tbs_without_sct_list",
]
