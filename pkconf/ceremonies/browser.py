"""The browser ceremony: Chromium, driven by Playwright, adds a passkey on Security info.

What the CTAP ceremony does with python-fido2 alone, this one does through a real browser and
the emulator's own page (the page contract, `docs/page-contract.md`): Chromium resolves
Entra's host names to the emulator (host rules), trusts its test certificate (SPKI pin), does
the Related Origin Request for `login.microsoft.com`, and builds clientDataJSON itself. The
authenticator is either the profile's software authenticator bridged into the page
(`bridge.py`: AAGUID, attestation and BE/BS as the profile says) or Chromium's own virtual
authenticator (CDP WebAuthn domain: Chromium's attestation, AAGUID erasure and limits).

The decision is read from the page (`window.pkconfLastDecision`) and checked against the Graph
answer the page received: a page that announces something the tenant did not say is an error of
the ceremony, never a decision.

Speed: a browser per worker, and by default a context and page reused by every case that fits
in it (same authenticator kind, attestation override, platform flag and client; see
`BrowserSession.open_case`). Each case still starts clean: a new authenticator, the new user's
session cookie, and the page started over in place (no navigation) with the previous attempt
dropped. `PKCONF_BROWSER_REUSE=0` (or `BrowserSession(reuse=False)`) opens a context per case.
A case starts at the page's registration step, its dialogs' answers given, in one Playwright
call (`SecurityInfoPage.register`); `walk=True` clicks through the dialogs as a user does, for
the cases about the page itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from fido2.utils import websafe_decode
from playwright.sync_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Page,
    Playwright,
    Request,
    Response,
    Route,
)

from ..authenticators.device import SoftwareAuthenticator
from ..authenticators.profiles import (
    GOOGLE_PASSWORD_MANAGER,
    OEM_WEBVIEW,
    SAMSUNG_INTERNET,
    SAMSUNG_PASS,
    Attachment,
    Profile,
    Quirk,
    Uv,
)
from ..hosts import HOSTS, PAGES_ORIGIN
from ..tenant.decision import DecisionFormatError
from ..tenant.rules import CHALLENGE_TIMEOUT_MINUTES
from . import bridge
from .chromium import launch_args, require_chromium, shared_playwright
from .ctap import Setup
from .result import CeremonyResult, ClientError, announced
from .security_info import Outcome, OutcomeKind, Place, SecurityInfoPage
from .tenant import TenantApi, decision_of

SESSION_COOKIE = "pkconf_session"  # the page contract (docs/page-contract.md): the sign-in cookie
AUTHENTICATORS = ("bridge", "cdp")
VARIATIONS = ("expired-challenge", "reused-challenge")  # ctap.py's tamper-* are CTAP-only
OUTCOME_MARGIN_MS = 10_000  # beyond the WebAuthn timeout, for the POST and the announcement
DEFAULT_TIMEOUT_MS = CHALLENGE_TIMEOUT_MINUTES * 60 * 1000  # the page's, from creationOptions
REUSE_ENV = "PKCONF_BROWSER_REUSE"
POOL_SIZE = 8  # contexts a session keeps open for later cases (a renderer each, ~40 MB)
_OPTIONS_PATH = "/me/authentication/fido2Methods/creationOptions"
_METHODS_PATH = "/me/authentication/fido2Methods"

# Mobile clients get a phone's viewport (CSS pixels, as the devices report them).
_IPHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
           "is_mobile": True, "has_touch": True}
_ANDROID = {"viewport": {"width": 412, "height": 915}, "device_scale_factor": 2.625,
            "is_mobile": True, "has_touch": True}
# Android OEM browsers show a provider chooser before the WebAuthn call.
_OEM_CLIENTS = (SAMSUNG_INTERNET, OEM_WEBVIEW)
_PROVIDERS = {SAMSUNG_PASS: "Samsung Pass", GOOGLE_PASSWORD_MANAGER: "Google Password Manager"}


class BrowserCeremonyError(RuntimeError):
    """The browser or the page did something the ceremony cannot turn into a decision."""


def context_options(profile: Profile) -> dict[str, Any]:
    """Playwright context options for the profile's client: its user agent, and a phone's
    viewport when the client runs on one."""
    agent = profile.client.user_agent
    mobile = _IPHONE if "iPhone" in agent else _ANDROID if "Android" in agent else {}
    return {"user_agent": agent, **mobile}


def place_for(profile: Profile) -> Place:
    """Where the user creates the passkey: a platform authenticator on this device, a phone
    over hybrid, or a security key (USB/NFC)."""
    if profile.attachment is Attachment.PLATFORM:
        return Place.THIS_DEVICE
    return Place.PHONE if "hybrid" in profile.transports else Place.SECURITY_KEY


def provider_for(profile: Profile) -> str | None:
    """The provider an Android OEM browser's chooser offers for this profile, if it shows one."""
    return _PROVIDERS.get(profile.aaguid) if profile.client in _OEM_CLIENTS else None


