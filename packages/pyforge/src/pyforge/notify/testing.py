"""Test helpers for notifications (the loopback servers are the kit's:
:mod:`forgekit.testing.loopback`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pyforge.projects.models import Project


async def make_project(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    name: str = "demo",
    team_id: uuid.UUID | None = None,
    is_public: bool = False,
) -> Project:
    """Insert a project row directly (commits) — for tests that are not about projects."""
    project = Project(
        id=uuid.uuid4(), name=name, owner_id=owner_id, team_id=team_id, is_public=is_public,
        settings={},
    )
    session.add(project)
    await session.commit()
    return project
