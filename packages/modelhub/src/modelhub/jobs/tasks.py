"""The worker side of jobs: run them, send their completion webhooks, expire them.

``inference.jobs`` runs a requested job; ``inference.callbacks`` POSTs the signed completion
webhook (``Modelhub-Signature: t=…,v1=…``, the kit's scheme) and raises on a retryable
failure, so the bus retries it with backoff; the janitor deletes jobs past their retention.
Both consumers are idempotent: a redelivered event finds the job finished and does nothing
(the run), or sends the same webhook again under the same delivery id (the callback).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import ProblemError
from forgekit.events import Event
from forgekit.events.outbox import enqueue
from forgekit.periodic import PeriodicJob
from forgekit.webhooks.outbound import OutboundHttp
from forgekit.webhooks.signing import WebhookHeaders, signature_header
from modelhub.events import JOB_FINISHED, JOB_REQUESTED, JobEvent
from modelhub.inference.schemas import InferRequest, InferResult
from modelhub.inference.service import inference
from modelhub.inference.tensors import Array
from modelhub.jobs.models import InferenceJob, JobStatus
from modelhub.jobs.repository import JobRepository
from modelhub.jobs.service import secret_box, to_read
from modelhub.registry.models import MarketModel
from modelhub.usage.models import UsageEvent
from modelhub.usage.service import usage
from modelhub.versions.repository import VersionRepository

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime

log = logging.getLogger("modelhub.jobs")

#: ``Modelhub-Signature``, ``Modelhub-Delivery``, ``Modelhub-Event``.
WEBHOOK_HEADERS = WebhookHeaders.for_product("Modelhub")
RUN_CONSUMER = "inference.jobs"
CALLBACK_CONSUMER = "inference.callbacks"


class CallbackFailed(Exception):
    """A completion webhook failed in a way worth retrying (the bus redelivers)."""


class JobRunner:
    """Runs requested jobs in the worker role."""

    def __init__(self, runtime: ModelhubRuntime) -> None:
        self.runtime = runtime

    async def _start(self, session: AsyncSession, job_id: uuid.UUID) -> None:
        values: dict[str, Any] = {"status": JobStatus.RUNNING.value, "started_at": utcnow()}
        if self.runtime.db.is_sqlite:
            # SQLite has one writer and this handler's transaction holds it: the move
            # commits with the result (embedded mode shows ``queued`` until then).
            await JobRepository(session).move(job_id, (JobStatus.QUEUED.value,), **values)
            return
        async with self.runtime.db.transaction() as own:
            await JobRepository(own).move(job_id, (JobStatus.QUEUED.value,), **values)

    async def _run(
        self, session: AsyncSession, job: InferenceJob
    ) -> tuple[dict[str, Any] | None, str | None, int]:
        model = await session.get(MarketModel, job.model_id)
        version = await VersionRepository(session).by_version(job.model_id, job.version)
        if model is None or version is None:
            return None, "The model version no longer exists.", 0
        body = InferRequest.model_validate(job.request)
        try:
            arrays: list[dict[str, Array]] = inference.decode(self.runtime, version, body)
            started = asyncio.get_running_loop().time()
            results = await inference.compute(self.runtime, model, version, arrays,
                                              body.output_format)  # fmt: skip
            compute_ms = round((asyncio.get_running_loop().time() - started) * 1000)
        except ProblemError as exc:
            return None, exc.detail, 0
        if body.inputs is not None:
            return {"outputs": results[0]}, None, compute_ms
        return {"results": [InferResult(outputs=r).model_dump() for r in results]}, None, compute_ms

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Run the job of an ``inference.job.requested`` event (once; redeliveries of a
        finished job do nothing)."""
        request = JOB_REQUESTED.parse(event)
        job = await session.get(InferenceJob, request.job_id)
        if job is None or job.status not in (JobStatus.QUEUED.value, JobStatus.RUNNING.value):
            return
        await self._start(session, job.id)
        if self.runtime.app_settings.job_halt_when_running:
            # Tests kill the worker here (MODELHUB_JOB_HALT_WHEN_RUNNING); never in production.
            log.warning("job %s halted while running (test hook)", job.id)
            await asyncio.Event().wait()
        result, error, compute_ms = await self._run(session, job)
        now = utcnow()
        status = JobStatus.SUCCEEDED if error is None else JobStatus.FAILED
        retention = timedelta(seconds=self.runtime.app_settings.job_retention_s)
        moved = await JobRepository(session).move(
            job.id, (JobStatus.RUNNING.value,), status=status.value, result=result, error=error,
            finished_at=now, expires_at=now + retention,
        )  # fmt: skip
        if not moved:
            return  # cancelled meanwhile: the result is dropped, nothing is billed
        model = await session.get(MarketModel, job.model_id)
        if status is JobStatus.SUCCEEDED and model is not None:
            await usage.meter(session, model, _usage_event(job, result or {}, compute_ms, now))
        finished = JobEvent(job_id=job.id, model_id=job.model_id, status=status.value)
        await enqueue(session, JOB_FINISHED, finished)