@dataclass(frozen=True)
class VirtualAuthenticator:
    """Chromium's virtual authenticator (CDP `WebAuthn.VirtualAuthenticatorOptions`), plus the
    response overrides of `WebAuthn.setResponseOverrideBits` for negative cases."""

    protocol: str = "ctap2"  # ctap2 | u2f
    transport: str = "usb"  # usb | nfc | ble | cable | internal
    has_resident_key: bool = True
    has_user_verification: bool = True
    is_user_verified: bool = True
    backup_eligible: bool = False
    backup_state: bool = False
    bogus_signature: bool = False
    bad_uv: bool = False
    bad_up: bool = False

    @classmethod
    def for_profile(cls, profile: Profile) -> VirtualAuthenticator:
        """The closest Chromium can come to the profile (it cannot take its AAGUID)."""
        if profile.attachment is Attachment.PLATFORM:
            transport = "internal"
        else:
            transport = next((t for t in profile.transports if t in ("usb", "nfc", "ble")),
                             "cable")
        has_uv = profile.uv is not Uv.NONE
        return cls(protocol="u2f" if Quirk.U2F_ONLY in profile.quirks else "ctap2",
                   transport=transport, has_resident_key=profile.rk_capacity > 0,
                   has_user_verification=has_uv, is_user_verified=has_uv,
                   backup_eligible=profile.backup_eligible, backup_state=profile.backup_state)

    def options(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "ctap2Version": "ctap2_1", "transport": self.transport,
                "hasResidentKey": self.has_resident_key,
                "hasUserVerification": self.has_user_verification,
                "isUserVerified": self.is_user_verified,
                "defaultBackupEligibility": self.backup_eligible,
                "defaultBackupState": self.backup_state,
                "automaticPresenceSimulation": True}

    def overrides(self) -> dict[str, bool]:
        return {"isBogusSignature": self.bogus_signature, "isBadUV": self.bad_uv,
                "isBadUP": self.bad_up}


@dataclass
class BrowserCase:
    """One case's browser state: the context and page it runs in (the previous case's when
    they fit), and its own authenticator and evidence."""

    profile: Profile
    context: BrowserContext
    page: Page
    fit: str  # what a later case must share to run in this context and page
    bridge: bridge.Bridge | None = None
    cdp: CDPSession | None = None
    authenticator_id: str | None = None
    console: list[str] = field(default_factory=list)
    graph: list[Response] = field(default_factory=list)  # creationOptions and POST answers
    ended_cleanly: bool = False  # a registration finished: its page may serve the next case

    def record(self, response: Response) -> None:
        path = response.url.split("?")[0]
        if path.endswith((_OPTIONS_PATH, _METHODS_PATH)):
            self.graph.append(response)


class Listening(Protocol):
    """A running emulator as the browser needs it (structurally: `EmulatorServer`)."""

    @property
    def port(self) -> int: ...

    @property
    def spki_pin(self) -> str | None:
        """The SPKI pin of its TLS certificate; None when it serves plain HTTP on localhost."""
        ...


