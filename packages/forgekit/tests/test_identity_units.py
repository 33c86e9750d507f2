"""Unit tests of the identity building blocks: RBAC tables, JWT codec, password hashing,
API-key format. No backend needed."""

import uuid
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forgekit.db.base import utcnow
from forgekit.identity.apikeys import generate_api_key, looks_like_api_key
from forgekit.identity.rbac import (
    KitPermission,
    Role,
    check_permission,
    check_scope,
    check_team_role,
    permissions_of,
    register_permissions,
    register_resource_scope,
    role_has,
    scopes_allow,
    team_roles,
)
from forgekit.identity.security import (
    InvalidTokenError,
    PasswordHasher,
    TokenType,
    decode_token,
    encode_token,
    sha256_hex,
)
from forgekit.settings import ForgeSettings
from forgekit.testing.sample import SAMPLE_PERMISSIONS

SETTINGS = ForgeSettings(_env_file=None)


def test_role_permissions_follow_the_seed():
    assert permissions_of(Role.VIEWER) >= {"project:read"}
    assert not role_has(Role.VIEWER, "project:write")
    for perm in ("project:read", "project:write", "analysis:run", "ml:predict"):
        assert role_has(Role.DEVELOPER, perm)
        assert role_has(Role.OWNER, perm)
    assert not role_has(Role.DEVELOPER, "project:delete")
    assert role_has(Role.OWNER, "project:delete")
    assert role_has(Role.OWNER, KitPermission.TEAM_MANAGE_MEMBERS)
    assert not role_has(Role.DEVELOPER, KitPermission.TEAM_MANAGE_MEMBERS)
    # admin:* grants everything.
    assert all(role_has(Role.ADMIN, p) for p in [*KitPermission, *SAMPLE_PERMISSIONS])
    assert permissions_of(Role.ADMIN) == {"admin:*"}
    assert Role.ADMIN not in team_roles()
    # Roles are nested: each grants what the one below does.
    assert permissions_of(Role.VIEWER) < permissions_of(Role.DEVELOPER) < permissions_of(Role.OWNER)
    with pytest.raises(ValueError):
        role_has(Role.OWNER, "project:frobnicate")


def test_a_product_registers_its_own_permissions_and_roles():
    # The marketplace's vocabulary: unknown until declared, then granted like any other.
    with pytest.raises(ValueError, match="unknown permission"):
        check_permission("model:publish")
    register_permissions(
        ["model:publish", "model:read"],
        {"publisher": ["model:read", "model:publish"], Role.VIEWER: ["model:read"]},
        team_roles=["publisher"],
    )
    assert check_permission("model:publish") == "model:publish"
    assert role_has("publisher", "model:publish") and not role_has(Role.VIEWER, "model:publish")
    assert role_has(Role.ADMIN, "model:publish")
    assert check_team_role("publisher") == "publisher"
    # A grant of something never declared is refused, as is an unknown role.
    with pytest.raises(ValueError, match="undeclared"):
        register_permissions([], {"publisher": ["model:frobnicate"]})
    with pytest.raises(ValueError, match="unknown role"):
        role_has("nobody", "model:read")


def test_scopes_allow():
    assert scopes_allow({"project:read"}, "project:read")
    assert not scopes_allow({"project:read"}, "project:write")
    assert scopes_allow({"admin:*"}, "team:manage_members")
    assert not scopes_allow(set(), "project:read")


