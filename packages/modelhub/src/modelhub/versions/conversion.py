"""A version's conversion to ONNX: its state, and the worker job that runs the sandbox.

The state lives in the version's JSON metadata (``model_versions.signature``) under the key
``conversion``: ``{"status": "pending|succeeded|failed", "reason", "source", "onnx_sha256",
"onnx_size"}``. Keeping it there needs no schema change; the API shows it as its own field and
the signature of a converted model is the converted ONNX graph's.

The job is the ``conversion.runner`` consumer of ``model.version.conversion_requested``
(``modelhub worker --queues conversion`` runs it alone). On PostgreSQL the outcome is written
in the delivery's transaction, so a worker that dies mid-conversion leaves no record and the
broker redelivers. SQLite has one writer: holding the delivery transaction through seconds of
conversion would stall the API, so there the claim commits at once and the conversion goes on
in a background task of the process that writes its outcome in its own transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event
from forgekit.events.outbox import enqueue
from modelhub.events import (
    CONVERSION_FINISHED,
    CONVERSION_REQUESTED,
    ConversionFinished,
    ConversionRequested,
)
from modelhub.registry.models import MarketModel
from modelhub.registry.service import event_fields
from modelhub.versions.convert import CONVERTIBLE, Limits, Outcome, convert
from modelhub.versions.models import ModelVersion

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime
    from modelhub.settings import ModelhubSettings

log = logging.getLogger("modelhub.conversion")

CONSUMER = "conversion.runner"
KEY = "conversion"
_READ_BLOCK = 1024 * 1024


class ConversionStatus(StrEnum):
    """Where a version's conversion to ONNX stands."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def state(version: ModelVersion) -> dict[str, Any] | None:
    """The version's conversion record, or None for a file that needs none."""
    value = (version.signature or {}).get(KEY)
    return value if isinstance(value, dict) else None


def public_signature(version: ModelVersion) -> dict[str, Any]:
    """The input/output signature without the conversion record."""
    return {k: v for k, v in (version.signature or {}).items() if k != KEY}


def onnx_key(version: ModelVersion) -> str | None:
    """The storage key of the ONNX model hosted inference runs: the file itself, or the
    converted one; None when the version cannot be served."""
    if version.format == "onnx" and version.format_note is None:
        return version.sha256
    record = state(version)
    if record is not None and record.get("status") == ConversionStatus.SUCCEEDED.value:
        return str(record["onnx_sha256"])
    return None


def mark_pending(version: ModelVersion, source: str, input_shape: list[int] | None) -> None:
    """Record that ``version`` waits for its conversion from ``source``."""
    version.format_note = "conversion to ONNX pending"
    version.signature = {KEY: {"status": ConversionStatus.PENDING.value, "source": source,
                               "reason": None, "input_shape": input_shape}}  # fmt: skip


async def request(session: AsyncSession, model_id: uuid.UUID, version: ModelVersion) -> None:
    """Enqueue the conversion job of a pending ``version`` (commits with the caller)."""
    record = state(version) or {}
    await enqueue(session, CONVERSION_REQUESTED, ConversionRequested(
        model_id=model_id, version_id=version.id, kind=CONVERTIBLE[record["source"]],
        input_shape=record.get("input_shape")))  # fmt: skip


def limits_of(settings: ModelhubSettings) -> Limits:
    """The sandbox limits the settings give."""
    return Limits(cpu_s=settings.convert_cpu_s, wall_s=settings.convert_wall_s,
                  memory_bytes=settings.convert_memory_bytes,
                  unavailable=tuple(settings.convert_unavailable))  # fmt: skip


def _apply(version: ModelVersion, outcome: Outcome, stored: tuple[str, int] | None) -> None:
    record = dict(state(version) or {})
    if outcome.status == "succeeded" and stored is not None and outcome.detected is not None:
        record.update(status=ConversionStatus.SUCCEEDED.value, reason=None,
                      onnx_sha256=stored[0], onnx_size=stored[1])  # fmt: skip
        version.signature = {**outcome.detected.signature, KEY: record}
        version.format_note = None
        return
    reason = outcome.reason or "unknown error"
    if outcome.status != "unsupported":
        reason = f"conversion to ONNX failed: {reason}"
    record.update(status=ConversionStatus.FAILED.value, reason=reason)
    version.signature = {KEY: record}
    prefix = "unsupported for hosted inference"
    version.format_note = reason if reason.startswith(prefix) else f"{prefix}: {reason}"


async def _file_blocks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while block := await asyncio.to_thread(fh.read, _READ_BLOCK):
            yield block


