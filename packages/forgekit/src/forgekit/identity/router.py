"""HTTP endpoints of identity: ``/auth`` (accounts, sessions, API keys) and ``/api/v1/teams``.

Endpoints only translate HTTP to service calls; each declares its authorization once, as a
dependency in its signature.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import HTMLResponse
from fastapi.security import OAuth2PasswordRequestForm

from forgekit.deps import RuntimeDep, SessionDep, SettingsDep
from forgekit.errors import BadRequest
from forgekit.identity.apikeys import api_keys
from forgekit.identity.deps import (
    CurrentPrincipal,
    MfaSetupPrincipal,
    client_ip,
    require_scopes,
    require_session_or_scopes,
)
from forgekit.identity.mfa.schemas import MfaChallengeResponse, MfaVerifyRequest
from forgekit.identity.mfa.service import MfaChallenge, MfaThrottle, mfa
from forgekit.identity.pages import page
from forgekit.identity.principal import Principal
from forgekit.identity.rbac import KitPermission
from forgekit.identity.schemas import (
    Accepted,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    MemberAdd,
    MemberRead,
    MemberUpdate,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    TokenRequest,
    TokenResponse,
    UserRead,
)
from forgekit.identity.service import LoginThrottle, auth, teams
from forgekit.identity.tokens import TokenPair, sessions

auth_router = APIRouter(prefix="/auth", tags=["auth"])
teams_router = APIRouter(prefix="/api/v1/teams", tags=["teams"])

PasswordForm = Annotated[OAuth2PasswordRequestForm, Depends()]
#: Managing API keys: any login session; an API key only with ``admin:*`` (see rbac).
KeyManager = Annotated[Principal, Depends(require_session_or_scopes(KitPermission.ADMIN_ALL))]
TeamReader = Annotated[Principal, Depends(require_scopes(KitPermission.TEAM_READ))]
TeamWriter = Annotated[Principal, Depends(require_scopes(KitPermission.TEAM_WRITE))]
TeamDeleter = Annotated[Principal, Depends(require_scopes(KitPermission.TEAM_DELETE))]
TeamAdmin = Annotated[Principal, Depends(require_scopes(KitPermission.TEAM_MANAGE_MEMBERS))]


def _tokens(pair: TokenPair, response: Response) -> TokenResponse:
    # RFC 6749 section 5.1: token responses must not be cached by browsers or proxies.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


# --- accounts and sessions --------------------------------------------------------------------


@auth_router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserRead)
async def register(data: RegisterRequest, session: SessionDep, runtime: RuntimeDep) -> object:
    """Create an account; a verification link is emailed."""
    return await auth.register(session, runtime.settings, data)


async def _login(
    request: Request, response: Response, form: OAuth2PasswordRequestForm,
    session: SessionDep, runtime: RuntimeDep,
) -> TokenResponse | MfaChallengeResponse:  # fmt: skip
    pair = await auth.login(
        session,
        runtime.settings,
        LoginThrottle(runtime.rate_limiter, runtime.settings),
        identifier=form.username,
        password=form.password,
        ip=client_ip(request),
    )
    if isinstance(pair, MfaChallenge):
        response.headers["Cache-Control"] = "no-store"
        return MfaChallengeResponse(mfa_token=pair.token, expires_in=pair.expires_in)
    return _tokens(pair, response)


@auth_router.post("/login")
async def login(
    request: Request, response: Response, form: PasswordForm,
    session: SessionDep, runtime: RuntimeDep,
) -> TokenResponse | MfaChallengeResponse:  # fmt: skip
    """Log in with the OAuth2 password form (``username`` may be the email). An account with
    MFA gets ``{"mfa_required": true, "mfa_token"}`` instead: finish at ``/auth/mfa/verify``."""
    return await _login(request, response, form, session, runtime)


@auth_router.post("/token")
async def token(
    request: Request, response: Response, form: PasswordForm,
    session: SessionDep, runtime: RuntimeDep,
) -> TokenResponse | MfaChallengeResponse:  # fmt: skip
    """The OAuth2 token endpoint (same as ``/auth/login``; what OpenAPI clients call)."""
    return await _login(request, response, form, session, runtime)


@auth_router.post("/mfa/verify")
async def verify_mfa(
    data: MfaVerifyRequest, response: Response, session: SessionDep, runtime: RuntimeDep
) -> TokenResponse:
    """Finish an MFA login: the challenge's ``mfa_token`` and an authenticator or recovery
    code give the session."""
    throttle = MfaThrottle(runtime.rate_limiter, runtime.settings)
    pair = await mfa.complete_login(
        session, runtime.settings, throttle, data.mfa_token, data.code
    )
    return _tokens(pair, response)


@auth_router.post("/refresh")
async def refresh(
    data: RefreshRequest, response: Response, session: SessionDep, runtime: RuntimeDep
) -> TokenResponse:
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    pair = await sessions.rotate(session, runtime.settings, data.refresh_token)
    return _tokens(pair, response)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: MfaSetupPrincipal, session: SessionDep) -> None:
    """End this login session: its refresh tokens and this access token stop working."""
    if principal.access is None:
        raise BadRequest("API keys have no session; revoke a key with DELETE /auth/api-keys/{id}.")
    await sessions.logout(session, principal.access)


@auth_router.get("/me", response_model=UserRead)
async def me(principal: MfaSetupPrincipal) -> object:
    """The caller's account (any valid credential; no scope needed)."""
    return principal.user


