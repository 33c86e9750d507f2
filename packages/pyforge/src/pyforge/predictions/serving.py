"""The models served by this process: the bug detector batched through ``forgekit.inference``
and the quality model on top of its per-function probabilities.

One :class:`MlServing` per runtime (a background service, so the runtime closes its batchers).
The detector version served is the registry's default; when an administrator makes another
version the default, the next request loads it from object storage (sha256-verified).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from forgekit.inference import InferenceRuntime, InferenceSettings, ServedModel
from forgekit.storage import ObjectStorage
from pyforge.ml.detector import Detection, inputs, prepare
from pyforge.ml.quality import QualityModel, QualityPrediction
from pyforge.ml.serving import MODEL_NAME, detect_source, length_bucket

WARM_UP = "def warm(a, b):\n    return a < b\n"


@dataclass(frozen=True)
class FileScore:
    """One file's quality and the detector's verdicts on its functions."""

    path: str
    prediction: QualityPrediction
    functions: int
    loc: int
    detections: list[Detection]


class MlServing:
    """Loads models on first use and serves them; a background service of the runtime."""

    consumer_group: str | None = None

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.inference = InferenceRuntime(settings or InferenceSettings(), namespace="pyforge")
        self.quality = QualityModel.load()
        self._served: ServedModel | None = None
        self._lock = asyncio.Lock()
        #: True once this process registered the shipped models (see ``service``).
        self.registered = False

    async def start(self) -> None:
        """Nothing to start: models load on first use (a worker that never predicts pays none)."""

    async def stop(self) -> None:
        """Close the batchers."""
        await self.inference.close()
        self._served = None

    async def detector(self, storage: ObjectStorage, version: str, sha256: str,
                       threshold: float) -> ServedModel:  # fmt: skip
        """The served detector of ``version`` (loaded from storage the first time)."""
        async with self._lock:
            served = self._served
            if served is None or served.version != version:
                warm = prepare(WARM_UP)
                served = await self.inference.load(
                    MODEL_NAME, version, storage, sha256, sha256=sha256,
                    warm_up_inputs=inputs([warm[0][2]]), bucket_of=length_bucket,
                )  # fmt: skip
                self._served = served
            return served

    async def detect(self, served: ServedModel, source: str, path: str,
                     threshold: float) -> list[Detection]:  # fmt: skip
        """Detections at or above ``threshold`` (raises SyntaxError), most probable first."""
        found = await detect_source(served, source, path, threshold)
        return sorted(found, key=lambda d: -d.probability)

    async def score_file(self, served: ServedModel, source: str, path: str,
                         threshold: float) -> FileScore:  # fmt: skip
        """A file's quality prediction and its detections at ``threshold``."""
        every = await detect_source(served, source, path, 0.0)
        loc = sum(1 for line in source.splitlines() if line.strip())
        prediction = self.quality.predict_file([d.probability for d in every], loc, threshold)
        above = sorted(
            (d for d in every if d.probability >= threshold), key=lambda d: -d.probability
        )
        return FileScore(path, prediction, len(every), loc, above)