def _usage_event(
    job: InferenceJob, result: dict[str, Any], compute_ms: int, now: datetime
) -> UsageEvent:
    """The usage event of a finished job (its request id is the job's: counted once)."""
    items = len(result["results"]) if "results" in result else 1
    return UsageEvent(
        id=uuid.uuid4(), consumer_id=job.consumer_id, model_id=job.model_id,
        version=job.version, request_id=job.request_id, api_key_id=job.api_key_id,
        input_sha256=job.input_sha256, items=items, compute_ms=compute_ms,
        latency_ms=round((now - job.created_at).total_seconds() * 1000), cached=False,
        occurred_at=now, recorded_at=now,
    )  # fmt: skip


class CallbackSender:
    """POSTs signed completion webhooks."""

    def __init__(self, runtime: ModelhubRuntime) -> None:
        self.runtime = runtime
        settings = runtime.app_settings
        self.http = OutboundHttp(
            timeout_s=settings.callback_timeout_s, max_response_bytes=4096,
            allow_private=settings.callbacks_allow_private_networks,
            user_agent=WEBHOOK_HEADERS.user_agent,
        )  # fmt: skip

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Send the webhook of an ``inference.job.finished`` event, if the job asked for one."""
        finished = JOB_FINISHED.parse(event)
        job = await session.get(InferenceJob, finished.job_id)
        if job is None or not job.callback_url or not job.callback_secret:
            return
        model = await session.get(MarketModel, job.model_id)
        slug = model.slug if model is not None else str(job.model_id)
        body = json.dumps({"id": str(event.id), "type": event.type,
                           "job": to_read(job, slug).model_dump(mode="json")},
                          separators=(",", ":")).encode()  # fmt: skip
        secret = secret_box(self.runtime).decrypt(job.callback_secret)
        headers = {
            WEBHOOK_HEADERS.signature: signature_header(secret, body),
            WEBHOOK_HEADERS.delivery: str(event.id),
            WEBHOOK_HEADERS.event: event.type,
        }
        outcome = await self.http.post_json(job.callback_url, body, headers)
        if not outcome.ok:
            if outcome.retryable:
                raise CallbackFailed(outcome.error or f"HTTP {outcome.status_code}")
            log.warning(
                "callback of job %s refused: %s", job.id, outcome.error or outcome.status_code
            )

    async def start(self) -> None:
        """Nothing to start (the HTTP client opens on first use)."""

    async def stop(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    consumer_group: str | None = "inference"


class JobJanitor(PeriodicJob):
    """A background service: every ``job_janitor_interval_s``, delete expired jobs (every
    role runs it; a failed pass is logged and retried at the next interval)."""

    consumer_group: str | None = None
    name = "modelhub-job-janitor"

    def __init__(self, runtime: ModelhubRuntime) -> None:
        super().__init__(runtime.app_settings.job_janitor_interval_s)
        self.runtime = runtime

    async def sweep(self) -> int:
        """Delete what expired; how many jobs."""
        async with self.runtime.db.transaction() as session:
            return await JobRepository(session).delete_expired(utcnow())

    async def run_once(self) -> int:
        """One pass: :meth:`sweep`, logged."""
        deleted = await self.sweep()
        if deleted:
            log.info("deleted %d expired jobs", deleted)
        return deleted


def register(runtime: ModelhubRuntime) -> JobRunner:
    """Subscribe the job runner and the callback sender; add the janitor."""
    runner, sender = JobRunner(runtime), CallbackSender(runtime)
    runtime.events.subscribe(RUN_CONSUMER, [JOB_REQUESTED], runner.handle, prefetch=8)
    runtime.events.subscribe(CALLBACK_CONSUMER, [JOB_FINISHED], sender.handle)
    runtime.services.extend([sender, JobJanitor(runtime)])
    return runner
