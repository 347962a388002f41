"""Attestation statements an authenticator signs at MakeCredential, one module per format.

Every format module provides an `Attester`: given the authenticator data it just built and
the client data hash, it returns `(fmt, attStmt)` for the attestation object. Formats that
need a certificate chain take it from the test PKI (`pkconf.authenticators.pki`). Deliberately
wrong variants ("bad signature", "expired leaf", ...) are options of the same attester, so a
negative case differs from its positive twin in one named knob.
"""

from __future__ import annotations

from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


class Attester(Protocol):
    """Signs an attestation statement for a freshly made credential."""

    fmt: str

    def attest(
        self,
        auth_data: bytes,
        client_data_hash: bytes,
        credential_key: PrivateKeyTypes,
    ) -> tuple[str, dict[str, Any]]:
        """Return (fmt, attStmt) for these authenticator data and client data hash."""
        ...
