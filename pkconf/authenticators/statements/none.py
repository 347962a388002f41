"""The "none" attestation statement: an empty map.

WebAuthn §8.7 https://www.w3.org/TR/webauthn-3/#sctn-none-attestation: "attStmt ... an empty
CBOR map". What Chromium sends for attestation "none" and what synced passkeys give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from . import Defect, require_defect
from .packed import PackedAttester


@dataclass(frozen=True)
class NoneAttester:
    """No attestation; `Defect.NOT_EMPTY` relabels a packed self statement as "none"."""

    defect: Defect | None = None
    fmt: ClassVar[str] = "none"
    DEFECTS: ClassVar[frozenset[Defect]] = frozenset({Defect.NOT_EMPTY})

    def __post_init__(self) -> None:
        require_defect(self.fmt, self.defect, self.DEFECTS)

    def attest(self, auth_data: bytes, client_data_hash: bytes,
               credential_key: PrivateKeyTypes) -> tuple[str, dict[str, Any]]:
        if self.defect is Defect.NOT_EMPTY:  # FIDO server conformance Resp-7 F-1
            _, statement = PackedAttester().attest(auth_data, client_data_hash, credential_key)
            return self.fmt, statement
        return self.fmt, {}
