"""Queries of versions and aliases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from forgekit.db.repository import Repository
from modelhub.versions.models import AliasMove, ModelAlias, ModelVersion
from modelhub.versions.semver import order_key


class VersionRepository(Repository[ModelVersion]):
    """A model's versions, aliases and alias history."""

    model = ModelVersion

    async def of_model(self, model_id: uuid.UUID) -> Sequence[ModelVersion]:
        """Every version of the model, newest first by semantic order."""
        stmt = select(ModelVersion).where(ModelVersion.model_id == model_id)
        rows = list((await self.session.execute(stmt)).scalars().all())
        return sorted(rows, key=order_key, reverse=True)

    async def by_version(self, model_id: uuid.UUID, version: str) -> ModelVersion | None:
        """The version named exactly ``version``."""
        stmt = select(ModelVersion).where(
            ModelVersion.model_id == model_id, ModelVersion.version == version
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def alias(self, model_id: uuid.UUID, alias: str) -> ModelAlias | None:
        """The alias row, if the alias exists."""
        stmt = select(ModelAlias).where(ModelAlias.model_id == model_id, ModelAlias.alias == alias)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def aliases(self, model_id: uuid.UUID) -> Sequence[tuple[ModelAlias, str]]:
        """Every alias with the version string it names."""
        stmt = (
            select(ModelAlias, ModelVersion.version)
            .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
            .where(ModelAlias.model_id == model_id)
            .order_by(ModelAlias.alias)
        )
        return [(a, v) for a, v in (await self.session.execute(stmt)).all()]

    async def history(self, model_id: uuid.UUID, alias: str | None = None) -> Sequence[AliasMove]:
        """Alias moves, newest first (of one alias, or all)."""
        stmt = select(AliasMove).where(AliasMove.model_id == model_id)
        if alias is not None:
            stmt = stmt.where(AliasMove.alias == alias)
        stmt = stmt.order_by(AliasMove.moved_at.desc(), AliasMove.id.desc())
        return (await self.session.execute(stmt)).scalars().all()
