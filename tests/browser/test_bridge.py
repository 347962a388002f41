"""The WebAuthn bridge: what a page gets from the bridged software authenticator, and the
browser's client-side checks and DOMExceptions, in the page and in Python."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fido2.client import ClientError
from fido2.cose import ES256, RS256
from fido2.ctap import CtapError
from fido2.utils import websafe_decode
from playwright.sync_api import Page

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.profiles import PROFILES
from pkconf.ceremonies import bridge
from pkconf.ceremonies.browser import BrowserCase, BrowserSession
from pkconf.ceremonies.ctap import Setup
from pkconf.ceremonies.security_info import SecurityInfoPage
from pkconf.ceremonies.tenant import TenantApi

ORIGIN = "https://mysignins.microsoft.com"
OPTIONS = {  # creation options in WebAuthn's JSON form, as the bridge receives them
    "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
    "user": {"id": "dXNlci0x", "name": "adele@contoso.test", "displayName": "Adele"},
    "challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZQ",
    "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    "authenticatorSelection": {"requireResidentKey": True, "userVerification": "required"},
    "attestation": "direct",
}
# In the page: create() with OPTIONS' values, or `overrides` merged over them.
CREATE = """async (overrides) => {
  const bytes = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const publicKey = {
    rp: {id: "login.microsoft.com", name: "Microsoft"},
    user: {id: bytes("user-1"), name: "adele@contoso.test", displayName: "Adele"},
    challenge: bytes("challenge-challenge"),
    pubKeyCredParams: [{type: "public-key", alg: -7}],
    authenticatorSelection: {requireResidentKey: true, userVerification: "required"},
    attestation: "direct", extensions: {credProps: true}, ...overrides,
  };
  try {
    const c = await navigator.credentials.create({publicKey});
    const r = c.response;
    return {
      credential: c instanceof PublicKeyCredential,
      response: r instanceof AuthenticatorAttestationResponse,
      stringified: JSON.parse(JSON.stringify(c)), json: c.toJSON(),
      rawIdLength: c.rawId.byteLength, attachment: c.authenticatorAttachment,
      transports: r.getTransports(), algorithm: r.getPublicKeyAlgorithm(),
      publicKeyLength: r.getPublicKey().byteLength,
      authenticatorDataLength: r.getAuthenticatorData().byteLength,
      extensions: c.getClientExtensionResults(),
    };
  } catch (e) {
    return {error: e.name, domException: e instanceof DOMException};
  }
}"""


def _page_for(session: BrowserSession, api: TenantApi, setup: Setup, profile: str
              ) -> tuple[BrowserCase, Page]:
    case = session.open_case(PROFILES[profile])
    session.sign_in(case, api.scenario(setup.body())["token"])
    SecurityInfoPage(case.page).open(session.base_url)
    return case, case.page


@pytest.fixture
def key_page(session: BrowserSession, api: TenantApi, setup: Setup
             ) -> Iterator[tuple[BrowserCase, Page]]:
    """Security info with a bridged YubiKey 5 (USB), before anything is added."""
    yield _page_for(session, api, setup, "yubikey-5-usb")


def test_bridged_credential_is_a_public_key_credential_with_the_level_3_getters(
        key_page: tuple[BrowserCase, Page]) -> None:
    case, page = key_page
    got = page.evaluate(CREATE, {})
    assert (got["credential"], got["response"]) == (True, True)
    assert got["stringified"] == got["json"]
    assert set(got["json"]["response"]) == {
        "clientDataJSON", "attestationObject", "transports", "authenticatorData", "publicKey",
        "publicKeyAlgorithm"}
    assert got["json"]["id"] == got["json"]["rawId"]
    assert got["rawIdLength"] == len(websafe_decode(got["json"]["rawId"]))
    assert (got["attachment"], got["transports"]) == ("cross-platform", ["usb"])
    assert (got["algorithm"], got["publicKeyLength"]) == (-7, 91)  # P-256 SubjectPublicKeyInfo
    assert got["extensions"] == {"credProps": {"rk": True}}
    assert case.bridge.calls[-1].origin == ORIGIN


def test_bridged_assertion_answers_get_with_the_discoverable_credential(
        key_page: tuple[BrowserCase, Page]) -> None:
    _, page = key_page
    got = page.evaluate("""async (create) => {
      await (eval(create))({});
      const c = await navigator.credentials.get({publicKey: {
        challenge: new Uint8Array(16), rpId: "login.microsoft.com", userVerification: "required"}});
      return [c instanceof PublicKeyCredential,
              c.response instanceof AuthenticatorAssertionResponse,
              new TextDecoder().decode(c.response.userHandle),
              c.response.signature.byteLength > 0];
    }""", CREATE)
    assert got == [True, True, "user-1", True]


@pytest.mark.parametrize(("overrides", "error"), [
    ({"rp": {"id": "example.com", "name": "Elsewhere"}}, "SecurityError"),
    ({"pubKeyCredParams": [{"type": "public-key", "alg": -257}]}, "NotSupportedError"),
])
def test_page_sees_the_browsers_dom_exception(key_page: tuple[BrowserCase, Page],
                                              overrides: dict[str, Any], error: str) -> None:
    _, page = key_page
    assert page.evaluate(CREATE, overrides) == {"error": error, "domException": True}


def test_excluded_credential_is_an_invalid_state_error_in_the_page(
        key_page: tuple[BrowserCase, Page]) -> None:
    _, page = key_page
    got = page.evaluate("""async (create) => {
      const first = await (eval(create))({});
      const id = Uint8Array.from(atob(first.json.rawId.replace(/-/g, "+").replace(/_/g, "/")),
                                 (c) => c.charCodeAt(0));
      return (eval(create))({excludeCredentials: [{type: "public-key", id}]});
    }""", CREATE)
    assert got == {"error": "InvalidStateError", "domException": True}


def test_an_aborted_signal_rejects_with_its_abort_error_before_the_authenticator_is_asked(
        key_page: tuple[BrowserCase, Page]) -> None:
    case, page = key_page
    got = page.evaluate("""async () => {
      const controller = new AbortController();
      controller.abort();
      try {
        await navigator.credentials.create({signal: controller.signal, publicKey: {
          rp: {name: "x"}, user: {id: new Uint8Array(1), name: "a", displayName: "a"},
          challenge: new Uint8Array(16), pubKeyCredParams: [{type: "public-key", alg: -7}]}});
      } catch (e) { return e.name; }
    }""")
    assert got == "AbortError"
    assert case.bridge.calls == []


@pytest.mark.parametrize(("profile", "available"), [
    ("yubikey-5-usb", False),
    ("windows-hello-hardware", True),
])
def test_platform_authenticator_availability_follows_the_profiles_attachment(
        session: BrowserSession, api: TenantApi, setup: Setup, profile: str,
        available: bool) -> None:
    _, page = _page_for(session, api, setup, profile)
    assert page.evaluate(
        "PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable()") is available


# --- the Python side, without a browser -------------------------------------------------------
@pytest.mark.parametrize(("url", "origin"), [
    ("https://mysignins.microsoft.com/security-info?timeout=3", "https://mysignins.microsoft.com"),
    ("https://login.microsoft.com:443/x", "https://login.microsoft.com"),
    ("http://localhost:8443/security-info", "http://localhost:8443"),
    ("about:blank", None),
    ("data:text/html,hello", None),
])
def test_frame_url_gives_its_serialized_origin(url: str, origin: str | None) -> None:
    assert bridge.origin_of(url) == origin


@pytest.mark.parametrize(("rp_id", "origin"), [
    ("login.microsoft.com", "https://login.microsoft.com"),
    ("login.microsoft.com", "https://mysignins.microsoft.com"),  # Related Origin Request
    ("microsoft.com", "https://mysignins.microsoft.com"),  # registrable suffix
    ("localhost", "http://localhost:8443"),
])
def test_rp_id_valid_for_the_origin_is_accepted(rp_id: str, origin: str) -> None:
    bridge.check_rp_id(rp_id, origin)


@pytest.mark.parametrize(("rp_id", "origin"), [
    ("login.microsoft.com", "https://evil.example"),
    ("login.microsoft.com", "http://mysignins.microsoft.com"),  # not a listed origin
    ("mysignins.microsoft.com", "https://login.microsoft.com"),
    ("com", "https://login.microsoft.com"),  # a public suffix
])
def test_rp_id_not_valid_for_the_origin_is_a_security_error(rp_id: str, origin: str) -> None:
    with pytest.raises(bridge.DomError) as raised:
        bridge.check_rp_id(rp_id, origin)
    assert raised.value.name == "SecurityError"


@pytest.mark.parametrize(("kind", "error", "name"), [
    ("create", ClientError(ClientError.ERR.DEVICE_INELIGIBLE,
                           CtapError(CtapError.ERR.CREDENTIAL_EXCLUDED)), "InvalidStateError"),
    ("get", ClientError(ClientError.ERR.DEVICE_INELIGIBLE,
                        CtapError(CtapError.ERR.NO_CREDENTIALS)), "NotAllowedError"),
    ("create", ClientError(ClientError.ERR.CONFIGURATION_UNSUPPORTED,
                           CtapError(CtapError.ERR.UNSUPPORTED_ALGORITHM)), "NotSupportedError"),
    ("create", ClientError(ClientError.ERR.CONFIGURATION_UNSUPPORTED), "NotAllowedError"),
    ("create", ClientError(ClientError.ERR.TIMEOUT), "NotAllowedError"),
])
def test_client_error_maps_to_the_browsers_dom_exception(kind: str, error: ClientError,
                                                          name: str) -> None:
    assert bridge.dom_error(kind, error).name == name


@pytest.mark.parametrize(("kind", "origin", "options", "name"), [
    ("create", None, OPTIONS, "NotAllowedError"),  # an opaque origin
    ("create", ORIGIN, ["not", "options"], "TypeError"),
    ("create", ORIGIN, {**OPTIONS, "rp": "login.microsoft.com"}, "TypeError"),
    ("create", ORIGIN, {**OPTIONS, "rp": {"id": 7, "name": "x"}}, "TypeError"),
    ("create", ORIGIN, {k: v for k, v in OPTIONS.items() if k != "challenge"}, "TypeError"),
    ("create", ORIGIN, {**OPTIONS, "challenge": 12345}, "TypeError"),
    ("delete", ORIGIN, OPTIONS, "TypeError"),
    ("get", ORIGIN, {"challenge": "AAAA", "rpId": "login.microsoft.com"}, "NotAllowedError"),
])
def test_malformed_or_unanswerable_calls_are_typed_rejections(
        kind: str, origin: str | None, options: Any, name: str) -> None:
    device = SoftwareAuthenticator(PROFILES["yubikey-5-usb"])
    with pytest.raises(bridge.DomError) as raised:
        bridge.Bridge(device).perform(kind, origin, options)
    assert raised.value.name == name


def test_user_verification_the_key_cannot_do_is_not_allowed() -> None:
    device = SoftwareAuthenticator(PROFILES["u2f-only-key"])
    with pytest.raises(bridge.DomError) as raised:
        bridge.Bridge(device).perform("create", ORIGIN, OPTIONS)
    assert raised.value.name == "NotAllowedError"


def test_public_key_is_exported_as_subject_public_key_info() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    rsa2048 = rsa.generate_private_key(65537, 2048).public_key()
    for key, cose in ((p256, ES256), (rsa2048, RS256)):
        expected = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        assert bridge.public_key_spki(cose.from_cryptography_key(key)) == expected
    assert bridge.public_key_spki({1: 2, 3: -35, -1: 2}) is None  # P-384: not one we export
