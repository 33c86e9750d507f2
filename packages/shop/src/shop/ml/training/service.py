"""The training service: train, log the run, register the version, promote only if better.

A run trains a candidate on the data window, then measures the active version on the *same*
held-out window (:func:`shop.ml.training.trainers.rescore`); the candidate becomes active
only when it beats that figure. Either way the run is logged with its parameters, metrics,
window and model hash, and the candidate is registered (``rejected`` when not promoted). The
last :data:`KEEP_STANDBY` former active versions stay for rollback.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound
from forgekit.events.outbox import enqueue
from forgekit.storage import ObjectStorage
from shop.ml.bundle import Candidate
from shop.ml.events import SENTIMENT_SCORE_REQUESTED, SentimentScoreRequested
from shop.ml.models import MlModelVersion, MlRun, VersionState
from shop.ml.training import repository
from shop.ml.training.trainers import KINDS, rescore, train

KEEP_STANDBY = 3


def check_kind(kind: str) -> str:
    """``kind`` if it is a model kind, else a 404 problem."""
    if kind not in KINDS:
        raise NotFound(f"No model kind {kind!r}; kinds are {', '.join(KINDS)}.")
    return kind


def beats(candidate: Candidate, active_score: float | None) -> bool:
    """Whether the candidate is strictly better than the active version on the same window."""
    if active_score is None:
        return True
    if candidate.higher_is_better:
        return candidate.score > active_score
    return candidate.score < active_score


async def read_files(storage: ObjectStorage, version: MlModelVersion) -> dict[str, bytes]:
    """A version's files from object storage."""
    return {name: await storage.read(key) for name, key in version.files.items()}


async def _active_score(
    session: AsyncSession, storage: ObjectStorage, kind: str, data: Any
) -> tuple[float | None, int | None]:
    active = await repository.active_version(session, kind)
    if active is None:
        return None, None
    files = await read_files(storage, active)
    score = await asyncio.to_thread(rescore, kind, files, active.card, data)
    return score, active.version


async def run_training(
    session: AsyncSession, storage: ObjectStorage, kind: str, data: Any, params: Any = None
) -> MlRun:
    """Train ``kind`` on ``data``, then :func:`register` it in ``session`` (caller commits)."""
    check_kind(kind)
    candidate = await asyncio.to_thread(train, kind, data, params)
    return await register(session, storage, candidate, data)


async def register(
    session: AsyncSession,
    storage: ObjectStorage,
    candidate: Candidate,
    data: Any,
    job_id: str | None = None,
) -> MlRun:
    """Log the run of a trained candidate, register it, and promote it if it beats the active
    version on ``data``'s held-out window. The caller commits ``session``."""
    kind = candidate.kind
    active_score, active_version = await _active_score(session, storage, kind, data)
    promote = beats(candidate, active_score)
    keys = {name: (await storage.put_bytes(blob)).key for name, blob in candidate.files.items()}
    main_file = "model.onnx" if "model.onnx" in candidate.files else next(iter(candidate.files))
    sha = hashlib.sha256(candidate.files[main_file]).hexdigest()
    number = await repository.next_version(session, kind)
    card = {**candidate.card, "version": number, "sha256": sha, "files": keys,
            "compared_with": {"version": active_version, "score": active_score}}  # fmt: skip
    if promote:
        await _demote_active(session, kind)
    version = MlModelVersion(
        kind=kind, version=number, files=keys, card=card, primary_metric=candidate.primary,
        score=candidate.score, sha256=sha, promoted_at=utcnow() if promote else None,
        state=VersionState.ACTIVE if promote else VersionState.REJECTED,
    )  # fmt: skip
    session.add(version)
    run = MlRun(
        kind=kind, outcome="promoted" if promote else "kept", params=candidate.params,
        metrics=candidate.metrics, data_window=candidate.window,
        synthetic=bool(candidate.card["data"]["synthetic"]),
        primary_metric=candidate.primary, score=candidate.score, active_score=active_score,
        model_sha256=sha, version=number, finished_at=utcnow(), job_id=job_id,
    )  # fmt: skip
    session.add(run)
    await _retire_old(session, kind)
    if promote and kind == "sentiment":
        # Reviews written while no model was promoted wait unscored: the worker catches up
        # (committed with the promotion, so a rolled-back run asks for nothing).
        await enqueue(session, SENTIMENT_SCORE_REQUESTED, SentimentScoreRequested())
    await session.flush()
    return run


async def _demote_active(session: AsyncSession, kind: str) -> None:
    active = await repository.active_version(session, kind)
    if active is not None:
        active.state = VersionState.STANDBY
        await session.flush()  # before the new active row: one active per kind


async def _retire_old(session: AsyncSession, kind: str) -> None:
    await session.flush()
    for old in (await repository.standby_versions(session, kind))[KEEP_STANDBY:]:
        old.state = VersionState.RETIRED


async def rollback(session: AsyncSession, kind: str) -> MlModelVersion:
    """Retire the active version and reactivate the newest standby one (409 when none);
    commits."""
    check_kind(kind)
    standby = await repository.standby_versions(session, kind)
    if not standby:
        raise Conflict(f"No earlier {kind} version is kept to roll back to.")
    active = await repository.active_version(session, kind)
    if active is not None:
        active.state = VersionState.RETIRED
        await session.flush()
    target = standby[0]
    target.state = VersionState.ACTIVE
    target.promoted_at = utcnow()
    await session.commit()
    return target
