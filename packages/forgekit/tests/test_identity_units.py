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
    ROLE_PERMISSIONS,
    TEAM_ROLES,
    Permission,
    Role,
    permissions_of,
    role_has,
    scopes_allow,
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

SETTINGS = ForgeSettings(_env_file=None)


def test_role_permissions_follow_the_seed():
    assert ROLE_PERMISSIONS[Role.VIEWER] >= {Permission.PROJECT_READ}
    assert not role_has(Role.VIEWER, Permission.PROJECT_WRITE)
    for perm in ("project:read", "project:write", "analysis:run", "ml:predict"):
        assert role_has(Role.DEVELOPER, perm)
        assert role_has(Role.OWNER, perm)
    assert not role_has(Role.DEVELOPER, Permission.PROJECT_DELETE)
    assert role_has(Role.OWNER, Permission.PROJECT_DELETE)
    assert role_has(Role.OWNER, Permission.TEAM_MANAGE_MEMBERS)
    assert not role_has(Role.DEVELOPER, Permission.TEAM_MANAGE_MEMBERS)
    # admin:* grants everything.
    assert all(role_has(Role.ADMIN, p) for p in Permission)
    assert permissions_of(Role.ADMIN) == {"admin:*"}
    assert Role.ADMIN not in TEAM_ROLES
    # Roles are nested: each grants what the one below does.
    assert (
        ROLE_PERMISSIONS[Role.VIEWER]
        < ROLE_PERMISSIONS[Role.DEVELOPER]
        < ROLE_PERMISSIONS[Role.OWNER]
    )
    with pytest.raises(ValueError):
        role_has(Role.OWNER, "project:frobnicate")


def test_scopes_allow():
    assert scopes_allow({"project:read"}, Permission.PROJECT_READ)
    assert not scopes_allow({"project:read"}, "project:write")
    assert scopes_allow({"admin:*"}, "team:manage_members")
    assert not scopes_allow(set(), "project:read")


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
    assert key.startswith("pfk_") and len(key) >= 4 + 32
    assert prefix == key[:12] and digest == sha256_hex(key) and len(digest) == 64
    assert looks_like_api_key(key) and not looks_like_api_key("eyJhbGciOi...")
    assert len({generate_api_key()[0] for _ in range(100)}) == 100
