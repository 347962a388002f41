"""Tenant-side attestation: statement formats, certificate chains and FIDO metadata."""

from .chain import validate_chain
from .failure import AttestationFailure
from .metadata import Metadata, MetadataEntry, MetadataError, verify_trust
from .statement import (
    VerifiedStatement,
    check_packed_form,
    parse_attestation_object,
    verify_statement,
)

__all__ = [
    "AttestationFailure",
    "Metadata",
    "MetadataEntry",
    "MetadataError",
    "VerifiedStatement",
    "check_packed_form",
    "parse_attestation_object",
    "validate_chain",
    "verify_statement",
    "verify_trust",
]
