"""Rules and transactions of the analyses domain: queueing, reading, decisions, results.

Event payloads (the contract shared with notifications; every one has ``project_id`` as a
string and ``analysis_id``):

* ``analysis.requested`` ``{requested_by}``; ``analysis.started``;
  ``analysis.progress`` ``{files_done, files_total}`` (throttled);
* ``analysis.completed`` ``{status: "succeeded", duration_s, summary: {files, functions,
  findings: {blocker, critical, major, minor, info}}, quality_gate: {status, conditions:
  [{name, status, actual, threshold}]}, top_findings: [{rule, severity, message, path,
  line}], new_findings, fixed_findings}``;
* ``analysis.failed`` ``{reason}``;
* ``quality_gate.changed`` ``{previous, current}`` when the gate's status differs from the
  previous succeeded analysis', and on a project's first analysis when its gate fails
  (``previous`` is then null);
* ``finding.new_critical`` ``{findings: [{rule, severity, message, path, line}]}`` for new,
  open critical or blocker findings.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.cache import Cache
from forgekit.db.base import utcnow
from forgekit.errors import NotFound, Unprocessable
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from pyforge.access import project_for
from pyforge.analyses import metrics as m
from pyforge.analyses.models import (
    Analysis,
    AnalysisFinding,
    AnalysisStatus,
    FindingDecision,
    FindingStatus,
    NewCodeStatus,
    ProjectMetrics,
    Resolution,
)
from pyforge.analyses.repository import AnalysisRepository, FindingRepository, MetricsRepository
from pyforge.analyses.schemas import (
    AnalysisPage,
    AnalysisRead,
    FindingPage,
    FindingRead,
    MetricHistory,
    MetricPoint,
    Progress,
    ProjectMetricsRead,
)
from pyforge.analysis import AnalysisReport, Finding
from pyforge.analysis.config import GateConfig
from pyforge.branches import newcode as nc
from pyforge.branches.baseline import Baseline, default_branch, previous_analysis
from pyforge.branches.baseline import resolve as resolve_baseline
from pyforge.branches.models import Branch
from pyforge.branches.newcode import DUPLICATION_RULE
from pyforge.cache_keys import ANALYSIS_TTL, METRICS_TTL, analysis_key, metrics_key
from pyforge.events import (
    ANALYSIS_COMPLETED,
    ANALYSIS_FAILED,
    ANALYSIS_PROGRESS,
    ANALYSIS_REQUESTED,
    ANALYSIS_STARTED,
    FINDING_NEW_CRITICAL,
    QUALITY_GATE_CHANGED,
    AnalysisCompleted,
    AnalysisEvent,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisSummary,
    FindingBrief,
    NewCriticalFindings,
    QualityGateChanged,
)
from pyforge.permissions import Permission
from pyforge.predictions.repository import PredictionRepository
from pyforge.projects.models import Project

ANALYSIS_NOT_FOUND: Final = "Analysis not found."
FINDING_NOT_FOUND: Final = "Finding not found."
#: Most findings listed in ``analysis.completed``'s ``top_findings``.
TOP_FINDINGS: Final = 5
#: Longest error text kept on a failed analysis.
ERROR_MAX: Final = 2000
HISTORY_MAX: Final = 1000
RATING_KINDS: Final = ("reliability", "security", "maintainability")


# --- reading ----------------------------------------------------------------------------------


def analysis_read(a: Analysis) -> AnalysisRead:
    """The API form of an analysis."""
    return AnalysisRead(
        id=a.id,
        project_id=a.project_id,
        status=a.status,
        progress=Progress(files_done=a.files_done, files_total=a.files_total),
        attempts=a.attempts,
        summary=a.summary,
        quality_gate=a.gate,
        new_findings=a.new_findings,
        fixed_findings=a.fixed_findings,
        error=a.error,
        snapshot_digest=a.snapshot_digest,
        requested_by=a.requested_by,
        created_at=a.created_at,
        started_at=a.started_at,
        finished_at=a.finished_at,
        duration_s=a.duration_s,
        branch_id=a.branch_id,
        pull_request=a.pull_request,
        target_branch=a.target_branch,
        version=a.version,
        baseline_analysis_id=a.baseline_analysis_id,
        new_code=a.new_code,
    )


def _finding_read(f: AnalysisFinding, d: FindingDecision | None) -> FindingRead:
    return FindingRead(
        id=f.id, analysis_id=f.analysis_id, rule=f.rule, category=f.category,
        severity=f.severity, message=f.message, path=f.path, line=f.line, column=f.column,
        end_line=f.end_line, end_column=f.end_column, scope=f.scope, fingerprint=f.fingerprint,
        status=f.status, new_code_status=f.new_code_status,
        resolution=d.resolution if d else Resolution.OPEN.value,
        resolution_reason=d.reason if d else None,
    )  # fmt: skip


async def analysis_for(
    session: AsyncSession, principal: Principal, analysis_id: uuid.UUID, permission: Permission
) -> tuple[Analysis, Project]:
    """The analysis and its project when ``principal`` holds ``permission`` on the project.

    404 for an unknown analysis and for one whose project the caller cannot see.
    """
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None:
        raise NotFound(ANALYSIS_NOT_FOUND)
    try:
        project = await project_for(session, principal, analysis.project_id, permission)
    except NotFound:
        raise NotFound(ANALYSIS_NOT_FOUND) from None
    return analysis, project


@dataclass(frozen=True)
class Target:
    """What an analysis request analyses: a branch, maybe a pull request, maybe a version.

    ``manifest`` (path -> sha256) is an uploaded tree; None analyses the project's files.
    """

    branch: Branch | None = None
    pull_request: str | None = None
    version: str | None = None
    manifest: dict[str, str] | None = None


async def request_analysis(
    session: AsyncSession, principal: Principal, project: Project, target: Target | None = None
) -> Analysis:
    """Queue an analysis of ``project``'s current tree (or ``target``); commits with the event.

    Without a branch the analysis is of the default branch (created on first use).
    """
    target = target or Target()
    branch = target.branch or await default_branch(session, project.id)
    branch.last_analysis_at = utcnow()
    analysis = Analysis(
        id=uuid.uuid4(), project_id=project.id, requested_by=principal.user_id,
        status=AnalysisStatus.QUEUED.value, attempts=0, files_total=0, files_done=0,
        new_findings=0, fixed_findings=0, branch_id=branch.id,
        pull_request=target.pull_request, target_branch=branch.target,
        version=target.version, manifest=target.manifest,
    )  # fmt: skip
    session.add(analysis)
    await enqueue(
        session,
        ANALYSIS_REQUESTED,
        AnalysisRequested(
            project_id=project.id,
            analysis_id=analysis.id,
            requested_by=principal.user_id,
            branch=branch.name,
            pull_request=target.pull_request,
        ),
        metadata={"actor_id": str(principal.user_id)},
    )
    await session.commit()
    # No refresh: a fast in-process runner may already have moved it on; the answer is "queued".
    return analysis


async def get_analysis(
    session: AsyncSession, cache: Cache, principal: Principal, analysis_id: uuid.UUID
) -> AnalysisRead:
    """An analysis; an ended one is served from the cache (it never changes again)."""
    key = analysis_key(analysis_id)
    cached = await cache.get(key)
    if cached is not None:
        read = AnalysisRead.model_validate(cached)
        # The cache holds data, never access: the project is checked every time.
        try:
            await project_for(session, principal, read.project_id, Permission.PROJECT_READ)
        except NotFound:
            raise NotFound(ANALYSIS_NOT_FOUND) from None
        return read
    analysis, _ = await analysis_for(session, principal, analysis_id, Permission.PROJECT_READ)
    read = analysis_read(analysis)
    if AnalysisStatus(analysis.status).terminal:
        await cache.set(key, read.model_dump(mode="json"), ANALYSIS_TTL)
    return read


async def list_analyses(
    session: AsyncSession,
    project: Project,
    *,
    limit: int,
    offset: int,
    status: str | None,
    branch: str | None = None,
    pull_request: str | None = None,
) -> AnalysisPage:
    """A page of the project's analyses, newest first (of one branch or pull request)."""
    rows, total = await AnalysisRepository(session).page(
        project.id, limit=limit, offset=offset, status=status, branch=branch,
        pull_request=pull_request,
    )  # fmt: skip
    return AnalysisPage(
        items=[analysis_read(a) for a in rows], total=total, limit=limit, offset=offset
    )


