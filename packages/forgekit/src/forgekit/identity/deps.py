"""Authentication and authorization dependencies, declared once per route.

Usage in a product router::

    from forgekit.identity.deps import CurrentPrincipal, require_scopes

    Reader = Annotated[Principal, Depends(require_scopes("project:read"))]

    @router.get("/projects")
    async def list_projects(principal: Reader, session: SessionDep) -> ...: ...

A request authenticates with ``Authorization: Bearer <access JWT>``, ``Authorization: Bearer
<API key>`` (``pfk_…`` for PyForge), ``X-API-Key: <API key>`` or a browser session's cookie
(:mod:`forgekit.identity.browser`). Missing or invalid
credentials answer 401 (with ``WWW-Authenticate: Bearer``); valid credentials without the
scope answer 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.requests import HTTPConnection

from forgekit.deps import SessionDep, get_runtime
from forgekit.errors import Forbidden, Unauthorized
from forgekit.identity.apikeys import api_keys, looks_like_api_key
from forgekit.identity.browser import cookie_credential
from forgekit.identity.mfa.gate import mark_enrolment_required, refuse_if_held
from forgekit.identity.principal import Principal
from forgekit.identity.rbac import check_permission
from forgekit.identity.security import InvalidTokenError, TokenType, decode_token, sha256_hex
from forgekit.identity.tokens import sessions

__all__ = [
    "CurrentPrincipal",
    "MfaSetupPrincipal",
    "OptionalPrincipal",
    "Principal",
    "authenticated",
    "get_current_principal",
    "get_optional_principal",
    "principal_rate_key",
    "require_scopes",
    "require_session_or_scopes",
]

# Declared for the OpenAPI document (the "Authorize" dialog); the header parsing below is ours
# so that a malformed header is a 401 rather than silently anonymous.
_bearer_scheme = HTTPBearer(auto_error=False, description="Access token or API key")
_api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")

_STATE_ATTR = "principal"


def _credential(request: HTTPConnection) -> str | None:
    authorization = request.headers.get("authorization")
    api_key = request.headers.get("x-api-key")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or " " in value:
            raise Unauthorized("Malformed Authorization header; expected 'Bearer <token>'.")
        if api_key is not None and api_key.strip() != value:
            raise Unauthorized("Send one credential: Authorization or X-API-Key, not both.")
        return value
    if api_key is not None:
        api_key = api_key.strip()
        if not looks_like_api_key(api_key):
            raise Unauthorized("Malformed X-API-Key header.")
        return api_key
    # A browser session (HttpOnly cookie, CSRF-checked) when no header names a credential.
    return cookie_credential(request, get_runtime(request).settings)


async def get_optional_principal(
    request: Request,
    session: SessionDep,
    _bearer: Annotated[object, Depends(_bearer_scheme)],
    _key: Annotated[object, Depends(_api_key_scheme)],
) -> Principal | None:
    """The caller, or None without credentials. Invalid credentials are a 401, never anonymous.

    The principal is cached on ``request.state.principal`` (for logging and rate keys) and
    shares the request's database session, so routes receive live ORM objects.
    """
    cached: Principal | None = getattr(request.state, _STATE_ATTR, None)
    if cached is not None:
        return cached
    credential = _credential(request)
    if credential is None:
        return None
    if looks_like_api_key(credential):
        principal = await api_keys.authenticate(session, credential)
    else:
        settings = get_runtime(request).settings
        principal = await sessions.authenticate(
            session, settings, credential, claims=getattr(request.state, _CLAIMS_ATTR, None)
        )
        principal = await mark_enrolment_required(session, settings, principal)
    setattr(request.state, _STATE_ATTR, principal)
    return principal


async def get_mfa_setup_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    """The caller, even one whose session may only enrol in MFA; 401 without credentials."""
    if principal is None:
        raise Unauthorized("Authentication required.")
    return principal


MfaSetupPrincipal = Annotated[Principal, Depends(get_mfa_setup_principal)]
"""Any authenticated caller, including a session held back until its MFA enrolment (for the
enrolment endpoints, ``/auth/me`` and logout)."""


async def get_current_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    """The caller; 401 without credentials, 403 while the account must still enrol in MFA."""
    if principal is None:
        raise Unauthorized("Authentication required.")
    refuse_if_held(principal)
    return principal


def authenticated() -> Callable[..., Awaitable[Principal]]:
    """The dependency for "any authenticated caller, no scope needed"."""
    return get_current_principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]
"""Any authenticated caller (a session or an API key of any scope)."""

OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
"""The caller when credentials are sent, else None."""


def require_scopes(*permissions: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers whose scopes include every one of ``permissions``.

    Permission strings are checked against the declared ones when the route is declared,
    so a typo fails at import time rather than denying everyone at run time.
    """
    required = tuple(check_permission(p) for p in permissions)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        missing = principal.missing(*required)
        if missing:
            raise Forbidden(f"Missing scope: {', '.join(missing)}.", missing_scopes=missing)
        return principal

    return dependency


def require_session_or_scopes(
    *permissions: str,
) -> Callable[..., Awaitable[Principal]]:
    """Admit any login session, and API keys only with ``permissions``.

    For self-service actions that a person does in the UI but a leaked key should not
    (managing API keys: a key needs ``admin:*``).
    """
    required = tuple(check_permission(p) for p in permissions)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.is_session:
            return principal
        missing = principal.missing(*required)
        if missing:
            raise Forbidden(
                f"An API key needs scope {', '.join(missing)} for this; or use a login session.",
                missing_scopes=missing,
            )
        return principal

    return dependency


#: Where :func:`principal_rate_key` leaves the access-token claims it verified.
_CLAIMS_ATTR = "forge_access_claims"


def principal_rate_key(request: HTTPConnection) -> str:
    """``user:<id>``, ``key:<id>`` or ``ip:<addr>``: whom a request counts against.

    Rate limits may run before authentication, so without a resolved principal this looks at
    the credential without touching the database: a JWT with a valid signature counts against
    its user; an API key against ``key:<sha256 prefix>`` of its value (the id is not known
    yet); anything else, invalid credentials included, against the client address.
    """
    principal: Principal | None = getattr(request.state, _STATE_ATTR, None)
    if principal is not None:
        return principal.rate_key
    try:
        credential = _credential(request)
    except (Unauthorized, Forbidden):
        # A forged cookie request is refused when it authenticates; here it only counts.
        credential = None
    if credential is not None:
        if looks_like_api_key(credential):
            return f"key:{sha256_hex(credential)[:16]}"
        runtime = getattr(request.app.state, "runtime", None)
        if runtime is not None:
            try:
                claims = decode_token(runtime.settings, credential, TokenType.ACCESS)
            except InvalidTokenError:
                pass
            else:
                # Verified here already: authentication reuses it instead of decoding twice.
                setattr(request.state, _CLAIMS_ATTR, claims)
                return f"user:{claims.sub}"
    return f"ip:{client_ip(request)}"


def client_ip(request: HTTPConnection) -> str:
    """The client's address as the server sees it (proxy headers are the server's job)."""
    return request.client.host if request.client is not None else "unknown"
