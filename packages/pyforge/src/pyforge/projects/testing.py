"""Helpers for tests of projects, files and the domains built on them (needs no pytest).

Everything goes through the HTTP API or the runtime, as clients and workers do.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from forgekit.events.models import AuditLog, OutboxMessage
from forgekit.identity.testing import TestUser, create_api_key, register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.storage import LocalStorage
from pyforge.files.models import ProjectFile

PROJECTS = "/api/v1/projects"


async def new_project(client: httpx.AsyncClient, user: TestUser, **body: Any) -> dict[str, Any]:
    """Create a project as ``user``; asserts success."""
    body.setdefault("name", f"proj {uuid.uuid4().hex[:6]}")
    resp = await client.post(PROJECTS, json=body, headers=user.headers)
    assert resp.status_code == 201, resp.text
    result: dict[str, Any] = resp.json()
    return result


async def make_admin(runtime: Runtime, user: TestUser) -> None:
    """Give ``user`` the global admin role (tokens are re-checked against the row)."""
    await set_user(runtime, user, role="admin")


async def team_with(client: httpx.AsyncClient, owner: TestUser, **members: TestUser) -> str:
    """A team owned by ``owner`` with ``members`` given as role=user."""
    resp = await client.post("/api/v1/teams", json={"name": "t"}, headers=owner.headers)
    assert resp.status_code == 201, resp.text
    team_id: str = resp.json()["id"]
    for role, user in members.items():
        resp = await client.post(
            f"/api/v1/teams/{team_id}/members",
            json={"user_id": str(user.id), "role": role},
            headers=owner.headers,
        )
        assert resp.status_code == 201, resp.text
    return team_id


async def key_headers(
    client: httpx.AsyncClient, user: TestUser, scopes: list[str]
) -> dict[str, str]:
    """Headers authenticating with a fresh API key of ``user`` limited to ``scopes``."""
    key = await create_api_key(client, user, scopes)
    return {"X-API-Key": key["key"]}


async def outbox_types(runtime: Runtime) -> list[str]:
    """Event types written to the outbox, oldest first."""
    async with runtime.db.session() as s:
        rows = await s.execute(select(OutboxMessage.event_type).order_by(OutboxMessage.created_at))
        return list(rows.scalars())


async def outbox_payloads(runtime: Runtime, event_type: str) -> list[dict[str, Any]]:
    """Payloads of the outbox events of one type."""
    async with runtime.db.session() as s:
        rows = await s.execute(
            select(OutboxMessage.payload)
            .where(OutboxMessage.event_type == event_type)
            .order_by(OutboxMessage.created_at)
        )
        return [r["payload"] for r in rows.scalars()]


async def wait_audited(runtime: Runtime, event_type: str, count: int, within_s: float = 60) -> None:
    """Wait until the audit consumer has recorded ``count`` events of this type (polled: the
    generous deadline only matters on failure)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        async with runtime.db.session() as s:
            n = await s.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.event_type == event_type)
            )
        if (n or 0) >= count:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{event_type} not audited"
        await asyncio.sleep(0.05)


async def file_rows(runtime: Runtime, *, include_deleted: bool = True) -> int:
    """How many ``project_files`` rows exist."""
    async with runtime.db.session() as s:
        stmt = select(func.count()).select_from(ProjectFile)
        if not include_deleted:
            stmt = stmt.where(ProjectFile.deleted_at.is_(None))
        return int(await s.scalar(stmt) or 0)


def stored_objects(runtime: Runtime) -> int:
    """How many objects the (local) storage holds, temporary files excluded."""
    storage = runtime.storage
    assert isinstance(storage, LocalStorage)
    root: Path = storage.root
    return sum(
        1 for p in root.rglob("*") if p.is_file() and ".tmp" not in p.relative_to(root).parts
    )


def zip_bytes(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``entries`` (name -> content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: list[tarfile.TarInfo | tuple[str, bytes]], *, gz: bool = True) -> bytes:
    """A tar(.gz) of ``members``: (name, content) pairs or prepared ``TarInfo`` headers."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.GNU_FORMAT) as tf:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tf.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def two_users(client: httpx.AsyncClient) -> tuple[TestUser, TestUser]:
    """Two fresh, logged-in users."""
    return await register_and_login(client), await register_and_login(client)