async def list_findings(
    session: AsyncSession,
    analysis: Analysis,
    *,
    limit: int,
    offset: int,
    severity: Sequence[str] = (),
    category: Sequence[str] = (),
    rule: Sequence[str] = (),
    path: str | None = None,
    status: Sequence[str] = (),
    new_code: Sequence[str] = (),
) -> FindingPage:
    """A filtered page of an analysis' findings, most severe first, then by location."""
    repo = FindingRepository(session)
    stmt = repo.filtered(
        analysis,
        severity=severity,
        category=category,
        rule=rule,
        path=path,
        status=status,
        new_code=new_code,
    )
    total = await repo.count(cast("Select[Any]", stmt))
    rows = await session.execute(
        stmt.order_by(
            AnalysisFinding.severity_rank.desc(), AnalysisFinding.path, AnalysisFinding.line,
            AnalysisFinding.id,
        ).limit(limit).offset(offset)
    )  # fmt: skip
    items = [_finding_read(f, d) for f, d in rows.all()]
    return FindingPage(items=items, total=total, limit=limit, offset=offset)


async def all_findings(
    session: AsyncSession, analysis: Analysis, *, new_code_only: bool = False
) -> list[Finding]:
    """The analysis' present findings as engine findings (for the SARIF reporter); with
    ``new_code_only``, those new against the baseline (a pull request's own)."""
    from pyforge.analysis.findings import Category, Severity

    rows = await FindingRepository(session).current_of(analysis.id)
    if new_code_only:
        rows = [f for f in rows if f.new_code_status == NewCodeStatus.NEW]
    return sorted(
        (
            Finding(
                rule=f.rule,
                category=Category(f.category),
                severity=Severity(f.severity),
                message=f.message,
                path=f.path,
                line=f.line,
                column=f.column,
                end_line=f.end_line,
                end_column=f.end_column,
                scope=f.scope,
                fingerprint=f.fingerprint,
            )
            for f in rows
        ),
        key=Finding.sort_key,
    )


