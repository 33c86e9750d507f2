"""Test helpers for code that needs users, sessions and API keys (products' tests too).

Everything goes through the HTTP API, so the helpers exercise the same paths as clients do.
Importing this module needs no test framework; the functions take an ``httpx.AsyncClient``
bound to a running app.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import update

from forgekit.identity.models import User

if TYPE_CHECKING:
    from forgekit.runtime import Runtime

DEFAULT_PASSWORD = "correct horse battery staple"  # noqa: S105

#: Settings overrides for tests: argon2id stays argon2id, at a cost that takes milliseconds.
FAST_PASSWORD_HASHING: dict[str, int] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}


@dataclass
class TestUser:
    """A registered user and, once logged in, their tokens."""

    __test__ = False  # not a pytest test class despite the name

    id: uuid.UUID
    email: str
    username: str
    password: str
    access_token: str = ""
    refresh_token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` header with the access token."""
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(
    client: httpx.AsyncClient,
    username: str | None = None,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> TestUser:
    """Register a user (random name unless given); asserts success."""
    username = username or f"user{uuid.uuid4().hex[:8]}"
    email = email or f"{username}@example.com"
    resp = await client.post(
        "/auth/register", json={"email": email, "username": username, "password": password}
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return TestUser(
        id=uuid.UUID(body["id"]), email=body["email"], username=body["username"], password=password
    )


async def login(
    client: httpx.AsyncClient, user: TestUser, identifier: str | None = None
) -> TestUser:
    """Log ``user`` in through ``/auth/login`` and store the tokens on it."""
    resp = await client.post(
        "/auth/login", data={"username": identifier or user.username, "password": user.password}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    user.access_token, user.refresh_token = body["access_token"], body["refresh_token"]
    return user


async def register_and_login(client: httpx.AsyncClient, username: str | None = None) -> TestUser:
    """A fresh user with a live session."""
    return await login(client, await register(client, username))


async def create_api_key(
    client: httpx.AsyncClient,
    user: TestUser,
    scopes: list[str],
    name: str = "test key",
    **extra: Any,
) -> dict[str, Any]:
    """Create an API key for ``user``; returns the response body (with ``key``)."""
    resp = await client.post(
        "/auth/api-keys", json={"name": name, "scopes": scopes, **extra}, headers=user.headers
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def sink_messages(mail_dir: Path) -> list[EmailMessage]:
    """The messages the file-sink mailer wrote to ``mail_dir``, oldest first."""
    if not mail_dir.is_dir():
        return []
    messages = []
    for path in sorted(mail_dir.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        messages.append(msg)
    return messages


def message_text(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "message has no text part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def link_token(message: EmailMessage, path: str) -> str:
    """The ``token`` query parameter of the link to ``path`` in a message's text part."""
    match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-]+)", message_text(message))
    assert match is not None, f"no {path} link in message"
    return match.group(1)


async def set_user(runtime: Runtime, user: TestUser, **values: Any) -> None:
    """Change ``user``'s row directly (``role="admin"``, ``is_verified=True``): what an
    administrator or a clicked e-mail link would do, without going through their flows."""
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == user.id).values(**values))
