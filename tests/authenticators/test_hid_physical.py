"""The physical-key path, exercised through the virtual HID key: a person is prompted to touch
the key, the PIN comes from PKCONF_PIN (or a prompt), and getInfo is described."""

from __future__ import annotations

import io

import pytest
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.hid import virtual_key
from pkconf.authenticators.physical import ConsoleInteraction, describe
from pkconf.authenticators.profiles import PROFILES
from pkconf.authenticators.statements.none import NoneAttester
from pkconf.ceremonies.physical import register_with_key

ORIGIN = "https://login.microsoft.com"
RP = PublicKeyCredentialRpEntity(id="login.microsoft.com", name="Microsoft")
USER = PublicKeyCredentialUserEntity(id=b"user-1", name="adele@contoso.com")


def _key(name: str, pin: str = "271828"):
    return virtual_key(SoftwareAuthenticator(PROFILES[name], NoneAttester(), pin=pin))


def _refuse_prompt(prompt: str) -> str:
    raise AssertionError(f"prompted although PKCONF_PIN is set: {prompt}")


def test_registration_prompts_for_a_touch_and_takes_the_pin_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PKCONF_PIN", "8642")
    out = io.StringIO()
    options, _ = Fido2Server(RP).register_begin(USER, resident_key_requirement="required",
                                                 user_verification="required")
    response = register_with_key(_key("yubikey-5-usb", pin="8642"), options.public_key, ORIGIN,
                                 interaction=ConsoleInteraction(out=out, ask=_refuse_prompt))
    assert response.response.attestation_object.auth_data.is_user_verified()
    assert "Touch your security key now." in out.getvalue()


def test_without_pkconf_pin_the_person_is_asked_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PKCONF_PIN", raising=False)
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "1357"

    options, _ = Fido2Server(RP).register_begin(USER, user_verification="required")
    register_with_key(_key("google-titan-v2", pin="1357"), options.public_key, ORIGIN,
                      interaction=ConsoleInteraction(out=io.StringIO(), ask=ask))
    assert asked == ["PIN of your security key: "]


def test_ctap2_key_is_described_from_its_get_info() -> None:
    described = describe(_key("feitian-epass-nfc"))
    assert described.aaguid == "ee041bce-25e5-4cdb-8f86-897fd6418464"
    assert described.versions == ("FIDO_2_0", "FIDO_2_1")
    assert described.transports == ("nfc", "usb")
    assert described.options["clientPin"] is True
    assert described.path == "virtual:feitian-epass-nfc"


def test_u2f_only_key_is_described_as_u2f() -> None:
    described = describe(virtual_key(SoftwareAuthenticator(PROFILES["u2f-only-key"])))
    assert (described.aaguid, described.versions) == \
        ("00000000-0000-0000-0000-000000000000", ("U2F_V2",))
