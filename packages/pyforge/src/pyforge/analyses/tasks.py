"""The ``analysis.runner`` consumer: runs the engine for ``analysis.requested`` events.

Delivery is at least once; the runner makes the effect exactly once:

* The final write (findings, metrics, status ``succeeded``/``failed``, events) happens in the
  kit's delivery transaction, together with the idempotency record. A worker killed mid-run
  commits none of it; the broker redelivers the unacked message and the next worker deletes
  any partial rows of the analysis before inserting, so one set of findings remains.
* ``running``, the attempt count and progress are written in separate short transactions so
  that clients see them while the engine runs.
* An engine error is re-raised so that the kit retries with backoff; the attempt that is the
  last the kit would make (``consumer_max_retries + 1``) records ``failed`` with the reason
  instead. Errors in the input (bad configuration, unreadable tree) fail at once.

**Embedded mode (SQLite)** has a single writer: every transaction holds the database's write
lock, so holding the delivery transaction open during a run would stall the whole API. There the
handler commits ``running`` with its claim and the run goes on in a background task of this
process, which writes the outcome in its own transaction and does its own retries
(re-enqueueing the request after the backoff); a process that died mid-run is noticed by the
missing heartbeat (progress updates) and its analysis re-queued by :meth:`AnalysisRunner.sweep`.

Test hook: ``PYFORGE_ANALYSIS_DELAY_S`` makes every run wait that long after it is marked
running (lets tests kill a worker mid-analysis); leave it at 0 in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import tomllib
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.events.consumer import retry_delay
from forgekit.events.envelope import Event
from forgekit.events.outbox import enqueue
from pyforge.analyses import service
from pyforge.analyses.models import Analysis, AnalysisStatus
from pyforge.analyses.repository import AnalysisRepository
from pyforge.analysis import AnalysisReport, ConfigError, InputError, analyze_paths
from pyforge.analysis.config import CONFIG_FILES, Config, config_from_table
from pyforge.events import ANALYSIS_COMPLETED, ANALYSIS_REQUESTED, AnalysisRequested
from pyforge.files.models import ProjectFile
from pyforge.files.service import materialize, snapshot, snapshot_digest
from pyforge.projects.models import Project
from pyforge.projects.schemas import ProjectSettings

if TYPE_CHECKING:
    from pyforge.runtime import PyForgeRuntime

log = logging.getLogger("pyforge.analyses")

CONSUMER = "analysis.runner"
CACHE_CONSUMER = "analysis.cache"


class _Progress:
    """Latest (done, total) reported by the engine thread; read by the event loop."""

    def __init__(self) -> None:
        self.value = (0, 0)

    def __call__(self, done: int, total: int) -> None:
        # Called from the engine's thread: a tuple assignment is atomic under the GIL.
        self.value = (done, total)


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def tree_table(root: Path) -> dict[str, Any]:
    """The ``[tool.pyforge]`` table at the top of the uploaded tree (empty when none).

    Only the tree's top directory is looked at, never its parents (the worker's temporary
    directory), and ``extend`` is dropped: it would name a file on the worker's disk.
    """
    for name in CONFIG_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: invalid TOML: {exc}") from None
        table = data.get("tool", {}).get("pyforge") if name == "pyproject.toml" else data
        if isinstance(table, dict):
            table.pop("extend", None)
            return table
    return {}


def engine_config(root: Path, project_table: Mapping[str, Any]) -> Config:
    """The tree's configuration with the project's ``settings.analysis`` on top."""
    return config_from_table(_merge(tree_table(root), project_table), root=root)


def run_engine(
    root: Path,
    project_table: Mapping[str, Any],
    *,
    jobs: int,
    progress: _Progress,
    cache_dir: Path | None,
) -> tuple[AnalysisReport, Config]:
    """Analyse the tree at ``root`` (blocking: call it in a thread)."""
    config = engine_config(root, project_table)
    report = analyze_paths(
        [root],
        config,
        jobs=jobs,
        progress=progress,
        use_cache=cache_dir is not None,
        cache_dir=cache_dir,
    )
    return report, config  # fmt: skip


async def _tree_of(session: AsyncSession, analysis: Analysis) -> list[ProjectFile]:
    """The tree to analyse: the uploaded branch tree of ``analysis``, else the project's files."""
    if analysis.manifest:
        return [ProjectFile(path=p, sha256=h) for p, h in sorted(analysis.manifest.items())]
    return [ProjectFile(path=f.path, sha256=f.sha256) for f in
            await snapshot(session, analysis.project_id)]  # fmt: skip


