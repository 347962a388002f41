"""The built-in authenticators the suite registers with, one frozen `Profile` record each.

A profile says what an authenticator is (AAGUID, attestation, flags, capacity) and where it is
used from (platform, client, user agent), so a test case reads "a YubiKey 5 NFC over iPhone NFC"
rather than a bag of knobs. AAGUIDs are the documented ones (entra-facts §5, §6); whatever we
could not find documented is named in `assumed`, so a reader knows which fields to distrust.

The built-in profiles are authenticator files (pkconf/authenticators/builtin/, in order),
read by the one loader every file goes through (`pkconf.authenticators.files`); the record type
and its vocabulary are `pkconf.authenticators.model`, re-exported here.
"""

from __future__ import annotations

from .files import BUILTIN_PROFILES
from .model import (
    AUTHENTICATOR_ANDROID,
    AUTHENTICATOR_IOS,
    CHROME_ANDROID,
    CHROME_MACOS,
    CHROME_WINDOWS,
    EDGE_WINDOWS,
    OEM_WEBVIEW,
    SAFARI_IOS,
    SAMSUNG_INTERNET,
    Attachment,
    AttesterSpec,
    Client,
    PasskeyType,
    Platform,
    Profile,
    Quirk,
    Uv,
)

__all__ = [
    "AUTHENTICATOR_ANDROID",
    "AUTHENTICATOR_IOS",
    "CHROME_ANDROID",
    "CHROME_MACOS",
    "CHROME_WINDOWS",
    "EDGE_WINDOWS",
    "GOOGLE_PASSWORD_MANAGER",
    "OEM_WEBVIEW",
    "PROFILES",
    "SAFARI_IOS",
    "SAMSUNG_INTERNET",
    "SAMSUNG_PASS",
    "Attachment",
    "AttesterSpec",
    "Client",
    "PasskeyType",
    "Platform",
    "Profile",
    "Quirk",
    "Uv",
]

# AAGUIDs the browser bridge recognises providers by (entra-facts §6)
GOOGLE_PASSWORD_MANAGER = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
SAMSUNG_PASS = "53414d53-554e-4700-0000-000000000000"

PROFILES: dict[str, Profile] = BUILTIN_PROFILES
