"""The ML service: the model registry, detection and quality prediction, and the predictions the
``ml`` consumer attaches to analyses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import BadRequest, NotFound
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from pyforge.access import project_for
from pyforge.events import ML_MODEL_UPDATED, MlModelUpdated
from pyforge.ml.modelinfo import MODEL_DIR, model_info
from pyforge.ml.quality import QUALITY_FILE, project_prediction
from pyforge.permissions import Permission
from pyforge.predictions.models import AnalysisPrediction, MlModel
from pyforge.predictions.repository import MlModelRepository, PredictionRepository
from pyforge.predictions.schemas import (
    DetectionOut,
    DetectOut,
    FileQuality,
    ModelRef,
    QualityOut,
    QualityScore,
)
from pyforge.predictions.serving import FileScore, MlServing
from pyforge.runtime import PyForgeRuntime

DETECTOR = "pyforge-bugs"
QUALITY = "pyforge-quality"
PREDICTS = (
    "The probability that the file holds a bug of the detector's seven kinds (variable misuse, "
    "wrong literal, wrong comparison or binary operator, negation, and/or swap, swapped "
    "arguments), learned on real code with injected bugs (synthetic labels, 50 % prior); "
    "score = 100 x (1 - p), levels A-E by fixed bands, confidence = max(p, 1 - p), project = "
    "lines-weighted mean. See the model card."
)


@dataclass(frozen=True)
class Served:
    """The default detector version and its registry row."""

    row: MlModel
    quality: MlModel


async def ensure_registered(session: AsyncSession, runtime: PyForgeRuntime) -> bool:
    """Register the models that ship in the package (idempotent; the first becomes default).

    Done in the caller's session (a second connection would wait on this one's lock under
    SQLite), inside a savepoint so that a process that loses the race to register keeps its
    transaction; the caller commits. True when rows were added. Once every row is found
    committed, this process stops checking.
    """
    ml = serving(runtime)
    if ml.registered:
        return False
    info = model_info(MODEL_DIR)
    shipped = [
        (DETECTOR, info.version, info.path.read_bytes(), info.threshold,
         (MODEL_DIR / "MODEL_CARD.md").read_text()),
        (QUALITY, _quality_version(), (MODEL_DIR / QUALITY_FILE).read_bytes(), None,
         (MODEL_DIR / "QUALITY_CARD.md").read_text()),
    ]  # fmt: skip
    repo = MlModelRepository(session)
    added = False
    for name, version, data, threshold, card in shipped:
        if await repo.find(name, version) is not None:
            continue
        added = True
        stored = await runtime.storage.put_bytes(data)
        try:
            async with session.begin_nested():
                row = MlModel(name=name, version=version, sha256=stored.key, size_bytes=len(data),
                              threshold=threshold, metrics=_metrics(name), card=card)  # fmt: skip
                session.add(row)
                await session.flush()
                if await repo.default(name) is None:
                    await repo.make_default(row)
        except IntegrityError:
            continue  # another process registered it first
    ml.registered = not added
    return added


def serving(runtime: PyForgeRuntime) -> MlServing:
    """The runtime's model server (set by :func:`pyforge.predictions.tasks.register`)."""
    if runtime.ml is None:
        raise RuntimeError("the ML service is not registered on this runtime")
    return runtime.ml


def _quality_version() -> str:
    return str(json.loads((MODEL_DIR / QUALITY_FILE).read_text())["version"])


def _metrics(name: str) -> dict[str, object]:
    meta = json.loads((MODEL_DIR / ("bugs.json" if name == DETECTOR else QUALITY_FILE)).read_text())
    return dict(meta.get("test", {}))


async def served_models(
    session: AsyncSession, runtime: PyForgeRuntime, *, commit: bool = True
) -> Served:
    """The default versions of the detector and the quality model (``commit``: keep a first
    registration now; an event consumer passes False and its transaction commits)."""
    if await ensure_registered(session, runtime) and commit:
        await session.commit()
    repo = MlModelRepository(session)
    detector, quality = await repo.default(DETECTOR), await repo.default(QUALITY)
    if detector is None or quality is None:  # pragma: no cover - ensure_registered made them
        raise NotFound("No default model is registered.")
    return Served(detector, quality)


