"""The model registry: promote a trained model (only when it is not worse), roll back.

Versions live in the database (:class:`~aquaculture.classifier.models.ModelVersion`) with
their ONNX files in the kit's object storage, so every API and worker process, on any host,
agrees on the live one. Without a promoted version the shipped default (synthetic species)
serves; ``AQUA_MODEL_PATH`` pins a model directory and ignores the registry.

A promotion or rollback emits ``aquaculture.model.changed`` in its transaction; processes
switch to the new live version without a restart (:mod:`aquaculture.classifier.serving`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture import events
from aquaculture.classifier.models import ModelVersion
from aquaculture.settings import AquacultureSettings
from forgekit.db.base import utcnow
from forgekit.events.outbox import enqueue
from forgekit.storage import ObjectStorage

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "model"
#: The stamp of the shipped default (or of a pinned ``AQUA_MODEL_PATH``).
DEFAULT = "default"


class PromotionRefused(Exception):
    """The candidate's validation accuracy is below the live model's, or its files are not
    the model its card describes."""


@dataclass(frozen=True)
class LiveModel:
    """What a process should serve: the version stamp, the card and the ONNX file's key
    (``None``: read ``directory``'s files)."""

    stamp: str
    card: dict[str, Any]
    key: str | None = None
    directory: Path | None = None


def read_card(directory: Path) -> dict[str, Any]:
    """A model directory's card."""
    card: dict[str, Any] = json.loads((directory / "card.json").read_text())
    return card


async def live_row(session: AsyncSession) -> ModelVersion | None:
    """The live promoted version, if any."""
    stmt = (
        select(ModelVersion)
        .where(ModelVersion.retired_at.is_(None))
        .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
        .limit(1)
    )
    row: ModelVersion | None = await session.scalar(stmt)
    return row


async def live_model(session: AsyncSession, settings: AquacultureSettings) -> LiveModel:
    """The model to serve now (the registry's live version, else the default or the pin)."""
    if settings.model_path is not None:
        return LiveModel(DEFAULT, read_card(settings.model_path), directory=settings.model_path)
    row = await live_row(session)
    if row is None:
        return LiveModel(DEFAULT, read_card(DEFAULT_MODEL_DIR), directory=DEFAULT_MODEL_DIR)
    return LiveModel(row.version, row.card, key=row.sha256)


async def promote(
    session: AsyncSession, storage: ObjectStorage, settings: AquacultureSettings,
    candidate: Path, *, force: bool = False,
) -> str:  # fmt: skip
    """Make ``candidate`` (a ``train`` output directory) the live model; returns its version.

    Refused (:class:`PromotionRefused`) when its validation accuracy is below the live
    model's, unless ``force``. Stores the ONNX file, records the version and emits
    ``aquaculture.model.changed`` in the session's transaction (the caller commits).
    """
    card = read_card(candidate)
    live = await live_model(session, settings)
    new, old = float(card["metrics"]["val_accuracy"]), float(live.card["metrics"]["val_accuracy"])
    if new < old and not force:
        raise PromotionRefused(
            f"{card['version']} has validation accuracy {new:.4f}, "
            f"below the live {live.card['version']}'s {old:.4f}"
        )
    stored = await storage.put_bytes((candidate / "model.onnx").read_bytes())
    if stored.key != card["sha256"]:
        raise PromotionRefused(f"{candidate}/model.onnx is not the file its card describes")
    row = await session.scalar(select(ModelVersion).where(ModelVersion.version == card["version"]))
    if row is None:
        row = ModelVersion(version=card["version"], sha256=stored.key, card=card,
                           val_accuracy=new)  # fmt: skip
        session.add(row)
    row.promoted_at, row.retired_at = utcnow(), None
    await _announce(session, row.version, live.stamp)
    return row.version


async def rollback(session: AsyncSession) -> str:
    """Retire the live version; returns the version now live (``default`` for the shipped
    one). Emits ``aquaculture.model.changed``; the caller commits."""
    row = await live_row(session)
    if row is not None:
        row.retired_at = utcnow()
        await session.flush()
    after = await live_row(session)
    now_live = after.version if after is not None else DEFAULT
    await _announce(session, now_live, row.version if row is not None else DEFAULT)
    return now_live


async def _announce(session: AsyncSession, version: str, previous: str) -> None:
    payload = events.MODEL_CHANGED.payload(version=version, previous=previous)
    await enqueue(session, events.MODEL_CHANGED, payload)