async def sarif(
    session: AsyncSession, analysis: Analysis, *, new_code_only: bool = False
) -> dict[str, Any]:
    """The analysis' findings as a SARIF 2.1.0 log (the engine's reporter)."""
    from pyforge.analysis.reporters.sarif import to_sarif

    found = await all_findings(session, analysis, new_code_only=new_code_only)
    report = AnalysisReport(root="/", files=[], findings=found)
    log = to_sarif(report)
    # The analysed tree lived in a worker's temporary directory: paths are repository-relative.
    for run in log["runs"]:
        run.pop("originalUriBaseIds", None)
        run.setdefault("properties", {})["analysisId"] = str(analysis.id)
        for result in run["results"]:
            for loc in result["locations"]:
                loc["physicalLocation"]["artifactLocation"].pop("uriBaseId", None)
    return log


async def resolve_finding(
    session: AsyncSession,
    principal: Principal,
    finding_id: uuid.UUID,
    resolution: str,
    reason: str,
    *,
    analysis_id: uuid.UUID | None = None,
) -> FindingRead:
    """Record a decision on a finding for its project (``open`` withdraws it); needs write."""
    finding = await session.get(AnalysisFinding, finding_id)
    if finding is None or (analysis_id is not None and finding.analysis_id != analysis_id):
        raise NotFound(FINDING_NOT_FOUND)
    try:
        await project_for(session, principal, finding.project_id, Permission.PROJECT_READ)
    except NotFound:
        raise NotFound(FINDING_NOT_FOUND) from None
    await project_for(session, principal, finding.project_id, Permission.PROJECT_WRITE)
    repo = FindingRepository(session)
    decision = await repo.decision(finding.project_id, finding.fingerprint)
    if resolution == Resolution.OPEN:
        if decision is not None:
            await session.delete(decision)
        decision = None
    else:
        if resolution == Resolution.ACCEPTED and not reason.strip():
            raise Unprocessable("A reason is required to accept a finding.")
        if decision is None:
            decision = FindingDecision(project_id=finding.project_id,
                                       fingerprint=finding.fingerprint)  # fmt: skip
            session.add(decision)
        decision.resolution = resolution
        decision.reason = reason.strip()
        decision.decided_by = principal.user_id
    await session.commit()
    return _finding_read(finding, decision)


