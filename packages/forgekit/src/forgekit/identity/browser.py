"""Browser sessions: the same login, kept in cookies a page's script cannot read.

A web page signs in with ``POST /auth/session`` (the login form's fields). The access token
goes into an ``HttpOnly`` cookie, so no script on the page ever holds a credential; the
refresh token into a second ``HttpOnly`` cookie sent only to ``/auth/session``. Every API
route then accepts the cookie exactly as it accepts ``Authorization: Bearer`` (the same
principal, the same scopes).

Cross-site request forgery: the cookies are ``SameSite=Strict``, and a cookie-authenticated
request that changes anything (any method but GET/HEAD/OPTIONS) must also send the
``X-CSRF-Token`` header equal to the readable ``<app>_csrf`` cookie (double submit). A form
on another site can neither read that cookie nor set a header. The WebSocket handshake,
which cannot carry the header, is accepted with the cookie only from the page's own origin.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from starlette.requests import HTTPConnection

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.errors import Forbidden, Unauthorized
from forgekit.identity.mfa.schemas import MfaChallengeResponse, MfaVerifyRequest
from forgekit.identity.mfa.service import MfaChallenge, MfaThrottle, mfa
from forgekit.identity.schemas import UserRead
from forgekit.identity.security import InvalidTokenError, TokenType, decode_token
from forgekit.identity.service import LoginThrottle, auth
from forgekit.identity.tokens import TokenPair, sessions
from forgekit.settings import ForgeSettings

__all__ = [
    "CSRF_HEADER",
    "CookieNames",
    "browser_router",
    "cookie_credential",
    "cookie_names",
]

CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REFRESH_PATH = "/auth/session"

browser_router = APIRouter(prefix="/auth/session", tags=["auth"])
PasswordForm = Annotated[OAuth2PasswordRequestForm, Depends()]


@dataclass(frozen=True)
class CookieNames:
    """The cookie names of one product (two products on one host keep separate sessions)."""

    session: str
    refresh: str
    csrf: str


def cookie_names(settings: ForgeSettings) -> CookieNames:
    """``<app>_session``, ``<app>_refresh`` and ``<app>_csrf``."""
    app = settings.app_name
    return CookieNames(f"{app}_session", f"{app}_refresh", f"{app}_csrf")


def _same_origin(conn: HTTPConnection) -> bool:
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    host = conn.headers.get("host", "")
    return origin.partition("://")[2] == host


def cookie_credential(conn: HTTPConnection, settings: ForgeSettings) -> str | None:
    """The access token of a browser session, or None without the cookie.

    Raises 403 when the request could be forged: a state-changing request without the matching
    CSRF header, or a WebSocket handshake from another origin.
    """
    names = cookie_names(settings)
    token = conn.cookies.get(names.session)
    if not token:
        return None
    if conn.scope["type"] == "websocket":
        if not _same_origin(conn):
            raise Forbidden("A cookie session is accepted only from this site's own pages.")
        return token
    if conn.scope.get("method", "GET") not in _SAFE_METHODS:
        expected = conn.cookies.get(names.csrf, "")
        sent = conn.headers.get(CSRF_HEADER.lower(), "")
        if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
            raise Forbidden(f"Missing or wrong {CSRF_HEADER} header for a cookie session.")
    return token


def _set_cookies(request: Request, response: Response, settings: ForgeSettings,
                 pair: TokenPair) -> None:  # fmt: skip
    names = cookie_names(settings)
    secure = request.url.scheme == "https"
    response.set_cookie(
        names.session, pair.access_token, max_age=pair.expires_in, path="/",
        secure=secure, httponly=True, samesite="strict",
    )  # fmt: skip
    response.set_cookie(
        names.refresh, pair.refresh_token, max_age=settings.refresh_token_ttl_s,
        path=_REFRESH_PATH, secure=secure, httponly=True, samesite="strict",
    )  # fmt: skip
    # Readable by the page on purpose: it is not a credential, only proof of same origin.
    response.set_cookie(
        names.csrf, secrets.token_urlsafe(24), max_age=settings.refresh_token_ttl_s,
        path="/", secure=secure, httponly=False, samesite="strict",
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"


def _clear_cookies(response: Response, settings: ForgeSettings) -> None:
    names = cookie_names(settings)
    response.delete_cookie(names.session, path="/")
    response.delete_cookie(names.refresh, path=_REFRESH_PATH)
    response.delete_cookie(names.csrf, path="/")


def _check_csrf(request: Request, settings: ForgeSettings) -> None:
    names = cookie_names(settings)
    expected = request.cookies.get(names.csrf, "")
    sent = request.headers.get(CSRF_HEADER.lower(), "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Forbidden(f"Missing or wrong {CSRF_HEADER} header for a cookie session.")


@browser_router.post("", response_model=UserRead | MfaChallengeResponse)
async def sign_in(
    request: Request, response: Response, form: PasswordForm,
    session: SessionDep, runtime: RuntimeDep,
) -> object:  # fmt: skip
    """Sign a browser in (the login form's fields); the session lives in HttpOnly cookies.

    An account with MFA gets the challenge instead (no cookie yet): the page asks for a code
    and posts both to ``/auth/session/mfa``.
    """
    if not _same_origin(request):
        # Login CSRF: another site must not sign the browser into the attacker's account.
        raise Forbidden("Sign in from this site's own page.")
    from forgekit.identity.deps import client_ip

    settings = runtime.settings
    pair = await auth.login(
        session, settings, LoginThrottle(runtime.rate_limiter, settings),
        identifier=form.username, password=form.password, ip=client_ip(request),
    )  # fmt: skip
    if isinstance(pair, MfaChallenge):
        response.headers["Cache-Control"] = "no-store"
        return MfaChallengeResponse(mfa_token=pair.token, expires_in=pair.expires_in)
    return await _start_session(request, response, session, settings, pair)


async def _start_session(
    request: Request, response: Response, session: SessionDep, settings: ForgeSettings,
    pair: TokenPair,
) -> object:  # fmt: skip
    _set_cookies(request, response, settings, pair)
    principal = await sessions.authenticate(session, settings, pair.access_token)
    return principal.user


@browser_router.post("/mfa", response_model=UserRead)
async def sign_in_mfa(
    data: MfaVerifyRequest, request: Request, response: Response, session: SessionDep,
    runtime: RuntimeDep,
) -> object:  # fmt: skip
    """Finish a browser sign-in of an MFA account with the challenge and a code."""
    if not _same_origin(request):
        raise Forbidden("Sign in from this site's own page.")
    settings = runtime.settings
    throttle = MfaThrottle(runtime.rate_limiter, settings)
    pair = await mfa.complete_login(session, settings, throttle, data.mfa_token, data.code)
    return await _start_session(request, response, session, settings, pair)


@browser_router.post("/refresh", response_model=UserRead)
async def refresh_session(
    request: Request, response: Response, session: SessionDep, runtime: RuntimeDep
) -> object:
    """A new access cookie from the refresh cookie (the page calls it when the API says 401)."""
    settings = runtime.settings
    _check_csrf(request, settings)
    token = request.cookies.get(cookie_names(settings).refresh)
    if not token:
        raise Unauthorized("No browser session; sign in again.")
    pair = await sessions.rotate(session, settings, token)
    _set_cookies(request, response, settings, pair)
    principal = await sessions.authenticate(session, settings, pair.access_token)
    return principal.user


@browser_router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(request: Request, response: Response, session: SessionDep,
                   runtime: RuntimeDep) -> None:  # fmt: skip
    """End the browser session: its tokens stop working and the cookies are cleared."""
    settings = runtime.settings
    _check_csrf(request, settings)
    token = request.cookies.get(cookie_names(settings).session)
    if token:
        try:
            claims = decode_token(settings, token, TokenType.ACCESS)
        except InvalidTokenError:
            claims = None
        if claims is not None:
            await sessions.logout(session, claims)
    _clear_cookies(response, settings)
