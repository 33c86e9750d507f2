"""A product requiring MFA for some roles/permissions: until such an account enrols, its
session reaches only the enrolment endpoints; it cannot turn MFA off. Both backends."""

from __future__ import annotations

from typing import Any

import httpx
import pyotp
import pytest

from forgekit.errors import Forbidden
from forgekit.identity.mfa import totp
from forgekit.identity.mfa.policy import MfaPolicy
from forgekit.identity.testing import register_and_login, set_user
from forgekit.live.websocket import authenticate_credential


@pytest.fixture
def forge_settings(forge_settings: Any) -> Any:
    # Team managers (owners, and admins who hold everything) must use MFA; viewers need not.
    return forge_settings.model_copy(update={"mfa_required_permissions": ["team:manage_members"]})


def test_policy_by_role_and_by_permission() -> None:
    by_permission = MfaPolicy(permissions=("team:manage_members",))
    assert by_permission.requires("owner") and by_permission.requires("admin")
    assert not by_permission.requires("viewer")
    assert MfaPolicy(roles=frozenset({"viewer"})).requires("viewer")
    assert not MfaPolicy(permissions=("no:such",)).requires("owner")
    assert not MfaPolicy().requires("admin")


async def test_required_account_may_only_enrol_until_it_has(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [float(1_800_000_000)]
    monkeypatch.setattr(totp, "clock", lambda: now[0])
    user = await register_and_login(client)
    held = await client.get("/api/v1/teams", headers=user.headers)
    assert held.status_code == 403 and held.json()["reason"] == "mfa_enrollment_required"
    assert (await client.get("/auth/me", headers=user.headers)).status_code == 200
    status = await client.get("/auth/mfa", headers=user.headers)
    assert status.json()["required"] is True and status.json()["enabled"] is False

    secret = (await client.post("/auth/mfa/totp", headers=user.headers)).json()["secret"]
    step = int(now[0] // 30)
    confirmed = await client.post(
        "/auth/mfa/totp/confirm",
        json={"code": pyotp.TOTP(secret).at(step * 30)},
        headers=user.headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.get("/api/v1/teams", headers=user.headers)).status_code == 200

    now[0] += 30
    refused = await client.post(
        "/auth/mfa/totp/disable",
        json={"code": pyotp.TOTP(secret).at(now[0])},
        headers=user.headers,
    )
    assert refused.status_code == 403


async def test_accounts_outside_the_policy_are_not_held(
    client: httpx.AsyncClient, runtime: Any
) -> None:
    user = await register_and_login(client)
    await set_user(runtime, user, role="viewer")
    assert (await client.get("/api/v1/teams", headers=user.headers)).status_code == 200


async def test_live_connections_refuse_a_held_session(
    client: httpx.AsyncClient, runtime: Any
) -> None:
    user = await register_and_login(client)
    async with runtime.db.session() as session:
        with pytest.raises(Forbidden) as info:
            await authenticate_credential(session, runtime, user.access_token)
    assert info.value.extensions["reason"] == "mfa_enrollment_required"