# --- email verification and password reset ----------------------------------------------------


@auth_router.post(
    "/verify-email/request", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted
)
async def request_verification_email(principal: CurrentPrincipal, session: SessionDep) -> Accepted:
    """Send the verification link again."""
    await auth.request_verification(session, principal.user)
    return Accepted(detail="A verification link is on its way.")


@auth_router.get("/verify-email", include_in_schema=False)
async def verify_email_page() -> HTMLResponse:
    """The page the verification link opens; it confirms only when the user presses a button."""
    return page("verify_email")


@auth_router.post("/verify-email", response_model=UserRead)
async def verify_email(data: TokenRequest, session: SessionDep) -> object:
    """Confirm an email address with the token from the verification link."""
    return await auth.verify_email(session, data.token)


@auth_router.post(
    "/password-reset/request", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted
)
async def request_password_reset(data: PasswordResetRequest, session: SessionDep) -> Accepted:
    """Email a reset link if an account has this address; the answer never says whether."""
    await auth.request_password_reset(session, data.email)
    return Accepted(detail="If an account uses this address, a reset link is on its way.")


@auth_router.get("/password-reset", include_in_schema=False)
async def password_reset_page() -> HTMLResponse:
    """The page the reset link opens: a form for the new password."""
    return page("password_reset")


@auth_router.post("/password-reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(
    data: PasswordResetConfirm, session: SessionDep, runtime: RuntimeDep
) -> None:
    """Set a new password with the token from the reset link; every session is ended."""
    await auth.reset_password(
        session,
        runtime.settings,
        LoginThrottle(runtime.rate_limiter, runtime.settings),
        token=data.token,
        new_password=data.new_password,
    )


# --- API keys ---------------------------------------------------------------------------------


@auth_router.post("/api-keys", status_code=status.HTTP_201_CREATED)
async def create_api_key(
    data: ApiKeyCreate, principal: KeyManager, session: SessionDep, settings: SettingsDep
) -> ApiKeyCreated:
    """Create a key; the response is the only time the key is shown."""
    key, raw = await api_keys.create(session, principal, data, settings.api_key_prefix)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=raw)


@auth_router.get("/api-keys")
async def list_api_keys(principal: KeyManager, session: SessionDep) -> list[ApiKeyRead]:
    """The caller's keys (never the secrets)."""
    return [ApiKeyRead.model_validate(k) for k in await api_keys.list(session, principal)]


@auth_router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: uuid.UUID, principal: KeyManager, session: SessionDep) -> None:
    """Revoke a key; it stops working at once."""
    await api_keys.revoke(session, principal, key_id)


@auth_router.post("/api-keys/{key_id}/rotate")
async def rotate_api_key(
    key_id: uuid.UUID, principal: KeyManager, session: SessionDep, settings: SettingsDep
) -> ApiKeyCreated:
    """Replace a key's secret; the old secret stops working at once."""
    key, raw = await api_keys.rotate(session, principal, key_id, settings.api_key_prefix)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=raw)


# --- teams ------------------------------------------------------------------------------------


@teams_router.post("", status_code=status.HTTP_201_CREATED)
async def create_team(data: TeamCreate, principal: TeamWriter, session: SessionDep) -> TeamRead:
    """Create a team with the caller as its owner."""
    return await teams.create(session, principal, data)


@teams_router.get("")
async def list_teams(principal: TeamReader, session: SessionDep) -> list[TeamRead]:
    """The caller's teams."""
    return await teams.list_for(session, principal)


@teams_router.get("/{team_id}")
async def get_team(team_id: uuid.UUID, principal: TeamReader, session: SessionDep) -> TeamRead:
    """One of the caller's teams."""
    return await teams.get(session, principal, team_id)


@teams_router.patch("/{team_id}")
async def update_team(
    team_id: uuid.UUID, data: TeamUpdate, principal: TeamWriter, session: SessionDep
) -> TeamRead:
    """Rename a team or change its description (developers and owners)."""
    return await teams.update(session, principal, team_id, data)


@teams_router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(team_id: uuid.UUID, principal: TeamDeleter, session: SessionDep) -> None:
    """Delete a team (owners)."""
    await teams.delete(session, principal, team_id)


@teams_router.get("/{team_id}/members")
async def list_members(
    team_id: uuid.UUID, principal: TeamReader, session: SessionDep
) -> list[MemberRead]:
    """A team's members and their roles."""
    return await teams.members(session, principal, team_id)


@teams_router.post("/{team_id}/members", status_code=status.HTTP_201_CREATED)
async def add_member(
    team_id: uuid.UUID, data: MemberAdd, principal: TeamAdmin, session: SessionDep
) -> MemberRead:
    """Add a user (by id, username or email) with a role (owners)."""
    return await teams.add_member(session, principal, team_id, data)


@teams_router.patch("/{team_id}/members/{user_id}")
async def update_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    data: MemberUpdate,
    principal: TeamAdmin,
    session: SessionDep,
) -> MemberRead:
    """Change a member's role (owners); the last owner cannot be demoted."""
    return await teams.update_member(session, principal, team_id, user_id, data.role)


@teams_router.delete("/{team_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    team_id: uuid.UUID, user_id: uuid.UUID, principal: TeamReader, session: SessionDep
) -> None:
    """Remove a member (owners), or leave the team (yourself); never the last owner."""
    await teams.remove_member(session, principal, team_id, user_id)
