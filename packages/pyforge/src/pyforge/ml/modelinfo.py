"""The shipped model's metadata (``models/bugs.json``), readable without numpy or ONNX Runtime."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MODEL_DIR = Path(__file__).parent / "models"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The shipped model's metadata (from ``bugs.json``)."""

    name: str
    version: str
    sha256: str
    threshold: float
    path: Path


def model_info(model_dir: Path = MODEL_DIR) -> ModelInfo:
    """Read the metadata of the shipped model."""
    meta = json.loads((model_dir / "bugs.json").read_text())
    return ModelInfo(meta["name"], meta["version"], meta["sha256"], float(meta["threshold"]),
                     model_dir / meta["file"])  # fmt: skip