def _metrics_read(row: ProjectMetrics, analysis: Analysis | None) -> ProjectMetricsRead:
    values: dict[str, float | int] = {}
    for name in m.HISTORY_METRICS:
        if name not in m.RATING_METRICS:
            values[name] = getattr(row, name)
    return ProjectMetricsRead(
        project_id=row.project_id,
        analysis_id=row.analysis_id,
        measured_at=row.measured_at,
        metrics=values,
        ratings={
            "reliability": row.reliability_rating,
            "security": row.security_rating,
            "maintainability": row.maintainability_rating,
        },
        quality_gate=analysis.gate if analysis else None,
        new_code=analysis.new_code if analysis else None,
    )


async def latest_metrics(
    session: AsyncSession, cache: Cache, project: Project
) -> ProjectMetricsRead:
    """The project's latest metrics (cached; invalidated when an analysis succeeds)."""
    key = metrics_key(project.id)
    cached = await cache.get(key)
    if cached is not None:
        read = ProjectMetricsRead.model_validate(cached)
    else:
        row = await MetricsRepository(session).latest(project.id)
        if row is None:
            raise NotFound("This project has no succeeded analysis yet.")
        analysis = await session.get(Analysis, row.analysis_id)
        read = _metrics_read(row, analysis)
        await cache.set(key, read.model_dump(mode="json"), METRICS_TTL)
    # Read fresh, not cached: the ML worker attaches it after the analysis has ended.
    prediction = await PredictionRepository(session).for_analysis(read.analysis_id)
    if prediction is not None:
        read.predicted_quality = prediction.quality.get("project")
    return read


async def metric_history(
    session: AsyncSession, project: Project, metric: str, *, limit: int
) -> MetricHistory:
    """One metric across the project's analyses, oldest first (ratings as A=1 ... E=5)."""
    if metric not in m.HISTORY_METRICS:
        raise Unprocessable(f"Unknown metric {metric!r}.", valid_metrics=list(m.HISTORY_METRICS))
    rows = await MetricsRepository(session).history(project.id, metric, limit=limit)
    points = [
        MetricPoint(
            analysis_id=a,
            measured_at=at,
            value=float(m.rating_value(v) if metric in m.RATING_METRICS else v),
        )
        for a, at, v in rows
    ]
    return MetricHistory(project_id=project.id, metric=metric, points=points)


async def gate_status(session: AsyncSession, project_id: uuid.UUID) -> str:
    """``passed``, ``failed`` or ``unknown`` (no succeeded analysis) for the badge."""
    latest = await AnalysisRepository(session).latest_succeeded(project_id)
    return latest.gate_status or "unknown" if latest is not None else "unknown"


async def invalidate(cache: Cache, project_id: uuid.UUID) -> None:
    """Drop the project's cached metrics (a new analysis changed them)."""
    await cache.delete(metrics_key(project_id))


# --- recording a run's results (the runner calls these) ---------------------------------------


@dataclass
class Outcome:
    """What :func:`record_success` stored, for the caller's log."""

    findings: int
    new: int
    fixed: int
    gate: str


