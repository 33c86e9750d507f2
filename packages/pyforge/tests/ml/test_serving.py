"""The detector served through forgekit.inference gives what the direct session gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from forgekit.inference import InferenceRuntime, InferenceSettings
from forgekit.storage import LocalStorage
from pyforge.ml.detector import BugDetector
from pyforge.ml.modelinfo import model_info
from pyforge.ml.serving import detect_source, load_detector

from .test_detect_cli import CLEAN


async def test_batched_serving_matches_the_direct_session(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "blobs", "k" * 32, "http://test")
    registry = CollectorRegistry()
    runtime = InferenceRuntime(InferenceSettings(max_batch_size=8, max_queue_delay_ms=50.0),
                               registry=registry, namespace="pyforge")  # fmt: skip
    served = await load_detector(runtime, storage)
    assert served.version == model_info().version
    batched = await detect_source(served, CLEAN, "code.py", 0.0)
    direct = BugDetector().detect_source(CLEAN, "code.py", 0.0)
    assert [(d.function, d.line, d.column, d.repair) for d in batched] == [
        (d.function, d.line, d.column, d.repair) for d in direct
    ]
    for a, b in zip(batched, direct, strict=True):
        assert a.probability == pytest.approx(b.probability, abs=1e-3)
    # Both functions went to the model together: one batch of two.
    text = generate_latest(registry).decode()
    assert (
        f'pyforge_inference_batch_size_sum{{model="bugs",version="{served.version}"}} 2.0' in text
    )
    await runtime.close()
