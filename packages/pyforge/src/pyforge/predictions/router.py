"""HTTP endpoints of the ML service: ``/api/v1/ml`` (the seed's paths) and an analysis'
predictions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from forgekit.deps import SessionDep
from forgekit.errors import Forbidden, Unprocessable
from forgekit.identity.deps import CurrentPrincipal, require_scopes
from forgekit.identity.principal import Principal
from pyforge.permissions import Permission
from pyforge.predictions import service
from pyforge.predictions.models import AnalysisPrediction, MlModel
from pyforge.predictions.schemas import (
    DefaultIn,
    DetectIn,
    DetectOut,
    MlModelCard,
    MlModelRead,
    PredictionRead,
    QualityIn,
    QualityOut,
    RefactorIn,
    RefactorOut,
)
from pyforge.runtime import PyForgeRuntimeDep

router = APIRouter(prefix="/api/v1/ml", tags=["ml"])
predictions_router = APIRouter(prefix="/api/v1/analyses", tags=["ml"])
Predictor = Annotated[Principal, Depends(require_scopes(Permission.ML_PREDICT))]
Name = Annotated[str, Path(max_length=100)]
Version = Annotated[str, Path(max_length=32)]


def _admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only an administrator changes which model version is served.")
    return principal


Admin = Annotated[Principal, Depends(_admin)]


@router.post("/detect/bugs")
async def detect_bugs(body: DetectIn, _p: Predictor, session: SessionDep,
                      runtime: PyForgeRuntimeDep) -> DetectOut:  # fmt: skip
    """Suspected bugs in one source file: kind, location, probability and repair."""
    return await service.detect_bugs(session, runtime, body.code, body.filename, body.threshold)


@router.post("/predict/quality")
async def predict_quality(body: QualityIn, _p: Predictor, session: SessionDep,
                          runtime: PyForgeRuntimeDep) -> QualityOut:  # fmt: skip
    """A 0-100 score, level A-E and confidence per file and for the files together."""
    if (body.code is None) == (body.files is None):
        raise Unprocessable("Send either `code` (one file) or `files` (path -> code).")
    files = body.files if body.files is not None else {body.filename: body.code or ""}
    models, scores, skipped = await service.score_files(session, runtime, files)
    return service.quality_out(models, scores, skipped)


@router.post("/suggest/refactor")
async def suggest_refactor(body: RefactorIn, _p: Predictor) -> RefactorOut:
    """Refactoring suggestions and performance hints, with the safe fixes applied.

    Rule-based (libcst codemods and the engine's hints), not learned: ``model_version`` names
    the rule set. Code is parsed, never executed; code that does not parse is a 422.
    """
    import asyncio

    from pyforge import __version__
    from pyforge.refactor import RefactorError, fix_source, suggest

    def run() -> RefactorOut:
        found = suggest(body.code, body.filename, body.rules)
        fixed = fix_source(body.code, body.filename, body.rules)
        return RefactorOut(model_version=f"pyforge-refactor {__version__} (rules)",
                           suggestions=[s.to_dict() for s in found], fixed=fixed.source,
                           fixes=dict(fixed.counts))  # fmt: skip

    try:
        return await asyncio.to_thread(run)
    except RefactorError as exc:
        raise Unprocessable(str(exc)) from None


@router.get("/models", response_model=list[MlModelRead])
async def list_models(_p: CurrentPrincipal, session: SessionDep, runtime: PyForgeRuntimeDep,
                      name: Annotated[str | None, Query(max_length=100)] = None,
                      ) -> Sequence[MlModel]:  # fmt: skip
    """Every registered model version, the served one marked ``is_default``."""
    return await service.list_models(session, runtime, name)


@router.get("/models/{name}/{version}", response_model=MlModelCard)
async def get_model(name: Name, version: Version, _p: CurrentPrincipal, session: SessionDep,
                    runtime: PyForgeRuntimeDep) -> MlModel:  # fmt: skip
    """One version with its model card."""
    return await service.get_model(session, runtime, name, version)


@router.put("/models/{name}/default", response_model=MlModelRead)
async def set_default(name: Name, body: DefaultIn, principal: Admin, session: SessionDep,
                      runtime: PyForgeRuntimeDep) -> MlModel:  # fmt: skip
    """Serve another version (a release or a rollback); emits ``ml.model.updated``."""
    return await service.set_default(session, runtime, principal, name, body.version)


@predictions_router.get("/{analysis_id}/predictions", response_model=PredictionRead)
async def analysis_predictions(analysis_id: uuid.UUID, principal: CurrentPrincipal,
                               session: SessionDep) -> AnalysisPrediction:  # fmt: skip
    """Quality and bug predictions the ML worker attached to the analysis."""
    return await service.analysis_predictions(session, principal, analysis_id)
