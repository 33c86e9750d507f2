"""Queries of ``project_files``. Repositories never commit: services own transactions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, select

from forgekit.db import Repository
from pyforge.files.models import ProjectFile


class ProjectFileRepository(Repository[ProjectFile]):
    """A project's live tree and its history."""

    model = ProjectFile

    def select_tree(self, project_id: uuid.UUID, prefix: str | None = None) -> Select[ProjectFile]:
        """The live files of a project, optionally under ``prefix`` (a literal path prefix)."""
        stmt = self.select_all().where(ProjectFile.project_id == project_id)
        if prefix:
            stmt = stmt.where(ProjectFile.path.startswith(prefix, autoescape=True))
        return stmt

    async def tree(self, project_id: uuid.UUID) -> Sequence[ProjectFile]:
        """Every live file of a project, by path."""
        return await self.all(self.select_tree(project_id).order_by(ProjectFile.path))

    async def get_in_project(self, project_id: uuid.UUID, file_id: uuid.UUID) -> ProjectFile | None:
        """A live file of this project (a file id of another project is not found)."""
        stmt = self.select_tree(project_id).where(ProjectFile.id == file_id)
        return await self.one_or_none(stmt)

    async def get_by_path(self, project_id: uuid.UUID, path: str) -> ProjectFile | None:
        """The live file at ``path`` in this project."""
        stmt = self.select_tree(project_id).where(ProjectFile.path == path)
        return await self.one_or_none(stmt)

    async def last_versions(self, project_id: uuid.UUID, paths: Iterable[str]) -> dict[str, int]:
        """The highest version each path reached among deleted rows (history)."""
        wanted = list(paths)
        if not wanted:
            return {}
        result: dict[str, int] = {}
        # Chunks keep the IN list under every driver's bind-parameter limit.
        for start in range(0, len(wanted), 500):
            rows = await self.session.execute(
                select(ProjectFile.path, func.max(ProjectFile.version))
                .where(
                    ProjectFile.project_id == project_id,
                    ProjectFile.deleted_at.is_not(None),
                    ProjectFile.path.in_(wanted[start : start + 500]),
                )
                .group_by(ProjectFile.path)
            )
            result.update({path: int(version) for path, version in rows.all()})
        return result