def test_resource_scopes_name_one_resource_or_a_wildcard():
    # A product-neutral family: "doc:<space>/<page>", implied by "doc:read".
    register_permissions(["doc:read"], {Role.OWNER: ["doc:read"]})
    register_resource_scope("doc", r"[a-z]+/[a-z]+", implied_by="doc:read")
    assert check_scope("doc:read") == "doc:read"
    assert check_scope("doc:team/intro") == "doc:team/intro"
    assert check_scope("doc:team/*") == "doc:team/*"
    for bad in ("doc:team", "doc:team/Intro", "doc:team/intro/x", "doc:*", "doc:/*", "docs:a/b"):
        with pytest.raises(ValueError):
            check_scope(bad)
    # Holding it: the exact scope, a wildcard over it, the implying permission, or admin:*.
    assert scopes_allow({"doc:team/intro"}, "doc:team/intro")
    assert not scopes_allow({"doc:team/intro"}, "doc:team/other")
    assert scopes_allow({"doc:team/*"}, "doc:team/other")
    assert not scopes_allow({"doc:team/*"}, "doc:teamx/other")
    assert scopes_allow({"doc:read"}, "doc:any/page") and scopes_allow({"admin:*"}, "doc:a/b")
    # Granting it (API keys): a role that holds the implying permission.
    assert role_has(Role.OWNER, "doc:team/intro") and role_has(Role.OWNER, "doc:team/*")
    assert not role_has(Role.VIEWER, "doc:team/intro")
    with pytest.raises(ValueError, match="collides"):
        register_resource_scope("team", r".+", implied_by="doc:read")


def test_jwt_roundtrip_and_type_check():
    uid, sid = uuid.uuid4(), uuid.uuid4()
    token, claims = encode_token(
        SETTINGS, user_id=uid, token_type=TokenType.ACCESS, session_id=sid, ttl_s=60
    )
    decoded = decode_token(SETTINGS, token, TokenType.ACCESS)
    assert decoded == claims and decoded.sub == uid and decoded.sid == sid
    assert decoded.expires_at - decoded.issued_at == timedelta(seconds=60)
    with pytest.raises(InvalidTokenError):
        decode_token(SETTINGS, token, TokenType.REFRESH)
    other = SETTINGS.model_copy(update={"app_name": "other-app"})
    with pytest.raises(InvalidTokenError):
        decode_token(other, token, TokenType.ACCESS)  # issued by another deployment
    expired, _ = encode_token(
        SETTINGS, user_id=uid, token_type=TokenType.ACCESS, session_id=sid, ttl_s=1,
        now=utcnow() - timedelta(seconds=5),
    )  # fmt: skip
    with pytest.raises(InvalidTokenError):
        decode_token(SETTINGS, expired, TokenType.ACCESS)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_decode_rejects_arbitrary_strings_cleanly(garbage):
    with pytest.raises(InvalidTokenError):
        decode_token(SETTINGS, garbage, TokenType.ACCESS)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200))
def test_decode_rejects_mutated_tokens(noise):
    token, _ = encode_token(
        SETTINGS,
        user_id=uuid.uuid4(),
        token_type=TokenType.ACCESS,
        session_id=uuid.uuid4(),
        ttl_s=60,
    )
    header, payload, signature = token.split(".")
    mutated = (
        f"{header}.{payload}{noise.hex()}.{signature}"
        if noise
        else f"{header}.{payload}x.{signature}"
    )
    with pytest.raises(InvalidTokenError):
        decode_token(SETTINGS, mutated, TokenType.ACCESS)


async def test_password_hasher_argon2id_and_rehash():
    cheap = PasswordHasher(time_cost=1, memory_kib=1024, parallelism=1)
    hashed = await cheap.hash("pässwörd")
    assert hashed.startswith("$argon2id$")
    assert await cheap.verify(hashed, "pässwörd")
    assert not await cheap.verify(hashed, "password")
    assert not await cheap.verify("not a hash", "pässwörd")
    assert not cheap.needs_rehash(hashed)
    stronger = PasswordHasher(time_cost=2, memory_kib=2048, parallelism=1)
    assert stronger.needs_rehash(hashed)
    assert await stronger.verify(hashed, "pässwörd")  # old hashes still verify
    await cheap.verify_dummy("anything")


def test_api_key_format():
    key, prefix, digest = generate_api_key()
    assert key.startswith("fgk_") and len(key) >= 4 + 32
    assert prefix == key[:12] and digest == sha256_hex(key) and len(digest) == 64
    assert looks_like_api_key(key) and not looks_like_api_key("eyJhbGciOi...")
    assert len({generate_api_key()[0] for _ in range(100)}) == 100