class Converter:
    """The ``conversion.runner`` handler and, on SQLite, its background conversions."""

    consumer_group: str | None = "conversion"

    def __init__(self, runtime: ModelhubRuntime) -> None:
        self.runtime = runtime
        self._detached: set[asyncio.Task[None]] = set()
        # One conversion at a time per process: each may take gigabytes of memory.
        self._gate = asyncio.Semaphore(1)

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Convert the version named by a ``model.version.conversion_requested`` event."""
        request = CONVERSION_REQUESTED.parse(event)
        version = await session.get(ModelVersion, request.version_id)
        record = state(version) if version is not None else None
        if record is None or record.get("status") != ConversionStatus.PENDING.value:
            return  # deleted, or converted already (a redelivery)
        assert version is not None  # narrowed by the record above, for mypy
        if self.runtime.db.is_sqlite:
            self._detach(version.id, request.kind, request.input_shape)
            return
        outcome = await self._convert(version.sha256, request.kind, request.input_shape)
        await self._record(session, version.id, outcome)

    async def run(self, version_id: uuid.UUID, kind: str, shape: list[int] | None) -> None:
        """Convert and record in a transaction of its own (the SQLite path; tests)."""
        async with self._gate:
            async with self.runtime.db.session() as session:
                version = await session.get(ModelVersion, version_id)
            if version is None:
                return
            outcome = await self._convert(version.sha256, kind, shape)
            async with self.runtime.db.transaction() as session:
                await self._record(session, version_id, outcome)

    def _detach(self, version_id: uuid.UUID, kind: str, shape: list[int] | None) -> None:
        task = asyncio.create_task(self._run_logged(version_id, kind, shape))
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)

    async def _run_logged(self, version_id: uuid.UUID, kind: str, shape: list[int] | None) -> None:
        try:
            await self.run(version_id, kind, shape)
        except Exception:
            # Stays pending; a later request (or a new upload) converts it again.
            log.exception("conversion of version %s failed to complete", version_id)

    async def _convert(self, sha256: str, kind: str, shape: list[int] | None) -> Outcome:
        storage = self.runtime.storage
        with tempfile.TemporaryDirectory(prefix="modelhub-convert-") as tmp:
            source, work = Path(tmp) / "input", Path(tmp) / "work"
            work.mkdir()
            await storage.download_to(sha256, source)
            outcome = await convert(kind, source, work, limits_of(self.runtime.app_settings), shape)
            if outcome.onnx is not None:
                stored = await storage.put_stream(
                    _file_blocks(outcome.onnx), max_size=outcome.onnx.stat().st_size
                )
                outcome.extra["stored"] = (stored.key, stored.size)
        return outcome

    async def _record(self, session: AsyncSession, version_id: uuid.UUID, outcome: Outcome) -> None:
        version = await session.get(ModelVersion, version_id, with_for_update=True,
                                    populate_existing=True)  # fmt: skip
        record = state(version) if version is not None else None
        if version is None or record is None or record.get("status") != "pending":
            return
        _apply(version, outcome, outcome.extra.get("stored"))
        model = await session.get(MarketModel, version.model_id)
        if model is not None:
            final = state(version) or {}
            await enqueue(session, CONVERSION_FINISHED, ConversionFinished(
                **event_fields(model), version=version.version, conversion=final["status"],
                reason=final.get("reason")))  # fmt: skip
        log.info("version %s conversion %s", version_id, (state(version) or {}).get("status"))

    async def start(self) -> None:
        """On SQLite, request again the conversions a stopped process left pending (their
        claims committed at once, so no broker redelivers them)."""
        if self.runtime.db.is_sqlite:
            try:
                resumed = await self.resume()
            except Exception:
                # Starting must not fail over this; the next start tries again.
                log.exception("resuming pending conversions failed")
                return
            if resumed:
                log.info("requested %d pending conversions again", resumed)

    async def resume(self) -> int:
        """Enqueue a new request for every version whose conversion is pending; the count."""
        async with self.runtime.db.transaction() as session:
            rows = await session.scalars(
                select(ModelVersion).where(ModelVersion.format.in_(list(CONVERTIBLE)))
            )
            pending = [v for v in rows if (state(v) or {}).get("status") == "pending"]
            for version in pending:
                await request(session, version.model_id, version)
        return len(pending)

    async def stop(self) -> None:
        """Cancel background conversions (their sandboxes are killed)."""
        for task in list(self._detached):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._detached, return_exceptions=True)


def register(runtime: ModelhubRuntime) -> Converter:
    """Subscribe the converter (one conversion at a time per process)."""
    converter = Converter(runtime)
    runtime.events.subscribe(CONSUMER, [CONVERSION_REQUESTED], converter.handle, prefetch=1)
    runtime.services.append(converter)
    return converter