class BrowserSession:
    """One Chromium for many cases (one per pytest-xdist worker); a context and page for every
    kind of case that fits in one (up to `pool_size`, the least recently used closed first),
    unless `reuse` is off (default: `PKCONF_BROWSER_REUSE`, on unless "0").

    `ws_endpoint` connects to a running Playwright browser server instead of launching one;
    that server must have been launched with this session's `browser_args()` (host rules and
    SPKI pin are launch flags). `spki_pin=None` is the `http://localhost:<port>` fallback, for
    an emulator started with `rp_id="localhost"`. All sessions of a thread share its Playwright
    driver (`shared_playwright()`: the sync API allows one per thread) unless given another.
    """

    def __init__(self, *, port: int, spki_pin: str | None, ws_endpoint: str | None = None,
                 trace: bool = False, playwright: Playwright | None = None,
                 reuse: bool | None = None):
        self.port, self.spki_pin, self.ws_endpoint, self.trace = port, spki_pin, ws_endpoint, trace
        self.reuse = os.environ.get(REUSE_ENV, "1") != "0" if reuse is None else reuse
        self.pool_size = POOL_SIZE
        self._playwright = playwright
        self._browser: Browser | None = None
        self.last: BrowserCase | None = None
        self._pool: dict[str, BrowserCase] = {}  # fit -> its context's last case, oldest first

    @classmethod
    def for_server(cls, server: Listening, **kwargs: Any) -> BrowserSession:
        """A session for a running emulator: Entra's hosts over its TLS, else localhost."""
        return cls(port=server.port, spki_pin=server.spki_pin, **kwargs)

    @property
    def base_url(self) -> str:
        """Where the pages are, as the browser addresses them (never with the port for TLS:
        the port would become part of the origin)."""
        return PAGES_ORIGIN if self.spki_pin else f"http://localhost:{self.port}"

    def browser_args(self) -> list[str]:
        args = launch_args()
        if self.spki_pin:
            rules = ", ".join(f"MAP {host} 127.0.0.1:{self.port}" for host in HOSTS)
            args += [f"--host-rules={rules}",
                     f"--ignore-certificate-errors-spki-list={self.spki_pin}"]
        return args

    def start(self) -> BrowserSession:
        executable = None if self.ws_endpoint else require_chromium()  # fails with the fix
        if self._playwright is None:
            self._playwright = shared_playwright()
        chromium = self.playwright.chromium
        self._browser = chromium.connect(self.ws_endpoint) if self.ws_endpoint else \
            chromium.launch(executable_path=executable, args=self.browser_args())
        return self

    @property
    def playwright(self) -> Playwright:
        if self._playwright is None:
            raise RuntimeError("the browser session is not started")
        return self._playwright

    def close(self) -> None:
        for case in list(self._pool.values()):
            self._close(case)
        if self.last is not None:
            self._close(self.last)
        if self._browser is not None:
            self._browser.close()
            self._browser = None

    def __enter__(self) -> BrowserSession:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def browser(self) -> Browser:
        if self._browser is None:
            raise RuntimeError("the browser session is not started")
        return self._browser

    def _close(self, case: BrowserCase) -> None:
        if self._pool.get(case.fit) is case:
            del self._pool[case.fit]
        if self.last is case:
            self.last = None
        if self.trace:
            case.context.tracing.stop()
        case.context.close()

    def open_case(self, profile: Profile, *, authenticator: str = "bridge",
                  virtual: VirtualAuthenticator | None = None,
                  attestation: str | None = None) -> BrowserCase:
        """A case with its own new authenticator and evidence.

        With reuse on, it runs in the context and page of the last case that fits, if that case
        ended cleanly: same authenticator kind and attestation override (init scripts cannot
        be removed), same platform flag for the bridge, same client (user agent, viewport).
        Otherwise it gets a new context. The last case's context is closed now unless it is
        kept for reuse (its evidence stays readable until then).
        """
        if authenticator not in AUTHENTICATORS:
            raise ValueError(f"unknown authenticator {authenticator!r}: one of {AUTHENTICATORS}")
        platform = profile.attachment is Attachment.PLATFORM and authenticator == "bridge"
        options = context_options(profile)
        fit = json.dumps([authenticator, attestation, platform, options], sort_keys=True)
        if self.last is not None and not (self.reuse and self.last.ended_cleanly):
            self._close(self.last)
        previous = self._pool.pop(fit, None)
        if previous is not None and previous.page.is_closed():  # crashed: never reused
            self._close(previous)
            previous = None
        if previous is not None:
            case = BrowserCase(profile, previous.context, previous.page, fit, cdp=previous.cdp)
            if previous.cdp is not None:
                previous.cdp.send("WebAuthn.removeVirtualAuthenticator",
                                  {"authenticatorId": previous.authenticator_id})
            if self.trace:
                case.context.tracing.stop_chunk()
                case.context.tracing.start_chunk()
        else:
            while len(self._pool) >= max(self.pool_size, 1):
                self._close(next(iter(self._pool.values())))
            case = self._new_context(profile, fit, authenticator, attestation, platform, options)
        if self.reuse:
            self._pool[fit] = case
        self.last = case
        if authenticator == "bridge":
            case.bridge = bridge.Bridge(SoftwareAuthenticator(profile))
        else:
            assert case.cdp is not None  # the fit names the authenticator: a CDP context has one
            spec = virtual or VirtualAuthenticator.for_profile(profile)
            case.authenticator_id = case.cdp.send(
                "WebAuthn.addVirtualAuthenticator", {"options": spec.options()})["authenticatorId"]
            if any(spec.overrides().values()):
                case.cdp.send("WebAuthn.setResponseOverrideBits",
                              {"authenticatorId": case.authenticator_id, **spec.overrides()})
        return case

    def _new_context(self, profile: Profile, fit: str, authenticator: str,
                     attestation: str | None, platform: bool, options: dict[str, Any]
                     ) -> BrowserCase:
        """A context and page for `fit`, wired to whichever case runs in them."""
        context = self.browser.new_context(**options)
        if self.trace:
            context.tracing.start(screenshots=True, snapshots=True)
            context.tracing.start_chunk()
        page = context.new_page()
        case = BrowserCase(profile, context, page, fit)
        if authenticator == "bridge":
            bridge.install(context, self._answer, platform=platform, attestation=attestation)
        else:
            if attestation is not None:
                context.add_init_script(script=bridge.script(binding=None,
                                                             attestation=attestation))
            case.cdp = context.new_cdp_session(page)
            case.cdp.send("WebAuthn.enable", {"enableUI": False})
        page.on("console", lambda m: self._log(page, f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self._log(page, f"pageerror: {e}"))
        page.on("response", lambda r: self._record(page, r))
        return case

    def _running_on(self, page: Page) -> BrowserCase | None:
        return self.last if self.last is not None and self.last.page is page else None

    def _log(self, page: Page, line: str) -> None:
        if (case := self._running_on(page)) is not None:
            case.console.append(line)

    def _record(self, page: Page, response: Response) -> None:
        if (case := self._running_on(page)) is not None:
            case.record(response)

    def _answer(self, source: Mapping[str, Any], kind: Any, options: Any) -> dict[str, Any]:
        """The bridge binding of every context: the answer of the case running on the page."""
        case = self._running_on(source["page"])
        if case is None or case.bridge is None:
            return {"error": {"name": "NotAllowedError", "message": "no case runs on this page"}}
        return case.bridge.answer(source, kind, options)

    def sign_in(self, case: BrowserCase, token: str) -> None:
        """Give the case's context the emulator session, as the sign-in pages would."""
        case.context.add_cookies([{
            "name": SESSION_COOKIE, "value": token, "url": self.base_url, "httpOnly": True,
            "secure": bool(self.spki_pin), "sameSite": "Lax"}])

    # --- evidence of the last case (the lead attaches these to Allure on failure) -----------
    def console(self) -> list[str]:
        return list(self.last.console) if self.last else []

    def screenshot(self) -> bytes | None:
        return self.last.page.screenshot(full_page=True) if self.last else None

    def save_trace(self, path: Path | str) -> Path | None:
        """The last case's Playwright trace (only when the session traces): its trace chunk,
        so far."""
        if self.last is None or not self.trace:
            return None
        self.last.context.tracing.stop_chunk(path=str(path))
        self.last.context.tracing.start_chunk()
        return Path(path)


def _variation_route(api: TenantApi, user_id: str, variation: str,
                     result: CeremonyResult) -> Any:
    """A route for the page's POST that plays the variation as ctap.py does."""

    def handle(route: Route, request: Request) -> None:
        if request.method != "POST":
            route.continue_()
            return
        headers = dict(request.headers)
        if variation == "expired-challenge":
            api.advance_clock(CHALLENGE_TIMEOUT_MINUTES * 60 + 1)
            headers["authorization"] = f"Bearer {api.sign_in(user_id)}"  # only the challenge
            result.steps.append("clock advanced past the challenge's expiry")
        else:  # reused-challenge: the same credential was posted once already
            token = headers.get("authorization", "").partition(" ")[2]
            body = request.post_data_json
            assert isinstance(body, dict)  # the Security-info page posts the credential as JSON
            status, answer = api.register(None, body, token)
            result.steps.append(f"first attempt: {decision_of(status, answer).reason}")
        route.continue_(headers=headers)

    return handle


def register_browser(session: BrowserSession, api: TenantApi, profile: Profile, setup: Setup,
                     *, variation: str | None = None, authenticator: str = "bridge",
                     attestation: str | None = None, virtual: VirtualAuthenticator | None = None,
                     timeout_ms: int | None = None, case: BrowserCase | None = None,
                     walk: bool = False) -> CeremonyResult:
    """Add a passkey on Security info in Chromium and return the tenant's decision.

    `attestation` replaces the page's conveyance (e.g. "none", to see Chromium erase AAGUIDs);
    `virtual` adjusts the CDP authenticator; `timeout_ms` shortens the page's WebAuthn timeout;
    `case` reuses the session's last case, of the same profile, with its authenticator as it
    is (credentials and all) for another user; else each call opens a case (`open_case`: a new
    authenticator, in a kept page when one fits). A client-side failure is a `ClientError`, as
    the page reports it. `walk` goes through Security info's dialogs (add a method, step-up,
    where, provider) instead of starting at the registration step with their answers.
    """
    if variation is not None and variation not in VARIATIONS:
        raise ValueError(f"unknown browser variation {variation!r}: one of {VARIATIONS}")
    if case is not None and case.profile is not profile:
        raise ValueError(f"the case was opened for {case.profile.name}, not {profile.name}")
    if case is not None and case is not session.last:
        raise ValueError("the case is closed: only the session's last case can be reused")
    info = api.scenario(setup.body())
    if not info.get("token"):
        raise BrowserCeremonyError("the scenario signs nobody in: Security info needs a session")
    result = CeremonyResult(steps=["scenario"])
    if case is None:
        case = session.open_case(profile, authenticator=authenticator, virtual=virtual,
                                 attestation=attestation)
    case.graph.clear()
    case.ended_cleanly = False
    session.sign_in(case, info["token"])
    posts = f"**/v1.0{_METHODS_PATH}"
    if variation is not None:
        case.page.route(posts, _variation_route(api, info["userId"], variation, result))
    try:
        outcome = _add_passkey(session, case, result, timeout_ms, walk)
    finally:
        if variation is not None:
            case.page.unroute(posts)
    _fill(result, case, outcome)
    case.ended_cleanly = True
    return result


def _add_passkey(session: BrowserSession, case: BrowserCase, result: CeremonyResult,
                 timeout_ms: int | None, walk: bool) -> Outcome:
    page = SecurityInfoPage(case.page)
    provider = provider_for(case.profile)
    place = place_for(case.profile)
    outcome_timeout_ms = (timeout_ms or DEFAULT_TIMEOUT_MS) + OUTCOME_MARGIN_MS
    if walk:
        page.open(session.base_url, provider_chooser=provider is not None, timeout_ms=timeout_ms)
        stepped_up = page.add_passkey(place, provider)
    else:
        stepped_up, outcome = page.register(session.base_url, place, provider,
                                            timeout_ms=timeout_ms,
                                            outcome_timeout_ms=outcome_timeout_ms)
    if stepped_up:
        result.steps.append("Security info: step-up approved")
    result.steps.append(f"Security info: add a passkey on {place.value!r}"
                        + (f" in {provider}" if provider else "")
                        + ("" if walk else " (from the registration step)"))
    return page.outcome(outcome_timeout_ms) if walk else outcome


def _fill(result: CeremonyResult, case: BrowserCase, outcome: Outcome) -> None:
    """The result from what the page announced, checked against what the tenant answered."""
    if case.bridge is not None and case.bridge.failure is not None:
        raise BrowserCeremonyError("the bridged authenticator failed") from case.bridge.failure
    if outcome.kind is OutcomeKind.UNRECOGNIZED:
        raise BrowserCeremonyError(f"the page announced {outcome.text!r} with decision "
                                   f"{outcome.decision!r}")
    try:
        decision = announced(outcome.decision)
    except DecisionFormatError as e:
        raise BrowserCeremonyError(f"the page announced {outcome.text!r} with no decision: "
                                   f"{outcome.decision!r} ({e})") from None
    result.decision = decision
    result.steps.append(f"page: {outcome.kind} ({decision.reason})")
    answers = {r.request.method: r for r in case.graph}
    options, post = answers.get("GET"), answers.get("POST")
    if options is not None:
        result.options = options.json()
    if post is not None:
        body = post.request.post_data_json
        if not isinstance(body, dict):
            raise BrowserCeremonyError(f"the page posted {body!r}, not a JSON object")
        result.request, result.status, result.response = body, post.status, post.json()
        credential = body["publicKeyCredential"]["response"]
        result.client_data_json = websafe_decode(credential["clientDataJSON"])
        result.attestation_object = websafe_decode(credential["attestationObject"])
        result.steps.append(f"POST fido2Methods → {post.status}")
    if outcome.kind is OutcomeKind.CLIENT_ERROR:
        if post is not None or not isinstance(decision, ClientError):
            raise BrowserCeremonyError(f"a client error announced as {outcome.decision!r}, "
                                       f"registration POST: {post is not None}")
        return
    # the answer the announcement came from: the POST, or a refused creationOptions
    graph, answer = (post, result.response) if post is not None else (options, result.options)
    if graph is None or answer is None or (post is None and graph.status < 400):
        raise BrowserCeremonyError(f"the page announced {outcome.kind} without a tenant answer")
    told = decision_of(graph.status, answer)
    if told != decision or (outcome.kind is OutcomeKind.ADDED) != (graph.status == 201):
        raise BrowserCeremonyError(f"the page announced {outcome.kind} {outcome.decision!r}, "
                                   f"the tenant answered {graph.status} {told!r}")
