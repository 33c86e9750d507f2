"""Model versions on disk: promote a trained model (only when it is not worse), roll back.

``<data_dir>/models/<version>/`` holds each promoted model (``model.onnx`` and its card);
``<data_dir>/models/ACTIVE`` lists the promoted versions, the last one live. Without any, the
shipped default (synthetic species) serves; ``AQUA_MODEL_PATH`` overrides everything. A
server loads the active model when it starts: restart (or roll) the API and workers after a
promotion.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from aquaculture.settings import AquacultureSettings

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "model"


class PromotionRefused(Exception):
    """The candidate's validation accuracy is below the live model's."""


def _models(settings: AquacultureSettings) -> Path:
    return settings.data_dir / "models"


def history(settings: AquacultureSettings) -> list[str]:
    """Promoted versions, oldest first (the last is live)."""
    active = _models(settings) / "ACTIVE"
    return active.read_text().split() if active.is_file() else []


def active_dir(settings: AquacultureSettings) -> Path:
    """The directory of the model to serve."""
    if settings.model_path is not None:
        return settings.model_path
    versions = history(settings)
    return _models(settings) / versions[-1] if versions else DEFAULT_MODEL_DIR


def read_card(directory: Path) -> dict[str, Any]:
    """A model directory's card."""
    card: dict[str, Any] = json.loads((directory / "card.json").read_text())
    return card


def promote(settings: AquacultureSettings, candidate: Path, *, force: bool = False) -> str:
    """Make ``candidate`` (a ``train`` output directory) the live model; returns its version.

    Refused (:class:`PromotionRefused`) when its validation accuracy is below the live
    model's, unless ``force``.
    """
    card, live = read_card(candidate), read_card(active_dir(settings))
    new, old = card["metrics"]["val_accuracy"], live["metrics"]["val_accuracy"]
    if new < old and not force:
        raise PromotionRefused(
            f"{card['version']} has validation accuracy {new:.4f}, "
            f"below the live {live['version']}'s {old:.4f}"
        )
    target = _models(settings) / card["version"]
    if not target.exists():
        shutil.copytree(candidate, target)
    versions = [v for v in history(settings) if v != card["version"]] + [card["version"]]
    (_models(settings) / "ACTIVE").write_text("\n".join(versions) + "\n")
    return str(card["version"])


def rollback(settings: AquacultureSettings) -> str:
    """Retire the live version; returns the version now live (``default`` for the shipped one)."""
    versions = history(settings)[:-1]
    (_models(settings) / "ACTIVE").write_text("\n".join(versions) + ("\n" if versions else ""))
    return versions[-1] if versions else "default"
