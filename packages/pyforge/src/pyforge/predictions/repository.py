"""Queries of the ML tables. Repositories never commit: services own transactions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update

from forgekit.db import Repository
from pyforge.predictions.models import AnalysisPrediction, MlModel


class MlModelRepository(Repository[MlModel]):
    """The model registry."""

    model = MlModel

    async def versions(self, name: str | None = None) -> Sequence[MlModel]:
        """Every registered version (of ``name``), by name then newest first."""
        stmt = select(MlModel).order_by(MlModel.name, MlModel.created_at.desc())
        if name is not None:
            stmt = stmt.where(MlModel.name == name)
        return (await self.session.scalars(stmt)).all()

    async def find(self, name: str, version: str) -> MlModel | None:
        """One version."""
        stmt = select(MlModel).where(MlModel.name == name, MlModel.version == version)
        return await self.one_or_none(stmt)

    async def default(self, name: str) -> MlModel | None:
        """The version of ``name`` that is served."""
        stmt = select(MlModel).where(MlModel.name == name, MlModel.is_default.is_(True))
        return await self.one_or_none(stmt)

    async def make_default(self, row: MlModel) -> None:
        """Serve ``row``; every other version of its name stops being the default."""
        await self.session.execute(
            update(MlModel).where(MlModel.name == row.name, MlModel.id != row.id)
            .values(is_default=False)
        )  # fmt: skip
        row.is_default = True


class PredictionRepository(Repository[AnalysisPrediction]):
    """Predictions attached to analyses."""

    model = AnalysisPrediction

    async def for_analysis(self, analysis_id: uuid.UUID) -> AnalysisPrediction | None:
        """The analysis' predictions, if the ML consumer has run."""
        stmt = select(AnalysisPrediction).where(AnalysisPrediction.analysis_id == analysis_id)
        return await self.one_or_none(stmt)