async def detect_bugs(session: AsyncSession, runtime: PyForgeRuntime,
                      code: str, filename: str, threshold: float | None) -> DetectOut:  # fmt: skip
    """Detections in one source (parsed, never executed); 400 for code that does not parse."""
    storage, ml = runtime.storage, serving(runtime)
    models = await served_models(session, runtime)
    cutoff = models.row.threshold if threshold is None else threshold
    served = await ml.detector(storage, models.row.version, models.row.sha256, cutoff or 0.0)
    try:
        found = await ml.detect(served, code, filename, cutoff or 0.0)
    except SyntaxError as exc:
        raise BadRequest(
            f"{filename}: the code does not parse: {exc.msg} (line {exc.lineno})"
        ) from None
    ref = ModelRef(name=models.row.name, version=models.row.version)
    return DetectOut(model=ref, model_version=models.row.version, threshold=cutoff or 0.0,
                     detections=[DetectionOut(**d.as_dict()) for d in found])  # fmt: skip


Scored = tuple[Served, list[FileScore], dict[str, str]]


async def score_files(
    session: AsyncSession, runtime: PyForgeRuntime, files: dict[str, str], *, commit: bool = True
) -> Scored:
    """Each parsable file's score; the others are listed with the reason."""
    storage, ml = runtime.storage, serving(runtime)
    models = await served_models(session, runtime, commit=commit)
    served = await ml.detector(storage, models.row.version, models.row.sha256,
                               models.row.threshold or 0.0)  # fmt: skip
    scores, skipped = [], {}
    for path, source in sorted(files.items()):
        try:
            scores.append(await ml.score_file(served, source, path, models.row.threshold or 0.0))
        except SyntaxError as exc:
            skipped[path] = f"does not parse: {exc.msg} (line {exc.lineno})"
    return models, scores, skipped


def quality_out(models: Served, scores: Sequence[FileScore], skipped: dict[str, str]) -> QualityOut:
    """The API's answer for scored files."""
    project = project_prediction([(s.prediction, s.loc) for s in scores])
    version = f"{models.quality.version} (detector {models.row.version})"
    return QualityOut(
        model=ModelRef(name=models.quality.name, version=models.quality.version),
        model_version=version, predicts=PREDICTS,
        project=QualityScore(**project.as_dict()) if project else None,
        files=[FileQuality(path=s.path, functions=s.functions, loc=s.loc, **s.prediction.as_dict())
               for s in scores],
        skipped=skipped,
    )  # fmt: skip


# --- the registry -----------------------------------------------------------------------------


async def list_models(session: AsyncSession, runtime: PyForgeRuntime,
                      name: str | None = None) -> Sequence[MlModel]:  # fmt: skip
    """Every registered version (of ``name``)."""
    if await ensure_registered(session, runtime):
        await session.commit()
    return await MlModelRepository(session).versions(name)


async def get_model(session: AsyncSession, runtime: PyForgeRuntime, name: str,
                    version: str) -> MlModel:  # fmt: skip
    """One version; 404 when unknown."""
    if await ensure_registered(session, runtime):
        await session.commit()
    row = await MlModelRepository(session).find(name, version)
    if row is None:
        raise NotFound(f"No model {name} {version}.")
    return row


async def set_default(session: AsyncSession, runtime: PyForgeRuntime, principal: Principal,
                      name: str, version: str) -> MlModel:  # fmt: skip
    """Serve ``version`` of ``name`` (a release or a rollback); emits ``ml.model.updated``."""
    row = await get_model(session, runtime, name, version)
    repo = MlModelRepository(session)
    previous = await repo.default(name)
    await repo.make_default(row)
    payload = MlModelUpdated(name=name, version=version,
                             previous=previous.version if previous else None,
                             changed_by=principal.user_id)  # fmt: skip
    await enqueue(session, ML_MODEL_UPDATED, payload)
    await session.commit()
    return row


# --- predictions attached to analyses ---------------------------------------------------------


async def analysis_predictions(session: AsyncSession, principal: Principal,
                               analysis_id: uuid.UUID) -> AnalysisPrediction:  # fmt: skip
    """The ML consumer's predictions for an analysis the caller can read (404 otherwise)."""
    from pyforge.analyses.models import Analysis

    analysis = await session.get(Analysis, analysis_id)
    if analysis is None:
        raise NotFound("Analysis not found.")
    try:
        await project_for(session, principal, analysis.project_id, Permission.PROJECT_READ)
    except NotFound:
        raise NotFound("Analysis not found.") from None
    row = await PredictionRepository(session).for_analysis(analysis_id)
    if row is None:
        raise NotFound("No predictions for this analysis yet (the ml worker attaches them).")
    return row
