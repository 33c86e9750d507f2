"""The ``ml`` consumer: attaches quality and bug predictions to every succeeded analysis.

Runs in ``pyforge worker --queues ml`` (and in-process on embedded defaults). Idempotent: one
row per analysis (a unique constraint), and the kit records the event as processed in the same
transaction, so a redelivered ``analysis.completed`` changes nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events import Event
from forgekit.inference import InferenceSettings
from pyforge.analyses.models import Analysis
from pyforge.events import ANALYSIS_COMPLETED
from pyforge.files.service import snapshot, snapshot_digest
from pyforge.predictions import service
from pyforge.predictions.models import AnalysisPrediction
from pyforge.predictions.repository import PredictionRepository
from pyforge.predictions.serving import MlServing
from pyforge.runtime import PyForgeRuntime

log = logging.getLogger("pyforge.ml")
CONSUMER = "ml.predictions"
#: Larger files are not scored (the detector reads 256 tokens per function anyway).
MAX_FILE_BYTES = 512 * 1024


class PredictionConsumer:
    """Scores an analysed tree with the served models."""

    def __init__(self, runtime: PyForgeRuntime) -> None:
        self.runtime = runtime

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Predict for a succeeded analysis, once."""
        payload = ANALYSIS_COMPLETED.parse(event)
        if payload.status != "succeeded":
            return
        if await PredictionRepository(session).for_analysis(payload.analysis_id) is not None:
            return
        analysis = await session.get(Analysis, payload.analysis_id)
        if analysis is None:
            return  # deleted with its project
        files = await snapshot(session, analysis.project_id)
        notes = []
        if analysis.snapshot_digest and snapshot_digest(files) != analysis.snapshot_digest:
            notes.append("the tree changed after the analysis; predicted on the current tree")
        sources: dict[str, str] = {}
        for f in files:
            if not f.path.endswith(".py") or f.size > MAX_FILE_BYTES:
                continue
            try:
                sources[f.path] = (await self.runtime.storage.read(f.sha256)).decode("utf-8")
            except UnicodeDecodeError:
                notes.append(f"{f.path}: not UTF-8")
        models, scores, skipped = await service.score_files(
            session, self.runtime, sources, commit=False
        )
        notes += [f"{path}: {why}" for path, why in skipped.items()]
        out = service.quality_out(models, scores, skipped)
        detections = sorted((d.as_dict() for s in scores for d in s.detections),
                            key=lambda d: -float(d["probability"]))  # fmt: skip
        session.add(AnalysisPrediction(
            analysis_id=analysis.id, project_id=analysis.project_id,
            detector_version=models.row.version, quality_version=models.quality.version,
            quality={"project": out.project.model_dump() if out.project else None,
                     "files": [f.model_dump() for f in out.files], "predicts": out.predicts},
            detections=detections, files_analysed=len(scores),
            note="; ".join(notes)[:4000] or None,
        ))  # fmt: skip
        log.info("analysis %s: ML predictions for %d files, %d detections",
                 analysis.id, len(scores), len(detections))  # fmt: skip


def register(runtime: PyForgeRuntime) -> PredictionConsumer:
    """Give the runtime its model server and subscribe the ``ml`` consumer."""
    runtime.ml = MlServing(InferenceSettings())
    runtime.services.append(runtime.ml)
    consumer = PredictionConsumer(runtime)
    runtime.events.subscribe(CONSUMER, [ANALYSIS_COMPLETED], consumer.handle, prefetch=1)
    return consumer
