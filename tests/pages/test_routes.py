"""The page routes over HTTPS: sign-in steps, the session cookie, step-up, the origins file."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fido2.utils import websafe_decode, websafe_encode

from pkconf.ceremonies import browser
from pkconf.emulator import pages
from pkconf.emulator.server import EmulatorServer
from tests.tenant.builders import make_response

from .helpers import FORM, case_user

TOKEN_META = re.compile(r'<meta name="pkconf-session" content="([^"]+)">')


def _form_post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    return client.post(path, data=fields)


def test_the_rp_id_lists_mysignins_as_a_related_origin(client: httpx.Client) -> None:
    r = client.get("/.well-known/webauthn")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"origins": ["https://mysignins.microsoft.com"]}


def test_security_info_without_a_session_redirects_to_sign_in(client: httpx.Client) -> None:
    r = client.get("/security-info")
    assert r.status_code == 303
    assert r.headers["location"] == "/signin"


def test_sign_in_page_asks_for_the_username(client: httpx.Client) -> None:
    r = client.get("/signin")
    assert r.status_code == 200
    assert "<h1>Sign in</h1>" in r.text
    assert '<label for="username">Email or username</label>' in r.text
    assert r.headers["x-frame-options"] == "DENY"


def test_password_then_mfa_approval_signs_in_with_a_secure_httponly_cookie(
        client: httpx.Client) -> None:
    user = case_user(client)
    step = _form_post(client, "/signin", username=user.upn)
    assert step.status_code == 200
    assert '<label for="password">Password</label>' in step.text
    mfa = _form_post(client, "/signin/password", username=user.upn, password="anything")
    assert "<h1>Approve sign in request</h1>" in mfa.text
    done = _form_post(client, "/signin/mfa", username=user.upn)
    assert done.status_code == 303
    assert done.headers["location"] == "/security-info"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("pkconf_session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert attribute in cookie


def test_the_signed_in_page_carries_a_token_that_graph_me_accepts(client: httpx.Client) -> None:
    user = case_user(client)
    _form_post(client, "/signin/mfa", username=user.upn)
    page = client.get("/security-info")
    assert page.status_code == 200
    assert "<h1>Security info</h1>" in page.text
    match = TOKEN_META.search(page.text)
    assert match is not None
    r = client.get("/v1.0/me/authentication/fido2Methods/creationOptions",
                   headers={"Authorization": f"Bearer {match.group(1)}"})
    assert r.status_code == 200
    assert r.json()["publicKey"]["user"]["name"] == user.upn


@pytest.mark.parametrize("spelling", ["upper-case UPN", "object id"])
def test_the_username_may_be_the_upn_in_any_case_or_the_object_id(
        client: httpx.Client, spelling: str) -> None:
    user = case_user(client)
    username = user.upn.upper() if spelling == "upper-case UPN" else user.user_id
    r = _form_post(client, "/signin", username=username)
    assert r.status_code == 200
    assert f'<input type="hidden" name="username" value="{user.upn}">' in r.text


@pytest.mark.parametrize("path", ["/signin", "/signin/password", "/signin/mfa", "/signin/tap"])
def test_an_unknown_username_is_answered_with_an_alert(client: httpx.Client, path: str) -> None:
    r = _form_post(client, path, username="nobody@contoso.test")
    assert r.status_code == 404
    assert ('<p class="alert" role="alert">We couldn&#x27;t find an account with that '
            'username.</p>') in r.text
    assert "set-cookie" not in r.headers


def _tap(client: httpx.Client, user_id: str, **body: object) -> str:
    r = client.post(f"/v1.0/users/{user_id}/authentication/temporaryAccessPassMethods",
                    json=body)
    assert r.status_code == 201, r.text
    return r.json()["temporaryAccessPass"]


def test_a_valid_temporary_access_pass_signs_in(client: httpx.Client) -> None:
    user = case_user(client)
    link = _form_post(client, "/signin", username=user.upn)
    assert "Use a Temporary Access Pass" in link.text
    form = client.get("/signin/tap", params={"username": user.upn})
    assert '<label for="tap">Temporary Access Pass</label>' in form.text
    done = _form_post(client, "/signin/tap", username=user.upn,
                      temporaryAccessPass=_tap(client, user.user_id))
    assert done.status_code == 303
    assert client.get("/security-info").status_code == 200


@pytest.mark.parametrize(("attempt", "message"), [
    ("wrong", "The Temporary Access Pass is not valid for this user."),
    ("", "TemporaryAccessPass must not be empty."),
])
def test_a_bad_temporary_access_pass_is_refused_with_an_alert(
        client: httpx.Client, attempt: str, message: str) -> None:
    user = case_user(client)
    _tap(client, user.user_id)
    r = _form_post(client, "/signin/tap", username=user.upn, temporaryAccessPass=attempt)
    assert r.status_code in (400, 401)
    assert f'<p class="alert" role="alert">{message}</p>' in r.text
    assert "set-cookie" not in r.headers


def test_a_one_time_pass_signs_in_only_once(client: httpx.Client) -> None:
    user = case_user(client)
    secret = _tap(client, user.user_id, isUsableOnce=True)
    assert _form_post(client, "/signin/tap", username=user.upn,
                      temporaryAccessPass=secret).status_code == 303
    again = _form_post(client, "/signin/tap", username=user.upn, temporaryAccessPass=secret)
    assert again.status_code == 401
    assert "not usable: OneTimeUsed" in again.text


def test_security_info_lists_the_passkeys_but_not_windows_hello_for_business(
        client: httpx.Client) -> None:
    user = case_user(client, user={"mfaAgeSeconds": 0, "windowsHelloForBusiness": True})
    for number, name in enumerate(("Passkey in Windows Hello", "<script>alert(1)</script>")):
        seeded = client.post(f"/_emulator/users/{user.user_id}/credentials",
                             json={"credentialId": websafe_encode(bytes([number + 1]) * 16),
                                   "displayName": name})
        assert seeded.status_code == 201, seeded.text
    client.cookies.set("pkconf_session", user.token or "")
    page = client.get("/security-info").text
    assert re.findall(r"<li>(.*?)</li>", page) == [
        "Passkey in Windows Hello", "&lt;script&gt;alert(1)&lt;/script&gt;"]


@pytest.mark.parametrize(("state", "required"), [
    ({"mfaAgeSeconds": 0}, False),
    ({"mfaAgeSeconds": 300}, False),
    ({"mfaAgeSeconds": 301}, True),
    ({}, True),  # a password sign-in
    ({"tap": {"isUsableOnce": False, "ageSeconds": 3600}}, False),
])
def test_step_up_is_required_when_mfa_is_over_five_minutes_old_or_missing(
        client: httpx.Client, state: dict, required: bool) -> None:
    user = case_user(client, user=state)
    client.cookies.set("pkconf_session", user.token or "")
    assert client.get("/security-info/step-up").json() == {"required": required}
    served = "required" if required else "not-required"
    assert f'<meta name="pkconf-step-up" content="{served}">' in client.get("/security-info").text


def test_step_up_approval_gives_a_fresh_mfa_session(client: httpx.Client) -> None:
    user = case_user(client, user={"mfaAgeSeconds": 600})
    client.cookies.set("pkconf_session", user.token or "")
    r = client.post("/security-info/step-up")
    assert r.status_code == 200
    token = r.json()["token"]
    assert token != user.token
    assert r.cookies["pkconf_session"] == token
    assert client.get("/security-info/step-up").json() == {"required": False}


@pytest.mark.parametrize("http_method", ["GET", "POST"])
def test_step_up_without_a_session_is_unauthenticated(client: httpx.Client,
                                                      http_method: str) -> None:
    r = client.request(http_method, "/security-info/step-up")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(("content_type", "body", "status"), [
    ("application/json", b'{"username": "x"}', 415),
    (FORM["content-type"], b"username=" + b"a" * 5000, 413),
    (FORM["content-type"], "username=é".encode(), 400),
    (FORM["content-type"], b"username=%ff%fe", 400),
    (FORM["content-type"], b"&".join(b"f%d=1" % i for i in range(20)), 400),
])
def test_a_malformed_sign_in_form_is_a_clean_graph_error(
        client: httpx.Client, content_type: str, body: bytes, status: int) -> None:
    r = client.post("/signin", content=body, headers={"content-type": content_type})
    assert r.status_code == status
    assert r.json()["error"]["code"] == "invalidRequest"


def test_the_page_script_is_served(client: httpx.Client) -> None:
    r = client.get("/security-info/assets/security-info.js")
    assert r.status_code == 200
    assert "navigator.credentials.create" in r.text


@pytest.fixture(scope="module")
def localhost() -> Iterator[EmulatorServer]:
    with EmulatorServer(rp_id="localhost") as server:
        yield server


def test_localhost_fallback_uses_rp_id_localhost_and_its_own_http_origin(
        localhost: EmulatorServer) -> None:
    origin = f"http://localhost:{localhost.port}"
    with httpx.Client(base_url=localhost.base_url) as client:
        assert client.get("/.well-known/webauthn").json() == {"origins": [origin]}
        user = case_user(client, user={"mfaAgeSeconds": 0})
        bearer = {"Authorization": f"Bearer {user.token}"}
        options = client.get("/v1.0/me/authentication/fido2Methods/creationOptions",
                             headers=bearer).json()["publicKey"]
        assert options["rp"] == {"id": "localhost", "name": "Microsoft"}
        credential = make_response(rp_id="localhost", origin=origin,
                                   challenge=websafe_decode(options["challenge"]))
        r = client.post("/v1.0/me/authentication/fido2Methods", headers=bearer,
                        json={"publicKeyCredential": credential})
        assert r.status_code == 201, r.text


def test_localhost_fallback_sets_the_cookie_without_secure(localhost: EmulatorServer) -> None:
    with httpx.Client(base_url=localhost.base_url) as client:
        user = case_user(client)
        r = client.post("/signin/mfa", data={"username": user.upn})
        assert r.status_code == 303
        assert "Secure" not in r.headers["set-cookie"]
        assert "HttpOnly" in r.headers["set-cookie"]


def test_the_ceremony_and_the_pages_name_the_same_session_cookie() -> None:
    """The page contract: the browser ceremony sets the cookie the pages read."""
    assert browser.SESSION_COOKIE == pages.SESSION_COOKIE