class AnalysisRunner:
    """The runner's handler and, in embedded mode, the sweep of abandoned runs."""

    consumer_group: str | None = "analysis"

    def __init__(self, runtime: PyForgeRuntime) -> None:
        self.runtime = runtime
        self._sweeper: asyncio.Task[None] | None = None
        self._detached: set[asyncio.Task[None]] = set()
        self._gate = asyncio.Semaphore(1)

    @property
    def embedded(self) -> bool:
        """True on SQLite (one writer: see the module docstring)."""
        return self.runtime.db.is_sqlite

    @property
    def max_attempts(self) -> int:
        """Runs an analysis gets: the kit's retries plus the first delivery."""
        return self.runtime.settings.consumer_max_retries + 1

    # --- the consumer ------------------------------------------------------------------------

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Run the analysis named by an ``analysis.requested`` event (idempotent)."""
        analysis_id = ANALYSIS_REQUESTED.parse(event).analysis_id
        current = await session.get(Analysis, analysis_id)
        if current is None or AnalysisStatus(current.status).terminal:
            return  # deleted with its project, or already ended: nothing to do
        project = await session.get(Project, current.project_id)
        if project is None or project.deleted_at is not None:
            await service.record_failure(session, current, "the project was deleted")
            return
        files = await _tree_of(session, current)
        table = dict(ProjectSettings.model_validate(project.settings or {}).analysis)
        if self.embedded:
            # One writer: running commits with the claim, the run goes on in the background.
            analysis = await service.mark_running(session, analysis_id, self.max_attempts)
            if analysis is not None:
                self._detach(analysis, files, table)
            return
        async with self.runtime.db.transaction() as s:
            analysis = await service.mark_running(s, analysis_id, self.max_attempts)
        if analysis is None:
            return
        await self._execute(session, analysis, files, table)

    async def _execute(
        self,
        session: AsyncSession,
        analysis: Analysis,
        files: list[ProjectFile],
        table: dict[str, Any],
    ) -> None:
        """Run the engine and write the outcome in ``session`` (the caller commits)."""
        analysis_id, attempt = analysis.id, analysis.attempts
        try:
            report, config = await self._run(analysis, files, table)
        except (ConfigError, InputError) as exc:
            # The input is wrong (configuration, tree): running it again cannot help.
            await self._fail(session, analysis_id, f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if attempt >= self.max_attempts:
                log.error("analysis %s failed on its last attempt: %s", analysis_id, reason)
                await self._fail(session, analysis_id, reason)
                return
            log.warning("analysis %s failed (attempt %d), will retry: %s",
                        analysis_id, attempt, reason)  # fmt: skip
            if not self.embedded:
                raise  # the kit retries with backoff, then dead-letters
            await self._requeue(session, analysis_id, attempt, reason)
            return
        row = await self._locked(session, analysis_id)
        if row is None:
            return
        outcome = await service.record_success(
            session, row, report, config.gate, digest=snapshot_digest(files),
            manifest={f.path: f.sha256 for f in files},
        )  # fmt: skip
        # Readers may refill the cache before this commits; analysis.cache deletes it again.
        await service.invalidate(self.runtime.cache, row.project_id)
        log.info(
            "analysis %s succeeded: %d findings (%d new, %d fixed), gate %s",
            analysis_id,
            outcome.findings,
            outcome.new,
            outcome.fixed,
            outcome.gate,
        )

    def _detach(self, analysis: Analysis, files: list[ProjectFile], table: dict[str, Any]) -> None:
        task = asyncio.create_task(self._run_detached(analysis, files, table))
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)

    async def _run_detached(
        self, analysis: Analysis, files: list[ProjectFile], table: dict[str, Any]
    ) -> None:
        # Embedded mode: one run at a time per process, like prefetch=1 on the broker.
        async with self._gate:
            try:
                async with self.runtime.db.transaction() as session:
                    await self._execute(session, analysis, files, table)
            except Exception:
                # Left running: the sweep re-queues it once its heartbeat is stale.
                log.exception("analysis %s: writing the outcome failed", analysis.id)

    async def _locked(self, session: AsyncSession, analysis_id: uuid.UUID) -> Analysis | None:
        row = await session.get(Analysis, analysis_id, with_for_update=True, populate_existing=True)
        if row is None or AnalysisStatus(row.status).terminal:
            return None
        return row

    async def _fail(self, session: AsyncSession, analysis_id: uuid.UUID, reason: str) -> None:
        row = await self._locked(session, analysis_id)
        if row is not None:
            await service.record_failure(session, row, reason)

    async def _requeue(
        self, session: AsyncSession, analysis_id: uuid.UUID, attempt: int, reason: str
    ) -> None:
        # Embedded retries: the claim is committed, so the kit's retry would be a duplicate.
        # The status write waits for the backoff, so clients see "running" meanwhile.
        await asyncio.sleep(retry_delay(self.runtime.settings.consumer_retry_base_s, attempt - 1))
        row = await self._locked(session, analysis_id)
        if row is None:
            return
        row.status = AnalysisStatus.QUEUED.value
        row.error = reason[: service.ERROR_MAX]
        await enqueue(
            session,
            ANALYSIS_REQUESTED,
            AnalysisRequested(project_id=row.project_id, analysis_id=row.id),
        )

    async def _run(
        self, analysis: Analysis, files: list[ProjectFile], table: dict[str, Any]
    ) -> tuple[AnalysisReport, Config]:
        settings = self.runtime.app_settings
        progress = _Progress()
        progress(0, len(files))
        monitor = asyncio.create_task(self._monitor(analysis, progress))
        try:
            if settings.analysis_delay_s > 0:
                await asyncio.sleep(settings.analysis_delay_s)
            with tempfile.TemporaryDirectory(prefix="pyforge-analysis-") as tmp:
                root = Path(tmp) / "tree"
                root.mkdir()
                await materialize(self.runtime.storage, files, root)
                cache_dir = (
                    settings.data_dir / "analysis-cache" if settings.analysis_cache else None
                )
                # A thread keeps the event loop serving (heartbeats, other consumers); the
                # engine itself fans out to processes when analysis_jobs > 1.
                return await asyncio.to_thread(
                    run_engine, root, table, jobs=settings.analysis_jobs, progress=progress,
                    cache_dir=cache_dir,
                )  # fmt: skip
        finally:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor

    async def _monitor(self, analysis: Analysis, progress: _Progress) -> None:
        """Write progress every interval (the heartbeat too); emit an event when it moved."""
        interval = self.runtime.app_settings.analysis_progress_interval_s
        reported: tuple[int, int] | None = None
        while True:
            await asyncio.sleep(interval)
            value = progress.value
            try:
                async with self.runtime.db.transaction() as s:
                    await service.record_progress(
                        s, analysis.id, value[0], value[1], emit=value != reported
                    )
                reported = value
            except Exception:
                # Progress is best effort: a failed update must not fail the analysis.
                log.warning("progress update of %s failed", analysis.id, exc_info=True)

    # --- cache invalidation ------------------------------------------------------------------

    async def invalidate(self, event: Event, session: AsyncSession) -> None:
        """Drop cached metrics once a completed analysis has committed."""
        await service.invalidate(self.runtime.cache, ANALYSIS_COMPLETED.parse(event).project_id)

    # --- embedded sweep (BackgroundService) ----------------------------------------------------

    async def start(self) -> None:
        """Start the sweep of abandoned runs (embedded mode only; brokers redeliver)."""
        if self.embedded:
            self._sweeper = asyncio.create_task(self._sweep_loop())

    async def stop(self) -> None:
        """Stop the sweep and abandon detached runs (the sweep re-queues them later)."""
        for task in list(self._detached):
            task.cancel()
        await asyncio.gather(*self._detached, return_exceptions=True)
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def _sweep_loop(self) -> None:
        stale_after = self.runtime.app_settings.analysis_stale_after_s
        while True:
            try:
                await self.sweep(stale_after)
            except Exception:
                log.warning("sweep of abandoned analyses failed", exc_info=True)
            await asyncio.sleep(max(1.0, stale_after / 2))

    async def sweep(self, stale_after_s: float) -> int:
        """Re-queue running analyses without a heartbeat for ``stale_after_s``; the count."""
        before = utcnow() - timedelta(seconds=stale_after_s)
        async with self.runtime.db.transaction() as s:
            rows = await AnalysisRepository(s).stale_running(before)
            for row in rows:
                log.warning("analysis %s was abandoned mid-run, re-queued", row.id)
                row.status = AnalysisStatus.QUEUED.value
                await enqueue(
                    s,
                    ANALYSIS_REQUESTED,
                    AnalysisRequested(project_id=row.project_id, analysis_id=row.id),
                )
        return len(rows)


def register(runtime: PyForgeRuntime) -> AnalysisRunner:
    """Subscribe the runner (one analysis at a time per process) and the cache invalidator."""
    runner = AnalysisRunner(runtime)
    runtime.events.subscribe(CONSUMER, [ANALYSIS_REQUESTED], runner.handle, prefetch=1)
    runtime.events.subscribe(CACHE_CONSUMER, [ANALYSIS_COMPLETED], runner.invalidate)
    runtime.services.append(runner)
    return runner
