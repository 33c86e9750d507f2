"""Observations: upload (one image or a .zip batch), classify, store; history, counts,
CSV export, labels; batch jobs for the worker role."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture import events
from aquaculture.classifier.serving import Classifier, Prediction, classifier_of
from aquaculture.farms.service import authorize, get_tank
from aquaculture.observations.images import (
    CheckedImage,
    CleanImage,
    check_image,
    clean,
    is_zip,
    read_zip,
)
from aquaculture.observations.models import BatchJob, Correction, Observation
from aquaculture.observations.repository import (
    CorrectionRepository,
    HistoryFilter,
    JobRepository,
    ObservationRepository,
)
from aquaculture.observations.schemas import (
    CountPoint,
    JobRead,
    ModelInfo,
    ObservationRead,
    SpeciesCounts,
    UploadResult,
)
from aquaculture.permissions import Permission
from aquaculture.runtime import AquacultureRuntime
from aquaculture.settings import AquacultureSettings
from forgekit.csv_export import csv_text
from forgekit.db.base import utcnow
from forgekit.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from forgekit.pagination import Page

log = logging.getLogger("aquaculture.observations")

SYNTHETIC_NOTE = (
    "The default model knows SYNTHETIC species only (generated images, not real "
    "fish); train one on your photos with `aquaculture train --data DIR`."
)
URL_TTL_S = 3600
CSV_COLUMNS = (
    "id",
    "observed_at",
    "tank_id",
    "filename",
    "species",
    "confidence",
    "unsure",
    "label",
    "labelled_at",
    "model_version",
    "sha256",
)


@dataclass(frozen=True)
class Upload:
    """What an operator sent: the bytes, their file name and when the photo was taken."""

    data: bytes
    filename: str | None
    observed_at: datetime | None


def model_note(classifier: Classifier) -> str | None:
    """The warning every prediction of a synthetic-data model carries."""
    return SYNTHETIC_NOTE if classifier.card.synthetic else None


@dataclass(frozen=True)
class Classified:
    """An image cleaned, classified and stored: everything its observation row needs."""

    image: CleanImage
    prediction: Prediction
    original_key: str
    thumbnail_key: str


def _clean_all(
    images: Sequence[CheckedImage], settings: AquacultureSettings, size: int, skip_bad: bool
) -> list[CleanImage]:
    out = []
    for image in images:
        try:
            out.append(clean(image, settings, size))
        except UnsupportedMediaType:
            if not skip_bad:
                raise
            log.warning("skipped a damaged image in a batch: %s", image.filename)
    return out


async def classify_and_store(
    runtime: AquacultureRuntime, images: Sequence[CheckedImage], *, skip_bad: bool = False
) -> list[Classified]:
    """Clean, classify and store ``images`` (no database work: callers run this outside any
    transaction, so SQLite's single write lock is not held while the CPU works).

    An image that passed the header checks but fails to decode raises 415, or with
    ``skip_bad`` (a batch job, whose upload was already accepted) is left out.
    """
    classifier = classifier_of(runtime)
    size, settings = classifier.card.input_size, runtime.app_settings
    cleaned = await asyncio.to_thread(_clean_all, images, settings, size, skip_bad)
    return await _classify_and_store_clean(runtime, classifier, cleaned)


def _check_and_clean(upload: Upload, settings: AquacultureSettings, size: int) -> CleanImage:
    # One worker-thread call for a single upload: under load each hop waits for a thread.
    return clean(check_image(upload.data, settings, upload.filename), settings, size)


async def _classify_and_store_clean(
    runtime: AquacultureRuntime, classifier: Classifier, cleaned: Sequence[CleanImage]
) -> list[Classified]:
    if not cleaned:
        return []
    predicted = await classifier.classify(np.stack([c.pixels for c in cleaned]))
    # Every original and thumbnail written at once: each write waits on its fsync, and
    # waiting for them one by one was most of a single upload's latency.
    storage = runtime.storage
    stored = await asyncio.gather(*(
        put for image in cleaned for put in (
            storage.put_bytes(image.data, content_type=image.content_type),
            storage.put_bytes(image.thumbnail, content_type="image/jpeg"),
        )
    ))  # fmt: skip
    return [Classified(image, p, stored[2 * i].key, stored[2 * i + 1].key)
            for i, (image, p) in enumerate(zip(cleaned, predicted, strict=True))]  # fmt: skip


def add_observations(
    session: AsyncSession, farm_id: uuid.UUID, tank_id: uuid.UUID, done: Sequence[Classified],
    *, user_id: uuid.UUID | None, observed_at: datetime | None, job_id: uuid.UUID | None = None,
) -> list[Observation]:  # fmt: skip
    """The observation rows of classified images, added to ``session``."""
    rows = []
    for c in done:
        image, p = c.image, c.prediction
        row = Observation(
            id=uuid.uuid4(), farm_id=farm_id, tank_id=tank_id, job_id=job_id, created_by=user_id,
            filename=image.filename, sha256=c.original_key, thumbnail_sha256=c.thumbnail_key,
            content_type=image.content_type, width=image.width, height=image.height,
            observed_at=observed_at or utcnow(), created_at=utcnow(), species=p.species,
            confidence=p.confidence, unsure=p.unsure, top_k=p.top_k, model_version=p.model_version,
        )  # fmt: skip
        session.add(row)
        rows.append(row)
    return rows


def job_read(job: BatchJob) -> JobRead:
    """A job with its progress share."""
    read = JobRead.model_validate(job)
    read.progress = round((job.processed + job.failed) / job.total, 4) if job.total else 1.0
    return read


class ObservationService:
    """Upload, history, counts, labels and jobs."""

    async def upload(
        self,
        session: AsyncSession,
        runtime: AquacultureRuntime,
        principal: Principal,
        farm_id: uuid.UUID,
        tank_id: uuid.UUID,
        upload: Upload,
    ) -> UploadResult:
        """Check everything first (a refusal stores nothing), then classify now or queue a job."""
        await authorize(session, principal, farm_id, Permission.OBSERVATION_WRITE)
        await get_tank(session, farm_id, tank_id)
        classifier = classifier_of(runtime)
        user_id = principal.user_id  # read now: the rollback expires the session's objects
        # End the read transaction before the CPU work: on SQLite it holds the one write lock,
        # and every other request would queue behind this image's decoding.
        await session.rollback()
        settings = runtime.app_settings
        if not is_zip(upload.data):
            size = classifier.card.input_size
            image = await asyncio.to_thread(_check_and_clean, upload, settings, size)
            done = await _classify_and_store_clean(runtime, classifier, [image])
            return await self._record(session, runtime, (farm_id, tank_id), user_id, upload, done)
        images = await asyncio.to_thread(read_zip, upload.data, settings)
        if len(images) > settings.batch_inline_max:
            job = await self._queue(
                session, runtime, user_id, (farm_id, tank_id), upload, len(images)
            )
            return UploadResult(
                observations=[], job=job_read(job), model_note=model_note(classifier)
            )
        done = await classify_and_store(runtime, images)
        return await self._record(session, runtime, (farm_id, tank_id), user_id, upload, done)

    async def _record(
        self, session: AsyncSession, runtime: AquacultureRuntime,
        where: tuple[uuid.UUID, uuid.UUID], user_id: uuid.UUID, upload: Upload,
        done: Sequence[Classified],
    ) -> UploadResult:  # fmt: skip
        """The observations of images classified inline, committed, as the API answers."""
        rows = add_observations(session, *where, done, user_id=user_id,
                                observed_at=upload.observed_at)  # fmt: skip
        await session.commit()
        reads = [await self.read(runtime, r) for r in rows]
        return UploadResult(observations=reads, job=None,
                            model_note=model_note(classifier_of(runtime)))  # fmt: skip

    async def _queue(
        self,
        session: AsyncSession,
        runtime: AquacultureRuntime,
        user_id: uuid.UUID,
        where: tuple[uuid.UUID, uuid.UUID],
        upload: Upload,
        count: int,
    ) -> BatchJob:
        farm_id, tank_id = where
        stored = await runtime.storage.put_bytes(upload.data, content_type="application/zip")
        job = BatchJob(
            farm_id=farm_id,
            tank_id=tank_id,
            created_by=user_id,
            archive_sha256=stored.key,
            total=count,
            processed=0,
            failed=0,
            status="queued",
        )
        session.add(job)
        await session.flush()
        observed = upload.observed_at.isoformat() if upload.observed_at else None
        await enqueue(
            session,
            events.BATCH_SUBMITTED,
            events.BATCH_SUBMITTED.payload(
                job_id=job.id, farm_id=farm_id, tank_id=tank_id, images=count
            ),
            metadata={"observed_at": observed},
        )
        await session.commit()
        return job

    async def read(self, runtime: AquacultureRuntime, row: Observation) -> ObservationRead:
        """An observation with signed links to its image and thumbnail."""
        read = ObservationRead.model_validate(row)
        read.image_url = await runtime.storage.download_url(row.sha256, URL_TTL_S, row.filename)
        read.thumbnail_url = await runtime.storage.download_url(row.thumbnail_sha256, URL_TTL_S)
        return read

    async def history(
        self,
        session: AsyncSession,
        runtime: AquacultureRuntime,
        principal: Principal,
        farm_id: uuid.UUID,
        f: HistoryFilter,
        limit: int,
        offset: int,
    ) -> Page[ObservationRead]:
        """One page of a farm's observations, newest first."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        repo = ObservationRepository(session)
        rows, total = await repo.page(repo.history(farm_id, f), limit, offset)
        items = [await self.read(runtime, r) for r in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def export_csv(
        self,
        session: AsyncSession,
        principal: Principal,
        farm_id: uuid.UUID,
        f: HistoryFilter,
        limit: int,
    ) -> str:
        """The filtered history as CSV (cells that a spreadsheet would run are neutralised)."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        repo = ObservationRepository(session)
        rows = await repo.all(repo.history(farm_id, f).limit(limit))
        return csv_text(CSV_COLUMNS, ([getattr(r, c) for c in CSV_COLUMNS] for r in rows))

    async def counts(
        self,
        session: AsyncSession,
        principal: Principal,
        farm_id: uuid.UUID,
        tank_id: uuid.UUID,
        bucket: str,
        since: datetime | None,
        until: datetime | None,
    ) -> SpeciesCounts:
        """Observations per species and period for one tank (the label wins a prediction)."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        await get_tank(session, farm_id, tank_id)
        rows = await ObservationRepository(session).tank_species(tank_id, since, until)
        tally = Counter((_period(at, bucket), species) for at, species in rows)
        points = [CountPoint(period=p, species=s, count=n) for (p, s), n in sorted(tally.items())]
        return SpeciesCounts.model_validate(
            {"tank_id": tank_id, "bucket": bucket, "points": points}
        )

    async def get(
        self,
        session: AsyncSession,
        principal: Principal,
        farm_id: uuid.UUID,
        observation_id: uuid.UUID,
        permission: str = Permission.FARM_READ,
    ) -> Observation:
        """One observation of the farm."""
        await authorize(session, principal, farm_id, permission)
        row = await session.get(Observation, observation_id)
        if row is None or row.farm_id != farm_id:
            raise NotFound("Observation not found.")
        return row

    async def label(
        self,
        session: AsyncSession,
        principal: Principal,
        farm_id: uuid.UUID,
        observation_id: uuid.UUID,
        species: str,
    ) -> Observation:
        """Confirm (same species) or correct the prediction; the label becomes training data.
        Commits."""
        row = await self.get(
            session, principal, farm_id, observation_id, Permission.OBSERVATION_WRITE
        )
        action = "confirm" if species == row.species else "correct"
        now = utcnow()
        session.add(
            Correction(
                observation_id=row.id,
                action=action,
                predicted=row.species,
                species=species,
                created_by=principal.user_id,
                created_at=now,
            )
        )
        row.label, row.labelled_by, row.labelled_at = species, principal.user_id, now
        await enqueue(
            session,
            events.OBSERVATION_LABELLED,
            events.OBSERVATION_LABELLED.payload(
                observation_id=row.id,
                farm_id=farm_id,
                species=species,
                action=action,
                by=principal.user_id,
            ),
        )
        await session.commit()
        return row

    async def corrections(
        self,
        session: AsyncSession,
        principal: Principal,
        farm_id: uuid.UUID,
        observation_id: uuid.UUID,
    ) -> Sequence[Correction]:
        """Who confirmed or corrected an observation, and when."""
        await self.get(session, principal, farm_id, observation_id)
        return await CorrectionRepository(session).of_observation(observation_id)

    async def labelled_zip(
        self,
        session: AsyncSession,
        runtime: AquacultureRuntime,
        principal: Principal,
        farm_id: uuid.UUID,
        limit: int,
    ) -> bytes:
        """The farm's labelled images as an ImageFolder .zip (``<label>/src-<tank>__<id>.<ext>``),
        ready for ``aquaculture train --data`` (split by tank, the source)."""
        import zipfile

        await authorize(session, principal, farm_id, Permission.FARM_READ)
        repo = ObservationRepository(session)
        rows = await repo.all(repo.history(farm_id, HistoryFilter(labelled=True)).limit(limit))
        cap, total = runtime.app_settings.export_max_bytes, 0
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for n, r in enumerate(rows):
                total += await runtime.storage.size(r.sha256)
                if total > cap:
                    # The archive is built in memory: bound it, and say how to get the rest.
                    raise PayloadTooLarge(
                        f"The labelled data exceeds {cap} bytes; ask for limit={n}."
                    )
                ext = r.content_type.split("/")[1].replace("jpeg", "jpg")
                archive.writestr(
                    f"{r.label}/src-{r.tank_id.hex[:12]}__{r.id.hex}.{ext}",
                    await runtime.storage.read(r.sha256),
                )
        return out.getvalue()

    async def job(
        self, session: AsyncSession, principal: Principal, farm_id: uuid.UUID, job_id: uuid.UUID
    ) -> JobRead:
        """A batch job's status and progress."""
        await authorize(session, principal, farm_id, Permission.FARM_READ)
        job = await JobRepository(session).get(job_id)
        if job is None or job.farm_id != farm_id:
            raise NotFound("Job not found.")
        return job_read(job)

    def model(self, runtime: AquacultureRuntime) -> ModelInfo:
        """The served model's facts."""
        card = classifier_of(runtime).card
        note = SYNTHETIC_NOTE if card.synthetic else "Trained on the data its card describes."
        return ModelInfo(
            version=card.version,
            classes=card.classes,
            synthetic=card.synthetic,
            unsure_threshold=card.unsure_threshold,
            note=note,
            card=card.raw,
        )


def _period(at: datetime, bucket: str) -> str:
    at = at.astimezone(UTC)
    if bucket == "month":
        return f"{at:%Y-%m}"
    if bucket == "week":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{at:%Y-%m-%d}"


def parse_when(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 time (naive: UTC), or 422 naming the field."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Unprocessable(f"{field}: not an ISO 8601 date or time.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


observations = ObservationService()