def _event_base(a: Analysis) -> dict[str, Any]:
    # The fields of every analysis event (pyforge.events.AnalysisEvent).
    return {"project_id": a.project_id, "analysis_id": a.id}


def _finding_row(a: Analysis, f: Finding, status: FindingStatus) -> AnalysisFinding:
    return AnalysisFinding(
        id=uuid.uuid4(), analysis_id=a.id, project_id=a.project_id, rule=f.rule[:64],
        category=f.category.value, severity=f.severity.value, severity_rank=f.severity.rank,
        message=f.message, path=f.path[:1024], line=f.line, column=f.column,
        end_line=f.end_line or f.line, end_column=f.end_column, scope=f.scope[:512],
        fingerprint=f.fingerprint, status=status.value,
    )  # fmt: skip


def _copy_as_fixed(a: Analysis, old: AnalysisFinding) -> AnalysisFinding:
    return AnalysisFinding(
        id=uuid.uuid4(), analysis_id=a.id, project_id=a.project_id, rule=old.rule,
        category=old.category, severity=old.severity, severity_rank=old.severity_rank,
        message=old.message, path=old.path, line=old.line, column=old.column,
        end_line=old.end_line, end_column=old.end_column, scope=old.scope,
        fingerprint=old.fingerprint, status=FindingStatus.FIXED.value,
    )  # fmt: skip


def _brief(f: Finding) -> FindingBrief:
    return FindingBrief(rule=f.rule, severity=f.severity.value, message=f.message, path=f.path,
                        line=f.line)  # fmt: skip


@dataclass
class _Lifecycle:
    """The findings of one analysis sorted against the previous one, the new-code baseline
    and the decisions."""

    rows: list[AnalysisFinding] = field(default_factory=list)
    issues: list[m.Issue] = field(default_factory=list)
    new_open: list[Finding] = field(default_factory=list)
    new_count: int = 0
    fixed: list[AnalysisFinding] = field(default_factory=list)
    #: Open findings not in the new-code baseline, and how many of those are duplications.
    new_code_issues: list[m.Issue] = field(default_factory=list)
    new_code_duplications: int = 0
    #: Counts against the baseline: ``new``, ``inherited``, ``fixed``.
    code_counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("new", "inherited", "fixed"), 0)
    )


def _is_open(decisions: Mapping[str, Any], fingerprint: str) -> bool:
    decision = decisions.get(fingerprint)
    return decision is None or decision.resolution == Resolution.OPEN


def _code_status(fingerprint: str, base: Mapping[str, AnalysisFinding] | None) -> NewCodeStatus:
    # Without a baseline (nothing to compare with yet) everything counts as new code.
    if base is not None and fingerprint in base:
        return NewCodeStatus.INHERITED
    return NewCodeStatus.NEW


def _add_finding(
    out: _Lifecycle, analysis: Analysis, f: Finding, status: FindingStatus,
    code: NewCodeStatus, is_open: bool,
) -> None:  # fmt: skip
    row = _finding_row(analysis, f, status)
    row.new_code_status = code.value
    out.rows.append(row)
    out.new_count += status is FindingStatus.NEW
    out.code_counts[code.value] += 1
    if not is_open:
        return
    issue = m.Issue(f.category.value, f.severity.value, status is FindingStatus.NEW)
    out.issues.append(issue)
    if code is NewCodeStatus.NEW:
        out.new_code_issues.append(issue)
        out.new_code_duplications += f.rule == DUPLICATION_RULE
    if status is FindingStatus.NEW:
        out.new_open.append(f)


def _classify(
    analysis: Analysis,
    report: AnalysisReport,
    before: Mapping[str, AnalysisFinding],
    decisions: Mapping[str, Any],
    base: Mapping[str, AnalysisFinding] | None = None,
) -> _Lifecycle:
    """New / unchanged / fixed by fingerprint against ``before`` (the previous analysis) and
    new / inherited / fixed against ``base`` (the new-code baseline); accepted findings and
    false positives leave the issues."""
    out = _Lifecycle()
    seen: set[str] = set()
    for f in report.findings:
        status = FindingStatus.UNCHANGED if f.fingerprint in before else FindingStatus.NEW
        seen.add(f.fingerprint)
        _add_finding(out, analysis, f, status, _code_status(f.fingerprint, base),
                     _is_open(decisions, f.fingerprint))  # fmt: skip
    _add_fixed(out, analysis, before, base or {}, seen)
    return out


