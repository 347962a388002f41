"""The authenticators the suite registers with, one frozen record each.

A profile says what an authenticator is (AAGUID, attestation, flags, capacity) and where it is
used from (platform, client, user agent), so a test case reads "a YubiKey 5 NFC over iPhone NFC"
rather than a bag of knobs. AAGUIDs are the documented ones (entra-facts §5, §6); whatever we
could not find documented is named in `assumed`, so a reader knows which fields to distrust.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from fido2.cose import ES256, RS256

from ..testpki import VendorPki
from .mds import (
    TEST_COMPROMISED_AAGUID,
    TEST_INELIGIBLE_AAGUID,
    TEST_REVOKED_AAGUID,
    TEST_UNCERTIFIED_AAGUID,
)
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

# --- AAGUIDs (entra-facts §5, §6) ----------------------------------------------------------------
WH_HARDWARE = "08987058-cadc-4b81-b6e1-30de50dcbe96"
WH_VBS = "9ddd1817-af5a-4672-a2b9-3e3dd95000a9"
WH_SOFTWARE = "6028b017-b1d4-4c02-b4b3-afcdafc96bb2"
YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
YUBIKEY_5_NFC = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
YUBIKEY_5_LIGHTNING = "c5ef55ff-ad9a-4b9f-b580-adebafe026d0"
YUBIKEY_5_FIPS_NFC = "c1f9a0bc-1dd2-404a-b27f-8e29047a43fd"
FEITIAN_EPASS_NFC = "ee041bce-25e5-4cdb-8f86-897fd6418464"
TITAN_V2 = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"
APPLE_PASSWORDS = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
AUTHENTICATOR_IOS_AAGUID = "90a3ccdf-635c-4729-a248-9b709135078f"
AUTHENTICATOR_ANDROID_AAGUID = "de1e552d-db1d-4423-a619-566b625cdc84"
GOOGLE_PASSWORD_MANAGER = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
SAMSUNG_PASS = "53414d53-554e-4700-0000-000000000000"
ANDROID_HARDWARE_KEY = "b93fd961-f2e6-462f-b122-82002247de78"  # vectors: Pixel 8a android-key
ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"
# Test-only ("7e57" reads "test"), like mds.py's TEST_*_AAGUIDs, but listed in no metadata:
# mds.records() leaves it out on purpose.
TEST_UNLISTED_AAGUID = "7e57aa00-0000-4000-8000-000000000004"

SECURITY_KEY_EXTENSIONS = ("credProtect", "hmac-secret")
NONE = AttesterSpec("none")


def _windows(name: str, description: str, aaguid: str, assumed: frozenset[str]) -> Profile:
    """Windows Hello: TPM attestation, RS256 first, platform, device-bound (entra-facts §5)."""
    return Profile(
        name=name, description=description, platform=Platform.WINDOWS, aaguid=aaguid,
        attestation=AttesterSpec("tpm", "microsoft-tpm"), transports=("internal",),
        attachment=Attachment.PLATFORM, backup_eligible=False, backup_state=False, uv=Uv.BUILT_IN,
        rk_capacity=50, algorithms=(RS256.ALGORITHM, ES256.ALGORITHM),
        extensions=SECURITY_KEY_EXTENSIONS, client=EDGE_WINDOWS,
        quirks=frozenset({Quirk.DEVICE_ALGORITHM_ORDER}),
        assumed=frozenset({"rk_capacity", "extensions", "quirks"}) | assumed,
    )


def _synced(name: str, description: str, platform: Platform, aaguid: str, client: Client,
            *, transports: tuple[str, ...] = ("internal", "hybrid"),
            attachment: Attachment = Attachment.PLATFORM, backup_state: bool = True,
            attestation: AttesterSpec = NONE, quirks: frozenset[Quirk] = frozenset(),
            assumed: frozenset[str] = frozenset()) -> Profile:
    """A synced passkey provider: BE set, no attestation ("synced passkeys do not support it")."""
    return Profile(
        name=name, description=description, platform=platform, aaguid=aaguid,
        attestation=attestation, transports=transports, attachment=attachment,
        backup_eligible=True, backup_state=backup_state, uv=Uv.BUILT_IN, rk_capacity=1000,
        algorithms=(ES256.ALGORITHM,), extensions=(), client=client, quirks=quirks,
        assumed=frozenset({"rk_capacity", "transports"}) | assumed,
    )


def _key(name: str, description: str, platform: Platform, aaguid: str, vendor: str,
         client: Client, *, transports: tuple[str, ...], rk_capacity: int = 25,
         quirks: frozenset[Quirk] = frozenset(), assumed: frozenset[str] = frozenset()
         ) -> Profile:
    """A FIDO2 security key: packed full attestation, client PIN, device-bound."""
    return Profile(
        name=name, description=description, platform=platform, aaguid=aaguid,
        attestation=AttesterSpec("packed", vendor), transports=transports,
        attachment=Attachment.CROSS_PLATFORM, backup_eligible=False, backup_state=False,
        uv=Uv.PIN, rk_capacity=rk_capacity, algorithms=(ES256.ALGORITHM,),
        extensions=SECURITY_KEY_EXTENSIONS, client=client, quirks=quirks,
        assumed=frozenset({"rk_capacity"}) | assumed,
    )


def _oem(name: str, description: str, quirk: Quirk, *,
         transports: tuple[str, ...] = ("internal", "hybrid"), backup_state: bool = True
         ) -> Profile:
    """An Android OEM provider that deviates from Google Password Manager in one quirk."""
    return _synced(name, description, Platform.ANDROID, GOOGLE_PASSWORD_MANAGER, OEM_WEBVIEW,
                   transports=transports, backup_state=backup_state, quirks=frozenset({quirk}),
                   assumed=frozenset({"aaguid", "client"}))


PIXEL_ANDROID_KEY = Profile(
    name="pixel-android-key",
    description="Pixel hardware-backed (TEE) credential with android-key attestation",
    platform=Platform.ANDROID, aaguid=ANDROID_HARDWARE_KEY,
    attestation=AttesterSpec("android-key", "android-key-google"), transports=("internal",),
    attachment=Attachment.PLATFORM, backup_eligible=False, backup_state=False,
    uv=Uv.BUILT_IN, rk_capacity=1000, algorithms=(ES256.ALGORITHM,), extensions=(),
    client=CHROME_ANDROID, assumed=frozenset({"rk_capacity"}),
)

MICROSOFT_AUTHENTICATOR_IOS = Profile(
    name="microsoft-authenticator-ios",
    description="Microsoft Authenticator for iOS, attested device-bound passkey",
    platform=Platform.IPHONE, aaguid=AUTHENTICATOR_IOS_AAGUID,
    attestation=AttesterSpec("packed", "microsoft-authenticator"), transports=("internal",),
    attachment=Attachment.PLATFORM, backup_eligible=False, backup_state=False,
    uv=Uv.BUILT_IN, rk_capacity=1000, algorithms=(ES256.ALGORITHM,), extensions=(),
    client=AUTHENTICATOR_IOS,
    # entra-facts §4: App Attest backs it; the WebAuthn fmt it sends is [NOT FOUND]
    assumed=frozenset({"attestation", "transports", "rk_capacity"}),
)
YUBIKEY_5_USB = _key("yubikey-5-usb", "YubiKey 5 series over USB (Chrome on Windows)",
                     Platform.DESKTOP, YUBIKEY_5, "yubico", CHROME_WINDOWS, transports=("usb",))


def _test_key(name: str, description: str, aaguid: str, vendor: str) -> Profile:
    """A TEST ONLY security key: exists to reach one metadata rule, models no real product."""
    return replace(_key(name, f"TEST ONLY: {description}", Platform.DESKTOP, aaguid, vendor,
                        CHROME_WINDOWS, transports=("usb",)), test_only=True)


def _broken_yubikey(suffix: str, defect: Defect, what: str) -> Profile:
    """yubikey-5-usb with one deliberate attestation defect, so a case differs in that only."""
    return replace(YUBIKEY_5_USB, name=f"yubikey-5-usb-{suffix}",
                   description=f"TEST ONLY: deliberately broken variant of yubikey-5-usb: {what}",
                   attestation=replace(YUBIKEY_5_USB.attestation, defect=defect),
                   test_only=True)


_ALL = (
    # Windows Hello (entra-facts §5): three AAGUIDs, all TPM-backed, platform, device-bound.
    _windows("windows-hello-hardware", "Windows Hello Hardware Authenticator (TPM)", WH_HARDWARE,
             frozenset()),
    _windows("windows-hello-vbs", "Windows Hello VBS Hardware Authenticator", WH_VBS,
             frozenset()),
    _windows("windows-hello-software", "Windows Hello Software Authenticator (software TPM)",
             WH_SOFTWARE, frozenset({"attestation"})),
    # iPhone-hosted: external keys through iOS, the phone as a hybrid authenticator, Apple
    # Passwords, Microsoft Authenticator.
    _key("yubikey-5-nfc-iphone", "YubiKey 5 NFC tapped on an iPhone (Safari)", Platform.IPHONE,
         YUBIKEY_5_NFC, "yubico", SAFARI_IOS, transports=("nfc", "usb")),
    _key("yubikey-5ci-iphone", "YubiKey 5Ci over the iPhone Lightning port (Safari)",
         Platform.IPHONE, YUBIKEY_5_LIGHTNING, "yubico", SAFARI_IOS, transports=("usb",),
         assumed=frozenset({"transports"})),
    _synced("iphone-hybrid", "iPhone as a cross-device (hybrid) authenticator for desktop Chrome",
            Platform.IPHONE, APPLE_PASSWORDS, CHROME_WINDOWS, transports=("hybrid", "internal"),
            attachment=Attachment.CROSS_PLATFORM),
    _synced("apple-passwords", "Apple Passwords synced passkey (Safari on iPhone)",
            Platform.IPHONE, APPLE_PASSWORDS, SAFARI_IOS),
    MICROSOFT_AUTHENTICATOR_IOS,
    # Android: synced providers, a hardware-backed key, Authenticator, OEM quirks.
    _synced("google-password-manager", "Google Password Manager synced passkey (Chrome)",
            Platform.ANDROID, GOOGLE_PASSWORD_MANAGER, CHROME_ANDROID),
    _synced("samsung-pass", "Samsung Pass synced passkey (Samsung Internet)", Platform.ANDROID,
            SAMSUNG_PASS, SAMSUNG_INTERNET),
    PIXEL_ANDROID_KEY,
    Profile(
        name="microsoft-authenticator-android",
        description="Microsoft Authenticator for Android, attested device-bound passkey",
        platform=Platform.ANDROID, aaguid=AUTHENTICATOR_ANDROID_AAGUID,
        attestation=AttesterSpec("packed", "microsoft-authenticator"), transports=("internal",),
        attachment=Attachment.PLATFORM, backup_eligible=False, backup_state=False,
        uv=Uv.BUILT_IN, rk_capacity=1000, algorithms=(ES256.ALGORITHM,), extensions=(),
        client=AUTHENTICATOR_ANDROID,
        # entra-facts §4: Play Integrity plus Android key attestation, yet the WebAuthn fmt is
        # [NOT FOUND]. Attested Authenticator passkeys satisfy enforced profiles (entra-facts §2,
        # the rollout pair), which only packed with an MDS chain does: assume packed, as on iOS.
        assumed=frozenset({"attestation", "transports", "rk_capacity"}),
    ),
    _oem("android-oem-no-transports", "OEM provider whose client reports no transports",
         Quirk.NO_TRANSPORTS, transports=()),
    _oem("android-oem-be-without-bs", "OEM provider: backup eligible but not backed up",
         Quirk.BE_WITHOUT_BS, backup_state=False),
    replace(PIXEL_ANDROID_KEY, name="android-oem-attestation-downgraded",
            description="OEM hardware key answering fmt none although direct was requested",
            attestation=NONE, client=OEM_WEBVIEW,
            quirks=frozenset({Quirk.ATTESTATION_DOWNGRADED}),
            assumed=PIXEL_ANDROID_KEY.assumed | {"client"}),
    _oem("android-oem-no-credprops", "OEM provider whose client omits the credProps output",
         Quirk.NO_CRED_PROPS),
    # Desktop security keys.
    YUBIKEY_5_USB,
    _key("yubikey-5-fips", "YubiKey 5 FIPS series with NFC in FIPS mode (always UV)",
         Platform.DESKTOP, YUBIKEY_5_FIPS_NFC, "yubico-fips", CHROME_WINDOWS,
         transports=("nfc", "usb"), quirks=frozenset({Quirk.ALWAYS_UV})),
    _key("feitian-epass-nfc", "Feitian ePass FIDO2-NFC (Chrome on macOS)", Platform.DESKTOP,
         FEITIAN_EPASS_NFC, "feitian", CHROME_MACOS, transports=("nfc", "usb"),
         rk_capacity=50),
    _key("google-titan-v2", "Google Titan Security Key v2", Platform.DESKTOP, TITAN_V2,
         "google-titan", CHROME_WINDOWS, transports=("nfc", "usb"), rk_capacity=250),
    Profile(
        name="u2f-only-key",
        description="Legacy FIDO U2F key: CTAP1 only, no user verification, no resident keys",
        platform=Platform.DESKTOP, aaguid=ZERO_AAGUID,
        attestation=AttesterSpec("fido-u2f", "google-titan"), transports=("usb",),
        attachment=Attachment.CROSS_PLATFORM, backup_eligible=False, backup_state=False,
        uv=Uv.NONE, rk_capacity=0, algorithms=(ES256.ALGORITHM,), extensions=(),
        client=CHROME_WINDOWS, quirks=frozenset({Quirk.U2F_ONLY}),
        assumed=frozenset({"attestation"}),
    ),
    # Spoofers: software keys claiming an allow-listed AAGUID.
    Profile(
        name="spoofer-unattested",
        description="Software key claiming the YubiKey 5 NFC AAGUID, attestation none",
        platform=Platform.DESKTOP, aaguid=YUBIKEY_5_NFC, attestation=NONE,
        transports=("usb",), attachment=Attachment.CROSS_PLATFORM, backup_eligible=False,
        backup_state=False, uv=Uv.BUILT_IN, rk_capacity=1000, algorithms=(ES256.ALGORITHM,),
        extensions=SECURITY_KEY_EXTENSIONS, client=CHROME_WINDOWS,
    ),
    Profile(
        name="spoofer-self-signed-packed",
        description="Software key claiming the YubiKey 5 NFC AAGUID, self-signed packed chain",
        platform=Platform.DESKTOP, aaguid=YUBIKEY_5_NFC,
        attestation=AttesterSpec("packed", "self-signed-spoofer"), transports=("usb",),
        attachment=Attachment.CROSS_PLATFORM, backup_eligible=False, backup_state=False,
        uv=Uv.BUILT_IN, rk_capacity=1000, algorithms=(ES256.ALGORITHM,),
        extensions=SECURITY_KEY_EXTENSIONS, client=CHROME_WINDOWS,
    ),
    # Microsoft Authenticator away from its app: the phone as a hybrid authenticator, which
    # entra-facts §4 bars for attested passkeys ("Cross-device registration flows don't
    # support registration of attested passkeys").
    replace(MICROSOFT_AUTHENTICATOR_IOS, name="microsoft-authenticator-ios-cross-device",
            description="Microsoft Authenticator for iOS as a cross-device (hybrid) "
                        "authenticator for desktop Chrome",
            transports=("hybrid", "internal"), attachment=Attachment.CROSS_PLATFORM,
            client=CHROME_WINDOWS),
    # TEST ONLY keys for the metadata rules: the test MDS BLOB's revoked, compromised,
    # ineligible and uncertified models (pkconf.authenticators.mds), and a model it does not list.
    _test_key("test-revoked-key", "a model whose test MDS status report is REVOKED",
              TEST_REVOKED_AAGUID, "test-revoked"),
    _test_key("test-compromised-key", "a model whose test MDS status reports its batch "
              "attestation key as compromised (ATTESTATION_KEY_COMPROMISE)",
              TEST_COMPROMISED_AAGUID, "test-compromised"),
    # its metadata states credProtect only, and the key answers as its metadata says
    replace(_test_key("test-ineligible-key", "a model whose test MDS statement lacks "
                      "hmac-secret and prf", TEST_INELIGIBLE_AAGUID, "test-ineligible"),
            extensions=("credProtect",)),
    _test_key("test-uncertified-key", "a model whose test MDS status reports show no FIDO "
              "certification (NOT_FIDO_CERTIFIED)", TEST_UNCERTIFIED_AAGUID, "test-uncertified"),
    _test_key("test-unlisted-key", "a Yubico-like key (test AAGUID, chain to the listed "
              "Yubico-like root) of a model the test MDS BLOB does not list, as a new model "
              "is before Microsoft ingests its metadata", TEST_UNLISTED_AAGUID, "yubico"),
    # TEST ONLY variants of yubikey-5-usb, each with one attestation defect.
    _broken_yubikey("expired-attestation", Defect.EXPIRED_LEAF,
                    "its batch attestation certificate expired in 2021"),
    _broken_yubikey("root-in-x5c", Defect.ROOT_INCLUDED,
                    "its x5c ends with the trust anchor itself"),
    _broken_yubikey("misordered-x5c", Defect.WRONG_ORDER,
                    "its x5c lists the issuing CA first and the attestation certificate last"),
    _broken_yubikey("aaguid-mismatch", Defect.AAGUID_MISMATCH,
                    "its attestation certificate names another AAGUID than authData"),
    _broken_yubikey("bad-attestation-signature", Defect.BAD_SIGNATURE,
                    "its attestation signature is over other bytes"),
)

PROFILES: dict[str, Profile] = {p.name: p for p in _ALL}
