"""What a profile is: the record every authenticator loads into, and the vocabulary it uses.

`Profile` says what an authenticator is (AAGUID, attestation, flags, capacity) and where it is
used from (platform, client, user agent). The records themselves are files (authenticator files,
docs/authenticator-file.md), the built-in ones included: `pkconf.authenticators.profiles`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..testpki import VendorPki
from .statements import Defect


class Platform(StrEnum):
    """The platform family a profile is reported under."""

    WINDOWS = "windows"
    IPHONE = "iphone"
    ANDROID = "android"
    DESKTOP = "desktop"


class PasskeyType(StrEnum):
    """Synced (backed up to a provider) or bound to one device, in Graph's spelling."""

    DEVICE_BOUND = "deviceBound"
    SYNCED = "synced"


class Attachment(StrEnum):
    PLATFORM = "platform"
    CROSS_PLATFORM = "cross-platform"


class Uv(StrEnum):
    """How the authenticator verifies the user: this decides its getInfo options."""

    BUILT_IN = "built-in"  # biometric or device passcode: getInfo option `uv`
    PIN = "pin"  # client PIN only: getInfo option `clientPin`
    NONE = "none"  # no user verification at all


class Quirk(StrEnum):
    """Behaviours that differ from what the WebAuthn/CTAP specs lead one to expect."""

    NO_TRANSPORTS = "no-transports"  # the client reports no transports for the credential
    BE_WITHOUT_BS = "be-without-bs"  # backup eligible, but not (yet) backed up
    ATTESTATION_DOWNGRADED = "attestation-downgraded"  # fmt none although direct was requested
    NO_CRED_PROPS = "no-cred-props"  # the client drops the credProps output
    DEVICE_ALGORITHM_ORDER = "device-algorithm-order"  # picks its own preferred alg, not the RP's
    ALWAYS_UV = "always-uv"  # getInfo alwaysUv: UV on every operation (FIPS mode)
    U2F_ONLY = "u2f-only"  # speaks CTAP1/U2F only, no CTAP2


@dataclass(frozen=True)
class AttesterSpec:
    """Which attester signs the statement: a format, the test-PKI vendor of its chain, and
    for a deliberately broken test variant, the one mistake it makes."""

    fmt: str  # none | packed | tpm | android-key | apple | fido-u2f
    # a key of pkconf.testpki.VENDORS, or an authenticator file's own hierarchy; None: self/none
    vendor: str | VendorPki | None = None
    defect: Defect | None = None  # None: a sound statement


@dataclass(frozen=True)
class Client:
    """The browser or OS client the authenticator is used from."""

    name: str
    user_agent: str


@dataclass(frozen=True)
class Profile:
    """One authenticator as Entra would see it registering."""

    name: str
    description: str
    platform: Platform
    aaguid: str
    attestation: AttesterSpec
    transports: tuple[str, ...]
    attachment: Attachment
    backup_eligible: bool
    backup_state: bool
    uv: Uv
    rk_capacity: int
    algorithms: tuple[int, ...]  # device preference order
    extensions: tuple[str, ...]  # CTAP extensions answered at MakeCredential
    client: Client
    quirks: frozenset[Quirk] = frozenset()
    assumed: frozenset[str] = frozenset()  # field names that are our assumption
    test_only: bool = False  # exists to reach one rule (a TEST ONLY key or a broken variant)
    versions: tuple[str, ...] = ("FIDO_2_0", "FIDO_2_1")  # getInfo versions

    @property
    def passkey_type(self) -> PasskeyType:
        """What the credential is: synced when backup eligible (BE), else device-bound."""
        return PasskeyType.SYNCED if self.backup_eligible else PasskeyType.DEVICE_BOUND


# --- Clients -------------------------------------------------------------------------------------
EDGE_WINDOWS = Client(
    "Edge 140 on Windows 11",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0",
)
CHROME_WINDOWS = Client(
    "Chrome 140 on Windows 11",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0.0.0 Safari/537.36",
)
SAFARI_IOS = Client(
    "Safari on iOS 18",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
)
AUTHENTICATOR_IOS = Client(
    "Microsoft Authenticator on iOS 18",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 PKeyAuth/1.0",
)
CHROME_ANDROID = Client(
    "Chrome 140 on Android 15",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8a) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0.0.0 Mobile Safari/537.36",
)
SAMSUNG_INTERNET = Client(
    "Samsung Internet 28 on Android 15",
    "Mozilla/5.0 (Linux; Android 15; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
)
OEM_WEBVIEW = Client(
    "OEM browser (Chromium fork) on Android 14",
    "Mozilla/5.0 (Linux; Android 14; OEM-X1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36 OEMBrowser/12.0",
)
AUTHENTICATOR_ANDROID = Client(
    "Microsoft Authenticator on Android 15",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8a) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0.0.0 Mobile Safari/537.36 PKeyAuth/1.0",
)
CHROME_MACOS = Client(
    "Chrome 140 on macOS 15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0.0.0 Safari/537.36",
)
