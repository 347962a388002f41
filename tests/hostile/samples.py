"""The valid registrations the hostile battery mutates: one per attestation format the
project's software authenticators produce, and the real captures of `tests/vectors`.

A generated sample keeps its attester and credential key, so a mutation of the authenticator
data or client data can be signed again: the statement stays valid and the check that must
catch the mutation is the one that decides, under an enforcing policy too. A capture cannot be
signed again (its keys are gone); its mutations break its statement as well.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from pkconf.admin.impact import ceremony_context, entra_options
from pkconf.authenticators.device import SoftwareAuthenticator, attester_for
from pkconf.authenticators.model import AttesterSpec, Profile, Uv
from pkconf.authenticators.profiles import PROFILES
from pkconf.authenticators.statements import Defect
from pkconf.ceremonies.client import register
from pkconf.tenant import rules
from pkconf.tenant.decision import CeremonyContext, IssuedChallenge
from pkconf.tenant.registration import b64url_decode
from tests.vectors import vectors

Signer = Callable[[bytes, bytes, Defect | None], tuple[str, dict[str, Any]]]

# sample -> (built-in profile, the attestation it signs with instead of the profile's own)
GENERATED: dict[str, tuple[str, AttesterSpec | None]] = {
    "packed-full": ("yubikey-5-usb", None),
    "packed-full-platform": ("microsoft-authenticator-ios", None),
    "packed-self": ("yubikey-5-usb", AttesterSpec("packed")),  # no profile signs self
    "fido-u2f": ("u2f-only-key", None),
    "tpm": ("windows-hello-hardware", None),
    "android-key": ("pixel-android-key", None),
    "apple": ("iphone-hybrid", AttesterSpec("apple", "apple-anonymous")),  # iOS sends none
    "none": ("google-password-manager", None),
}
# sample -> index in tests/vectors: one capture of each format
CAPTURED: dict[str, int] = {
    "capture-none": 0, "capture-packed-full": 1, "capture-fido-u2f": 3, "capture-tpm": 5,
    "capture-apple": 10, "capture-android-safetynet": 11, "capture-android-key": 12,
}
CAPTURED_AT = datetime(2020, 6, 1, tzinfo=UTC)  # before every capture's leaf expired
SAMPLE_NAMES = (*GENERATED, *CAPTURED)


@dataclasses.dataclass(frozen=True)
class Sample:
    """One valid registration response and the ceremony it answers."""

    name: str
    fmt: str
    response: Mapping[str, Any]
    ceremony: CeremonyContext
    sign: Signer | None  # (authData, clientDataHash, defect) -> (fmt, attStmt); None: a capture


def sample_format(name: str) -> str:
    """The attestation format of a sample, known without building it."""
    if name in GENERATED:
        profile, spec = GENERATED[name]
        return (spec or PROFILES[profile].attestation).fmt
    return str(vectors()[CAPTURED[name]]["decoded"]["fmt"])


@cache
def can_make(name: str, defect: Defect) -> bool:
    """Whether the sample's attester can sign a statement with `defect` (a capture cannot)."""
    if name not in GENERATED:
        return False
    profile, spec = GENERATED[name]
    try:
        attester_for(dataclasses.replace(spec or PROFILES[profile].attestation, defect=defect))
    except ValueError:
        return False
    return True


@cache
def sample(name: str) -> Sample:
    return _generated(name) if name in GENERATED else _captured(name)


def _generated(name: str) -> Sample:
    profile_name, spec = GENERATED[name]
    profile: Profile = PROFILES[profile_name]
    if spec is not None:
        profile = dataclasses.replace(profile, attestation=spec)
    device = SoftwareAuthenticator(profile)
    options = dict(entra_options()["publicKey"])
    if profile.uv is Uv.NONE:  # as the ceremonies do for a key without UV (ceremonies/ctap.py)
        options["authenticatorSelection"] = {"userVerification": "discouraged",
                                             "residentKey": "discouraged"}
    response = dict(register(device, options, rules.ORIGIN))
    (credential,) = device.credentials.values()
    key: PrivateKeyTypes = credential.key
    base = profile.attestation

    def sign(auth_data: bytes, client_data_hash: bytes,
             defect: Defect | None) -> tuple[str, dict[str, Any]]:
        attester = attester_for(dataclasses.replace(base, defect=defect))
        return attester.attest(auth_data, client_data_hash, key)

    return Sample(name, base.fmt, response, ceremony_context(datetime.now(UTC)), sign)


def _captured(name: str) -> Sample:
    vector = vectors()[CAPTURED[name]]
    challenge = b64url_decode(vector["expected_challenge"], "challenge")
    ceremony = CeremonyContext(
        now=CAPTURED_AT, challenge=IssuedChallenge(challenge, CAPTURED_AT + timedelta(minutes=5)),
        rp_id=vector["expected_rp_id"], origins=(vector["expected_origin"],))
    return Sample(name, vector["decoded"]["fmt"], vector["credential"], ceremony, None)
