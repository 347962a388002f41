"""Certificate path validation for attestation chains, on cryptography's RFC 5280 verifier.

fido2's `verify_x509_chain` checks signatures only. Here cryptography builds and validates the
path (validity at `at`, cA on every issuer, pathLenConstraint, keyCertSign where keyUsage is
present); our own code only runs the few checks that give the rejection its reason:

- every x5c certificate valid at `at`, else ATTESTATION_CERTIFICATE_EXPIRED;
- x5c in order (each certificate issued by the next), else ATTESTATION_CHAIN_INVALID;
- the root not included, else ATTESTATION_CHAIN_INVALID. "Root included" means: a certificate
  after the leaf that is self-signed or byte-identical to a given root (FIDO conformance
  Resp-5 F-11). A lone leaf that *is* a given root is accepted as directly trusted: some
  metadata statements list the batch certificate itself as attestationRootCertificate.
- when cryptography refuses the path: ATTESTATION_UNTRUSTED if no given root issued the top
  certificate, ATTESTATION_CERTIFICATE_EXPIRED if every root that did has lapsed, otherwise
  ATTESTATION_CHAIN_INVALID with cryptography's reason (not a CA, path length, key usage, or
  a certificate that is not DER: cryptography is strict where Windows may not be).

webpki's defaults are not used: they refuse TPM AIK certificates (critical certificatePolicies,
EKU tcg-kp-AIKCertificate), so the extension policies below account for exactly the extensions
attestation certificates carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from .failure import (
    CERTIFICATE_EXPIRED,
    CERTIFICATE_INVALID,
    CHAIN_INVALID,
    UNTRUSTED,
    AttestationFailure,
    failures_as,
    require,
)

_ANY = Criticality.AGNOSTIC
# Extensions attestation certificates carry, sometimes critical, that the policy must account for
_TOLERATED = (x509.CertificatePolicies, x509.ExtendedKeyUsage, x509.SubjectAlternativeName)


def _issuer_is_ca(_: Policy, cert: x509.Certificate, bc: x509.BasicConstraints) -> None:
    if not bc.ca:
        raise ValueError(f"{cert.subject.rfc4514_string()!r} issues certificates but cA=false")


def _issuer_may_sign(_: Policy, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not ku.key_cert_sign:
        raise ValueError(f"{cert.subject.rfc4514_string()!r} keyUsage lacks keyCertSign")


def _policies() -> tuple[ExtensionPolicy, ExtensionPolicy]:
    ca = (ExtensionPolicy.permit_all()
          .require_present(x509.BasicConstraints, _ANY, _issuer_is_ca)
          .may_be_present(x509.KeyUsage, _ANY, _issuer_may_sign)
          .may_be_present(x509.NameConstraints, _ANY, None))
    ee = (ExtensionPolicy.permit_all()
          .may_be_present(x509.BasicConstraints, _ANY, None)
          .may_be_present(x509.KeyUsage, _ANY, None))
    for ext in _TOLERATED:
        ca = ca.may_be_present(ext, _ANY, None)
        ee = ee.may_be_present(ext, _ANY, None)
    return ca, ee


def _load(der: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, TypeError) as e:
        raise AttestationFailure(CERTIFICATE_INVALID, f"The {what} does not parse ({e}).") from e


def _name(index: int) -> str:
    return "leaf certificate" if index == 0 else f"x5c certificate #{index}"


def _valid_at(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:  # name mismatch, bad signature, unsupported key: not the issuer
        return False


def _anchors(roots: Sequence[bytes]) -> list[x509.Certificate]:
    """The roots that parse: an unreadable metadata root is no reason to blame the chain."""
    out = []
    for der in roots:
        try:
            out.append(x509.load_der_x509_certificate(der))
        except (ValueError, TypeError):
            continue
    return out


@failures_as(CHAIN_INVALID)
def validate_chain(trust_path: Sequence[bytes], roots: Sequence[bytes], at: datetime) -> None:
    """Validate x5c (leaf first, root excluded) up to one of `roots` at time `at`."""
    require(trust_path, CHAIN_INVALID, "There is no certificate to validate.")
    key = (tuple(trust_path), tuple(roots))
    window = _VALIDATED.get(key)
    if window is not None and window[0] <= at <= window[1]:
        return
    certs = [_load(der, _name(i)) for i, der in enumerate(trust_path)]
    anchors = _anchors(roots)

    for i, cert in enumerate(certs):
        require(_valid_at(cert, at), CERTIFICATE_EXPIRED,
                f"The {_name(i)} is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
                f"{cert.not_valid_after_utc:%Y-%m-%d}, not at {at:%Y-%m-%d %H:%M}.")
    for i, cert in enumerate(certs[1:], start=1):
        require(trust_path[i] not in roots and not _issued_by(cert, cert), CHAIN_INVALID,
                f"The x5c includes a root certificate (#{i}); it must stop below the root.")
    for i in range(len(certs) - 1):
        require(_issued_by(certs[i], certs[i + 1]), CHAIN_INVALID,
                f"The x5c is out of order: #{i} is not issued by #{i + 1}.")

    ca_policy, ee_policy = _policies()
    try:
        (PolicyBuilder().store(Store(anchors)).time(at)
         .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
         .build_client_verifier().verify(certs[0], certs[1:]))
    except (VerificationError, ValueError, UnsupportedAlgorithm) as e:
        top = certs[-1]
        issuers = [r for r in anchors if r == top or _issued_by(top, r)]
        require(issuers, UNTRUSTED, "The chain does not lead to any trusted root certificate.")
        require(any(_valid_at(r, at) for r in issuers), CERTIFICATE_EXPIRED,
                f"The root certificate that issued the chain is not valid at {at:%Y-%m-%d}.")
        raise AttestationFailure(CHAIN_INVALID, f"The chain is not a valid path ({e}).") from e
    _remember(key, certs, anchors)


# Chains that validated, with the period in which every certificate involved is valid: inside
# it, the same chain and roots validate again (time only enters through validity periods), so
# the signature checks need not be redone for the thousands of registrations of one authenticator
# model. Failures are never remembered.
_VALIDATED: dict[tuple[tuple[bytes, ...], tuple[bytes, ...]], tuple[datetime, datetime]] = {}
_VALIDATED_MAX = 4096


def _remember(key: tuple[tuple[bytes, ...], tuple[bytes, ...]], certs: list[x509.Certificate],
              anchors: list[x509.Certificate]) -> None:
    """The period in which the chain and every root that may have issued its top are valid."""
    top = certs[-1]
    involved = [*certs, *(r for r in anchors if r == top or _issued_by(top, r))]
    if len(_VALIDATED) >= _VALIDATED_MAX:
        _VALIDATED.clear()
    _VALIDATED[key] = (max(c.not_valid_before_utc for c in involved),
                       min(c.not_valid_after_utc for c in involved))