def _add_fixed(
    out: _Lifecycle,
    analysis: Analysis,
    before: Mapping[str, AnalysisFinding],
    base: Mapping[str, AnalysisFinding],
    seen: set[str],
) -> None:
    """History rows for the findings gone since the previous analysis or the baseline."""
    base_fixed = {fp: old for fp, old in base.items() if fp not in seen}
    out.code_counts["fixed"] = len(base_fixed)
    out.fixed = [old for fp, old in before.items() if fp not in seen]
    # One history row per fixed fingerprint, whether fixed since the previous analysis, since
    # the baseline, or both; ``new_code_status`` says whether the baseline had it.
    for old in [*out.fixed, *(o for fp, o in base_fixed.items() if fp not in before)]:
        row = _copy_as_fixed(analysis, old)
        row.new_code_status = NewCodeStatus.FIXED.value if old.fingerprint in base_fixed else None
        out.rows.append(row)


def _finish(
    analysis: Analysis,
    report: AnalysisReport,
    summary: dict[str, Any],
    values: dict[str, Any],
    gate: dict[str, Any],
    lifecycle: _Lifecycle,
    digest: str,
    now: datetime,
) -> float:
    """Mark the analysis succeeded with its summary, ratings and gate; returns its duration."""
    duration = round((now - (analysis.started_at or now)).total_seconds(), 3)
    analysis.status = AnalysisStatus.SUCCEEDED.value
    analysis.summary = {**summary, "ratings": {
        "reliability": values["reliability_rating"], "security": values["security_rating"],
        "maintainability": values["maintainability_rating"]}}  # fmt: skip
    analysis.gate = gate
    analysis.gate_status = gate["status"]
    analysis.new_findings = lifecycle.new_count
    analysis.fixed_findings = len(lifecycle.fixed)
    analysis.files_total = analysis.files_done = len(report.files)
    analysis.snapshot_digest = digest
    analysis.finished_at = now
    analysis.duration_s = duration
    analysis.error = None
    return duration


async def _emit_outcome(
    session: AsyncSession,
    analysis: Analysis,
    report: AnalysisReport,
    summary: dict[str, Any],
    gate: dict[str, Any],
    lifecycle: _Lifecycle,
    decisions: Mapping[str, Any],
    duration: float,
    branch: Branch | None = None,
) -> None:
    open_findings = [f for f in report.findings if _is_open(decisions, f.fingerprint)]
    top = sorted(open_findings, key=lambda f: (-f.severity.rank, f.sort_key()))[:TOP_FINDINGS]
    by_sev = summary.get("findings_by_severity", {})
    await enqueue(session, ANALYSIS_COMPLETED, AnalysisCompleted(
        **_event_base(analysis),
        status="succeeded",
        duration_s=duration,
        summary=AnalysisSummary(
            files=summary.get("files", 0),
            functions=summary.get("functions", 0),
            findings={s: int(by_sev.get(s, 0)) for s in m.SEVERITIES},
        ),
        quality_gate=gate,
        top_findings=[_brief(f) for f in top],
        new_findings=lifecycle.new_count,
        fixed_findings=len(lifecycle.fixed),
        branch=branch.name if branch is not None else None,
        target_branch=analysis.target_branch,
        pull_request=analysis.pull_request,
        new_code=_new_code_brief(analysis.new_code),
    ))  # fmt: skip


