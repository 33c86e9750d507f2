"""Asynchronous inference: submit (202), run on a worker, cancel, read, expire.

A submitted job is a row plus an ``inference.job.requested`` outbox event, committed
together. The worker moves it ``queued → running`` (visible at once on PostgreSQL), runs the
model, and in one transaction moves it ``running → succeeded`` *and* records its usage event
and an ``inference.job.finished`` event: a job cancelled meanwhile, or finished by another
delivery of the same event, is never billed, and a finished one is billed once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, Unprocessable
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from forgekit.identity.security import new_secret
from forgekit.webhooks.netguard import BlockedDestinationError, check_url
from forgekit.webhooks.secretbox import SecretBox
from modelhub.events import JOB_REQUESTED, JobEvent
from modelhub.inference.schemas import InferRequest
from modelhub.inference.service import inference
from modelhub.inference.tensors import inputs_digest
from modelhub.jobs.models import FINAL, InferenceJob, JobStatus
from modelhub.jobs.repository import JobRepository
from modelhub.jobs.schemas import JobCreated, JobRead
from modelhub.registry.models import MarketModel
from modelhub.runtime import ModelhubRuntime
from modelhub.versions.models import ModelVersion

JOB_NOT_FOUND = "Job not found."
#: The HKDF label callback secrets are encrypted under (changing it loses them).
SECRETS_PURPOSE = b"modelhub.jobs.callbacks.v1"


def secret_box(runtime: ModelhubRuntime) -> SecretBox:
    """The box callback secrets are stored in."""
    return SecretBox(runtime.settings.secret_key.get_secret_value(), SECRETS_PURPOSE)


def to_read(job: InferenceJob, slug: str) -> JobRead:
    """The API view of a job."""
    return JobRead(
        id=job.id, status=job.status, model=slug, version=job.version,
        request_id=job.request_id, created_at=job.created_at, started_at=job.started_at,
        finished_at=job.finished_at, expires_at=job.expires_at, result=job.result,
        error=job.error, callback_url=job.callback_url,
    )  # fmt: skip


class JobService:
    """Submit, read and cancel jobs (the worker side is :mod:`modelhub.jobs.tasks`)."""

    def _callback(self, runtime: ModelhubRuntime, url: str | None) -> tuple[str, str] | None:
        if url is None:
            return None
        try:
            check_url(url, allow_private=runtime.app_settings.callbacks_allow_private_networks)
        except BlockedDestinationError as exc:
            raise Unprocessable(f"callback_url refused: {exc}") from None
        secret = "whsec_" + new_secret()
        return secret, secret_box(runtime).encrypt(secret)

    async def submit(
        self,
        session: AsyncSession,
        runtime: ModelhubRuntime,
        principal: Principal,
        model: MarketModel,
        version: ModelVersion,
        body: InferRequest,
        request_id: str,
    ) -> tuple[JobCreated, bool]:
        """Queue a checked call; returns the job and False when the request id already had
        one (the same inputs: that job; other inputs: 409)."""
        digest = inputs_digest(inference.decode(runtime, version, body))
        callback = self._callback(runtime, body.callback_url)
        # Read before the insert: a rollback on a duplicate expires every loaded object.
        consumer_id, slug = principal.user_id, model.slug
        job = InferenceJob(
            id=uuid.uuid4(), consumer_id=principal.user_id, model_id=model.id,
            version=version.version, request_id=request_id,
            api_key_id=principal.api_key.id if principal.api_key is not None else None,
            status=JobStatus.QUEUED.value,
            request=body.model_dump(mode="json", exclude={"callback_url"}),
            input_sha256=digest, callback_url=body.callback_url,
            callback_secret=callback[1] if callback else None, created_at=utcnow(),
        )  # fmt: skip
        session.add(job)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            existing = await JobRepository(session).by_request(consumer_id, request_id)
            if existing is None or existing.input_sha256 != digest:
                raise Conflict("This Idempotency-Key was used with other inputs.",
                               request_id=request_id) from None  # fmt: skip
            return JobCreated(**to_read(existing, slug).model_dump()), False
        await enqueue(session, JOB_REQUESTED,
                      JobEvent(job_id=job.id, model_id=model.id, status=job.status))  # fmt: skip
        await session.commit()
        created = JobCreated(**to_read(job, model.slug).model_dump(),
                             callback_secret=callback[0] if callback else None)  # fmt: skip
        return created, True

    async def get(
        self, session: AsyncSession, principal: Principal, job_id: uuid.UUID
    ) -> tuple[InferenceJob, MarketModel]:
        """The caller's job (an admin's: any), unexpired; 404 otherwise."""
        job = await session.get(InferenceJob, job_id, populate_existing=True)
        if job is None or (job.consumer_id != principal.user_id and not principal.is_admin):
            raise NotFound(JOB_NOT_FOUND)
        if job.expires_at is not None and job.expires_at <= utcnow():
            raise NotFound(JOB_NOT_FOUND)
        model = await session.get(MarketModel, job.model_id)
        if model is None:  # pragma: no cover - jobs go with their model (cascade)
            raise NotFound(JOB_NOT_FOUND)
        return job, model

    async def cancel(
        self,
        session: AsyncSession,
        runtime: ModelhubRuntime,
        principal: Principal,
        job_id: uuid.UUID,
    ) -> JobRead:
        """Cancel a queued or running job (its result, if the model finishes, is dropped and
        never billed); 409 once it has finished."""
        job, model = await self.get(session, principal, job_id)
        slug, now = model.slug, utcnow()
        retention = timedelta(seconds=runtime.app_settings.job_retention_s)
        moved = await JobRepository(session).move(
            job.id, (JobStatus.QUEUED.value, JobStatus.RUNNING.value),
            status=JobStatus.CANCELLED.value, finished_at=now, expires_at=now + retention,
        )  # fmt: skip
        await session.commit()
        await session.refresh(job)
        if not moved and job.status in FINAL and job.status != JobStatus.CANCELLED.value:
            raise Conflict(f"The job has {job.status} already.", job_status=job.status)
        return to_read(job, slug)


jobs = JobService()
