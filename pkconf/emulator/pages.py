"""The emulator's web pages: sign-in, Security info, and the RP's Related Origins file.

Users add a passkey on Security info (mysignins.microsoft.com), with the RP ID
login.microsoft.com. These pages let a real browser run that ceremony against the emulator:
the browser calls navigator.credentials.create() and posts the credential to the emulator's
Graph endpoint, so what is tested is the browser's own WebAuthn answer.

The pages' origin, https://mysignins.microsoft.com, is theirs, not the rule book's: no Microsoft
text puts the registration ceremony on it, and the rule book accepts https://login.microsoft.com
only (rules.ALLOWED_ORIGINS, [INFERRED]). The RP's Related Origins file lists the pages' origin,
and the emulator accepts it for the requests the pages make (`accepted_origins`): a POST whose
`Origin` header is the pages' origin, as a browser sends it from their script. The same
credential posted by any other client is judged by the rule book's origins alone.

Plain HTML forms for sign-in (no passwords are checked, as in `/_emulator/signIn`); a little JS
for the Security info dialogs. Templates and assets live in the `pages/` folder beside this
module. The contract with the browser ceremony is `docs/page-contract.md`.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..hosts import PAGES_ORIGIN
from ..tenant.rules import MFA_WINDOW_SECONDS, RP_ID
from .http import GraphError, capped_body
from .signin import tap_sign_in
from .store import Session, Store, User

PAGES = Path(__file__).with_name("pages")
SESSION_COOKIE = "pkconf_session"  # the page contract (docs/page-contract.md)
SECURITY_INFO = "/security-info"
MAX_FORM_BYTES = 4096  # a sign-in form holds a username and one secret
MAX_FORM_FIELDS = 8
FORM_TYPE = "application/x-www-form-urlencoded"


class Html(str):
    """Markup that is already safe: inserted into a template as is, never escaped again."""

    __slots__ = ()


NOTHING = Html("")


@cache
def _template(name: str) -> Template:
    return Template((PAGES / name).read_text("utf-8"))


def render(template: str, /, **values: str) -> Html:
    """A template with its values HTML-escaped (except `Html` ones)."""
    safe = {k: v if isinstance(v, Html) else html.escape(v) for k, v in values.items()}
    return Html(_template(template).substitute(safe))


def _page(title: str, main: Html, *, head: Html = NOTHING, status: int = 200) -> HTMLResponse:
    page = render("layout.html", title=title, head=head, main=main)
    # The pages are never framed: a dialog that adds a credential must not be clickjacked.
    return HTMLResponse(page, status_code=status,
                        headers={"X-Frame-Options": "DENY", "Cache-Control": "no-store"})


def _alert(message: str) -> Html:
    return render("alert.html", message=message)


async def _form(request: Request) -> dict[str, str]:
    """A small URL-encoded form; anything else is a clean 400, never a parser exception."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise GraphError(415, "invalidRequest", f"the sign-in pages take {FORM_TYPE} forms")
    body = await capped_body(request, MAX_FORM_BYTES, "the form")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict",
                          max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # non-ASCII body, bad percent-escapes, too many fields
        raise GraphError(400, "invalidRequest", "the form is not valid URL-encoded UTF-8") \
            from None
    return dict(pairs)


def needs_step_up(session: Session, elapsed_seconds: float) -> bool:
    """Whether Security info must ask for MFA again before adding a passkey.

    Entra asks when the last MFA is over five minutes old or there was none (entra-facts §3).
    A Temporary Access Pass sign-in is not asked: a TAP is how a user without any method
    bootstraps, so there is nothing to step up with; the engine still judges its window.
    """
    if session.method == "tap":
        return False
    return session.method != "mfa" or elapsed_seconds > MFA_WINDOW_SECONDS


def pages_origin(rp_id: str) -> str | None:
    """The pages' own origin beside the RP's: mysignins for Entra's RP ID; none on the
    localhost fallback, where the pages are on the RP's own origin."""
    return PAGES_ORIGIN if rp_id == RP_ID else None


def accepted_origins(origins: tuple[str, ...], rp_id: str, request_origin: str | None
                     ) -> tuple[str, ...]:
    """The origins a registration request is judged by: the RP's, plus the pages' own when the
    pages made the request (its Origin header is theirs)."""
    own = pages_origin(rp_id)
    return (*origins, own) if own and request_origin == own else origins