def _new_code_brief(new_code: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The part of the new-code results that events carry."""
    if new_code is None:
        return None
    return {
        "baseline_analysis_id": new_code["period"]["baseline_analysis_id"],
        "findings": new_code["findings"],
        "ratings": new_code["ratings"],
        "quality_gate": new_code["quality_gate"],
    }


async def _emit_news(
    session: AsyncSession,
    analysis: Analysis,
    previous_gate: str | None,
    gate_status: str,
    new_open: list[Finding],
) -> None:
    # A change of status is news; so is a project's very first gate when it fails (from no
    # status to "failed"), which is what "email on a failed quality gate" must catch.
    first_failure = previous_gate is None and gate_status == "failed"
    if previous_gate != gate_status and (previous_gate is not None or first_failure):
        await enqueue(session, QUALITY_GATE_CHANGED, QualityGateChanged(
            **_event_base(analysis), previous=previous_gate, current=gate_status))  # fmt: skip
    critical = [f for f in new_open if f.severity.value in ("critical", "blocker")]
    if critical:
        await enqueue(session, FINDING_NEW_CRITICAL, NewCriticalFindings(
            **_event_base(analysis), findings=[_brief(f) for f in critical]))  # fmt: skip


async def _fingerprints(
    session: AsyncSession, analysis: Analysis | None
) -> dict[str, AnalysisFinding]:
    if analysis is None:
        return {}
    return {f.fingerprint: f for f in await FindingRepository(session).current_of(analysis.id)}


def _new_code_results(
    report: AnalysisReport,
    gate_config: GateConfig,
    lifecycle: _Lifecycle,
    baseline: Baseline,
    manifest: Mapping[str, str],
) -> dict[str, Any]:
    """The ``new_code`` object of an analysis: period, counts, measures, ratings, gate."""
    base_manifest = baseline.analysis.manifest if baseline.analysis is not None else None
    changed = nc.changed_paths(manifest, base_manifest)
    file_sloc = {f.path: f.metrics.raw.sloc for f in report.files if f.metrics is not None}
    values = nc.measures(lifecycle.new_code_issues, nc.new_code_sloc(file_sloc, changed),
                         lifecycle.new_code_duplications)  # fmt: skip
    return {
        "period": baseline.describe(),
        "findings": dict(lifecycle.code_counts),
        "files_changed": len(changed),
        "metrics": values,
        "ratings": {k: values[f"{k}_rating"] for k in RATING_KINDS},
        "quality_gate": nc.evaluate_gate(gate_config, values, lifecycle.new_code_issues),
    }


@dataclass
class _Comparison:
    """What one analysis is compared with: the previous analysis and the new-code baseline."""

    previous: Analysis | None
    baseline: Baseline
    before: dict[str, AnalysisFinding]
    base: dict[str, AnalysisFinding] | None


async def _comparison(
    session: AsyncSession, analysis: Analysis, branch: Branch | None
) -> _Comparison:
    previous = await previous_analysis(session, analysis, branch)
    baseline = await resolve_baseline(session, analysis, branch, previous)
    before = await _fingerprints(session, previous)
    if baseline.analysis is None:
        return _Comparison(previous, baseline, before, None)
    same = baseline.analysis is previous
    base = before if same else await _fingerprints(session, baseline.analysis)
    return _Comparison(previous, baseline, before, base)


def _previous_gate(analysis: Analysis, previous: Analysis | None) -> str | None:
    # Gate news compares with the same branch only (a branch's first analysis has none).
    if previous is None or previous.branch_id != analysis.branch_id:
        return None
    return previous.gate_status


async def record_success(
    session: AsyncSession,
    analysis: Analysis,
    report: AnalysisReport,
    gate_config: GateConfig,
    *,
    digest: str,
    manifest: Mapping[str, str] | None = None,
) -> Outcome:
    """Store findings (new/unchanged/fixed, and against the new-code baseline), metrics and
    the gate; enqueue the events.

    A branch other than the default one is gated on new code only ("Clean as You Code");
    the default branch keeps the overall gate and stores the new-code gate beside it.
    Runs in the runner's delivery transaction, so findings, status and events commit together
    (or not at all). Any findings of an earlier, interrupted attempt are deleted first.
    """
    await FindingRepository(session).delete_of(analysis.id)
    await MetricsRepository(session).delete_of(analysis.id)
    branch = await session.get(Branch, analysis.branch_id) if analysis.branch_id else None
    cmp = await _comparison(session, analysis, branch)
    decisions = await FindingRepository(session).decisions(analysis.project_id)
    lifecycle = _classify(analysis, report, cmp.before, decisions, cmp.base)
    session.add_all(lifecycle.rows)

    summary = report.summary()
    values = m.project_metrics(summary, lifecycle.issues)
    analysis.manifest = dict(manifest) if manifest is not None else analysis.manifest or {}
    new_code = _new_code_results(report, gate_config, lifecycle, cmp.baseline, analysis.manifest)
    analysis.new_code = new_code
    analysis.baseline_analysis_id = cmp.baseline.analysis.id if cmp.baseline.analysis else None
    on_branch = branch is not None and not branch.is_default
    gate = new_code["quality_gate"] if on_branch else m.evaluate_gate(
        gate_config, values, lifecycle.issues)  # fmt: skip
    now = utcnow()
    session.add(ProjectMetrics(id=uuid.uuid4(), analysis_id=analysis.id,
                               project_id=analysis.project_id, measured_at=now,
                               **values))  # fmt: skip
    duration = _finish(analysis, report, summary, values, gate, lifecycle, digest, now)
    await _emit_outcome(session, analysis, report, summary, gate, lifecycle, decisions, duration,
                        branch)  # fmt: skip
    await _emit_news(session, analysis, _previous_gate(analysis, cmp.previous), gate["status"],
                     lifecycle.new_open)  # fmt: skip
    return Outcome(len(report.findings), lifecycle.new_count, len(lifecycle.fixed), gate["status"])


async def record_failure(session: AsyncSession, analysis: Analysis, reason: str) -> None:
    """End the analysis as failed with ``reason`` and enqueue ``analysis.failed``."""
    now = utcnow()
    analysis.status = AnalysisStatus.FAILED.value
    analysis.error = reason[:ERROR_MAX]
    analysis.finished_at = now
    if analysis.started_at is not None:
        analysis.duration_s = round((now - analysis.started_at).total_seconds(), 3)
    await enqueue(
        session, ANALYSIS_FAILED, AnalysisFailed(**_event_base(analysis), reason=analysis.error)
    )


async def mark_running(
    session: AsyncSession, analysis_id: uuid.UUID, max_attempts: int
) -> Analysis | None:
    """Move the analysis to ``running`` for one more attempt; None when it must not run.

    Returns None when the analysis already ended, or when it failed here because it ran out
    of attempts (each start counts, so a worker crashing on it again and again stops).
    """
    analysis = (
        await session.execute(select(Analysis).where(Analysis.id == analysis_id).with_for_update())
    ).scalar_one_or_none()
    if analysis is None or AnalysisStatus(analysis.status).terminal:
        return None
    if analysis.attempts >= max_attempts:
        await record_failure(
            session, analysis, f"gave up after {analysis.attempts} interrupted attempts"
        )
        return None
    first = analysis.attempts == 0
    analysis.attempts += 1
    analysis.status = AnalysisStatus.RUNNING.value
    analysis.files_done = 0
    if analysis.started_at is None:
        analysis.started_at = utcnow()
    if first:
        await enqueue(session, ANALYSIS_STARTED, AnalysisEvent(**_event_base(analysis)))
    return analysis


async def record_progress(
    session: AsyncSession, analysis_id: uuid.UUID, done: int, total: int, *, emit: bool
) -> None:
    """Store progress (and heartbeat); enqueue ``analysis.progress`` when ``emit``."""
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None or analysis.status != AnalysisStatus.RUNNING:
        return
    analysis.files_done, analysis.files_total = done, total
    analysis.updated_at = utcnow()
    if emit:
        await enqueue(
            session,
            ANALYSIS_PROGRESS,
            AnalysisProgress(**_event_base(analysis), files_done=done, files_total=total),
        )
