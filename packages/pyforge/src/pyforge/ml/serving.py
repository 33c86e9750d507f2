"""The bug detector served through :mod:`forgekit.inference` (for servers and workers).

The model file is put in the kit's content-addressed storage, loaded from there (verified by
sha256), warmed up, and every function becomes one request to the dynamic batcher, so
concurrent callers share batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from forgekit.inference import InferenceRuntime, ServedModel
from forgekit.storage import ObjectStorage
from pyforge.ml.detector import Detection, inputs, prepare, unpad, verdicts
from pyforge.ml.modelinfo import MODEL_DIR, model_info

MODEL_NAME = "bugs"
BUCKET_TOKENS = 32


def length_bucket(inputs: Mapping[str, Any]) -> int:
    """Functions batch with others of about their length (padding costs attention time)."""
    return -(-int(inputs["kind"].shape[1]) // BUCKET_TOKENS)


async def load_detector(
    runtime: InferenceRuntime, storage: ObjectStorage, model_dir: Path | None = None
) -> ServedModel:
    """Store the shipped model (idempotent: content-addressed) and serve it as ``bugs``."""
    info = model_info(model_dir or MODEL_DIR)
    stored = await storage.put_bytes(info.path.read_bytes())
    warm = prepare("def warm(a, b):\n    return a < b\n")
    return await runtime.load(
        MODEL_NAME, info.version, storage, stored.key, sha256=info.sha256,
        warm_up_inputs=inputs([warm[0][2]]), bucket_of=length_bucket,
    )  # fmt: skip


async def detect_source(
    served: ServedModel, source: str, path: str, threshold: float
) -> list[Detection]:
    """Detections of one source, one batched request per function (raises SyntaxError)."""
    prepared = prepare(source)
    results = await asyncio.gather(*(served.infer(inputs([p[2]])) for p in prepared))
    outputs = [
        unpad(p[2], (r["loc"][0], r["nobug"][0], r["repair"][0], r["pointer"][0]))
        for p, r in zip(prepared, results, strict=True)
    ]
    return verdicts(prepared, outputs, path, threshold)