class SecurityInfoPages:
    """The page routes over the emulator's store; `rp_id`/`origins` feed the origins file."""

    def __init__(self, store: Store, *, rp_id: str, origins: tuple[str, ...]) -> None:
        self.store, self.rp_id, self.origins = store, rp_id, origins

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/signin", self.sign_in, methods=["GET", "POST"]),
            Route("/signin/password", self.password, methods=["POST"]),
            Route("/signin/mfa", self.approve, methods=["POST"]),
            Route("/signin/tap", self.tap, methods=["GET", "POST"]),
            Route(SECURITY_INFO, self.security_info, methods=["GET"]),
            Route(f"{SECURITY_INFO}/step-up", self.step_up, methods=["GET", "POST"]),
            Mount(f"{SECURITY_INFO}/assets", StaticFiles(directory=PAGES / "assets")),
            Route("/.well-known/webauthn", self.related_origins, methods=["GET"]),
        ]

    # --- sign-in ---------------------------------------------------------------------------
    def _user_named(self, name: str) -> User | None:
        """The user a sign-in names: by UPN (case-insensitive, as Entra) or by object id."""
        name = name.strip()
        if not name:
            return None
        return self.store.user_by_upn(name) or self.store.user(name)

    def _username_step(self, username: str = "", problem: str = "", status: int = 200) -> Response:
        alert = _alert(problem) if problem else NOTHING
        return _page("Sign in", render("signin-username.html", alert=alert, username=username),
                     status=status)

    def _unknown(self, username: str) -> Response:
        return self._username_step(username, "We couldn't find an account with that username.",
                                   404)

    def _signed_in(self, request: Request, user: User, method: str, tap_id: str | None = None
                   ) -> Response:
        token = self.store.add_session(user.id, method, self.store.now(), tap_id)
        response = RedirectResponse(SECURITY_INFO, status_code=303)
        _set_session_cookie(request, response, token)
        return response

    async def sign_in(self, request: Request) -> Response:
        """Step 1: the username; a known one moves on to the password."""
        if request.method == "GET":
            return self._username_step()
        username = (await _form(request)).get("username", "")
        user = self._user_named(username)
        if user is None:
            return self._unknown(username)
        return _page("Enter password", render(
            "signin-password.html", username=user.user_principal_name,
            username_query=quote(user.user_principal_name)))

    async def password(self, request: Request) -> Response:
        """Step 2: any password is right; the sign-in then asks for the MFA approval."""
        username = (await _form(request)).get("username", "")
        user = self._user_named(username)
        if user is None:
            return self._unknown(username)
        return _page("Approve sign in request",
                     render("signin-mfa.html", username=user.user_principal_name))

    async def approve(self, request: Request) -> Response:
        """Step 3: the stand-in for an Authenticator approval, at the emulator's clock."""
        username = (await _form(request)).get("username", "")
        user = self._user_named(username)
        if user is None:
            return self._unknown(username)
        return self._signed_in(request, user, "mfa")

    async def tap(self, request: Request) -> Response:
        """Sign-in with a Temporary Access Pass, checked as `/_emulator/signIn` checks it."""
        form = (dict(request.query_params) if request.method == "GET"
                else await _form(request))
        user = self._user_named(form.get("username", ""))
        if user is None:
            return self._unknown(form.get("username", ""))
        problem, status = "", 200
        if request.method == "POST":
            try:
                tap = tap_sign_in(self.store, user.id, form, self.store.now())
            except GraphError as e:
                problem, status = e.message[:1].upper() + e.message[1:] + ".", e.status
            else:
                return self._signed_in(request, user, "tap", tap.id)
        alert = _alert(problem) if problem else NOTHING
        return _page("Enter Temporary Access Pass", render(
            "signin-tap.html", username=user.user_principal_name, alert=alert), status=status)

    # --- Security info ---------------------------------------------------------------------
    def _session(self, request: Request) -> tuple[str, Session, User] | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        session = self.store.session(token) if token else None
        user = self.store.user(session.user_id) if session else None
        return (token, session, user) if session and user else None

    async def security_info(self, request: Request) -> Response:
        signed_in = self._session(request)
        if signed_in is None:
            return RedirectResponse("/signin", status_code=303)
        token, session, user = signed_in
        methods = "".join(
            render("method.html", name=c.display_name or "Passkey")
            for c in self.store.credentials(user.id) if not c.windows_hello_for_business)
        head = render("security-info-head.html", token=token,
                      step_up="required" if self._step_up(session) else "not-required")
        main = render("security-info.html", user=user.user_principal_name, methods=Html(methods))
        return _page("Security info", main, head=head)

    def _step_up(self, session: Session) -> bool:
        """Whether the session needs a step-up at the emulator's clock now."""
        return needs_step_up(session, (self.store.now() - session.signed_in).total_seconds())

    async def step_up(self, request: Request) -> Response:
        """GET: must the page ask for MFA again? POST: the approval, a fresh MFA session."""
        signed_in = self._session(request)
        if signed_in is None:
            raise GraphError(401, "unauthenticated", "sign in at /signin first")
        _, session, user = signed_in
        if request.method == "GET":
            return JSONResponse({"required": self._step_up(session)})
        token = self.store.add_session(user.id, "mfa", self.store.now())
        response = JSONResponse({"token": token})
        _set_session_cookie(request, response, token)
        return response

    # --- Related Origin Requests -------------------------------------------------------------
    async def related_origins(self, request: Request) -> Response:
        """The origins besides the RP ID's own that may create its credentials (WebAuthn L3)."""
        own = f"https://{self.rp_id}"
        listed = dict.fromkeys((*self.origins, pages_origin(self.rp_id)))
        return JSONResponse({"origins": [o for o in listed if o and o != own]})


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
