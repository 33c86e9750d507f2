"""Running an analysis over many files: discovery, cache, process pool, ruff, project checks.

Per-file work (parse + single pass) runs in a process pool, in chunks, while ruff runs once
over the same files in the background. Results are cached per file; a re-run over an unchanged
tree reads the cache and starts neither the pool nor ruff.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyforge import __version__
from pyforge.analysis import ruff
from pyforge.analysis.baseline import load_baseline, split_new
from pyforge.analysis.cache import DEFAULT_CACHE_DIR, Cache, make_key
from pyforge.analysis.config import Config, RuleSettings, load_config
from pyforge.analysis.context import ProjectContext, ProjectFile
from pyforge.analysis.discovery import changed_files, discover, resolve_root
from pyforge.analysis.engine import (
    Plan,
    analyze_bytes,
    build_plan,
    finish_findings,
    split_lines,
)
from pyforge.analysis.findings import Finding
from pyforge.analysis.gate import evaluate_gate
from pyforge.analysis.registry import Analyzer, ProjectHit, Registry, ToolContext, get_registry
from pyforge.analysis.report import AnalysisReport, FileReport, Note, RunInputs

ProgressCallback = Callable[[int, int], None]
ENGINE_VERSION = "2"
_CHUNKS_PER_WORKER = 6


def run_digest(registry: Registry, config: Config) -> str:
    """Everything outside a file that changes its results: versions and analyzer options."""
    parts = [ENGINE_VERSION, __version__, sys.version.split()[0], config.digest]
    parts += sorted(f"{a.id}={a.version}" for a in registry.analyzers.values())
    if any(a.ruff_select or a.ruff_format for a in registry.analyzers.values()):
        parts.append(ruff.ruff_version())
    return make_key(*parts)


# -- worker side ---------------------------------------------------------------------------

_worker_settings: list[RuleSettings] = []
_worker_options: dict[str, dict[str, Any]] = {}
_worker_plans: dict[int, Plan] = {}
_worker_analyzers: list[Analyzer] = []


def _init_worker(
    settings: list[RuleSettings], options: dict[str, dict[str, Any]], analyzers: list[Analyzer]
) -> None:
    global _worker_settings, _worker_options, _worker_analyzers
    _worker_settings, _worker_options, _worker_analyzers = settings, options, analyzers
    _worker_plans.clear()


def _plan(index: int) -> Plan:
    plan = _worker_plans.get(index)
    if plan is None:
        plan = build_plan(_worker_analyzers, _worker_settings[index])
        _worker_plans[index] = plan
    return plan


def _analyze_chunk(chunk: list[tuple[str, bytes, int]]) -> list[FileReport]:
    out = []
    for rel, data, index in chunk:
        out.append(analyze_bytes(data, rel, _worker_settings[index], _plan(index), _worker_options))
    return out


# -- main side -----------------------------------------------------------------------------


@dataclass
class _Pending:
    abs_path: str
    rel: str
    key: str
    settings_index: int


def _route_ruff(
    analyzers: Sequence[Analyzer],
    code: str,
    settings: RuleSettings,
    selects: dict[str, tuple[str, ...]],
) -> Analyzer | None:
    """The analyzer owning a ruff code: the enabled one with the longest matching prefix."""
    best: Analyzer | None = None
    best_len = -1
    for a in analyzers:
        if not settings.analyzer_enabled(a.id, a.default_enabled):
            continue
        if code == ruff.FORMAT_CODE:
            if a.ruff_format:
                return a
            continue
        select = selects.get(a.id, ())
        if not a.owns_ruff_code(code, select):
            continue
        for prefix in select:
            if code.startswith(prefix) and len(prefix) > best_len:
                best, best_len = a, len(prefix)
    return best


def _ruff_selection(
    analyzers: Iterable[Analyzer], config: Config
) -> tuple[dict[str, tuple[str, ...]], bool]:
    """Each ruff-backed analyzer's selection (its default or its ``select`` option)."""
    selects: dict[str, tuple[str, ...]] = {}
    fmt = False
    overrides_enable = any(o.data.get("enable") for o in config.overrides)
    for a in analyzers:
        if not (config.settings.analyzer_enabled(a.id, a.default_enabled) or overrides_enable):
            continue
        opts = config.options_for(a.id)
        if a.ruff_select:
            selects[a.id] = tuple(str(c) for c in opts.get("select", a.ruff_select))
        fmt = fmt or (a.ruff_format and bool(opts.get("format", True)))
    return selects, fmt


def _read_lines(abs_path: str) -> list[str]:
    try:
        data = Path(abs_path).read_bytes()
    except OSError:
        return []
    return split_lines(data.decode("utf-8", "replace"))


def analyze_paths(
    paths: Sequence[str | os.PathLike[str]],
    config: Config | None = None,
    *,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    changed_since: str | None = None,
    baseline: Path | None = None,
    registry: Registry | None = None,
) -> AnalysisReport:
    """Analyse files and directories; the library entry point the CLI and workers share.

    ``config`` defaults to the configuration found above the paths. ``progress`` is called
    with (files done, files total) as results arrive. Raises
    :class:`~pyforge.analysis.discovery.InputError`, :class:`~pyforge.analysis.config.ConfigError`
    or :class:`~pyforge.analysis.baseline.BaselineError` for bad input; never for bad code.
    """
    started = time.perf_counter()
    path_list = [Path(p) for p in paths] or [Path()]
    if config is None:
        from pyforge.analysis.config import find_config

        first = path_list[0]
        source = find_config(first.resolve()) if first.exists() else None
        root = resolve_root(path_list, source)
        config = load_config(root, source, discover=False)
    root = config.root
    registry = registry or get_registry()
    analyzers = list(registry.analyzers.values())
    notes = [Note("", e) for e in registry.errors]
    known = load_baseline(baseline) if baseline is not None else None

    found = discover(path_list, root, config)
    notes += found.notes
    files = found.files
    inputs = RunInputs(
        watched=[*map(str, config.files), *found.ignore_files], dirs=found.dirs,
        complete=changed_since is None and not found.notes and not found.duplicates,
    )  # fmt: skip
    if baseline is not None:
        inputs.watched.append(str(baseline.absolute()))
    if changed_since is not None:
        changed = changed_files(root, changed_since)
        files = [f for f in files if f[1] in changed]

    cache = Cache((cache_dir or root / DEFAULT_CACHE_DIR) if use_cache else None)
    digest = run_digest(registry, config)
    settings_list: list[RuleSettings] = []
    settings_index: dict[str, int] = {}
    reports: dict[str, FileReport] = {}
    keys: dict[str, str] = {}
    pending: list[_Pending] = []
    payloads: list[tuple[str, bytes, int]] = []
    total = len(files)
    done = 0
    hits = 0

    for abs_path, rel in files:
        settings = config.settings_for(rel)
        idx = settings_index.setdefault(settings.digest, len(settings_list))
        if idx == len(settings_list):
            settings_list.append(settings)
        try:
            path = Path(abs_path)
            st = path.stat()
            size = st.st_size
            if size > config.max_file_size:
                inputs.files.append((abs_path, size, st.st_mtime_ns, ""))
                reports[rel] = FileReport(
                    rel, status="skipped",
                    notes=[Note(rel, f"skipped: {size / 1e6:.1f} MB is over max_file_size "
                                     f"({config.max_file_size / 1e6:.1f} MB)")],
                )  # fmt: skip
                done += 1
                continue
            data = path.read_bytes()
        except OSError as exc:
            inputs.complete = False
            reports[rel] = FileReport(
                rel, status="skipped", notes=[Note(rel, f"skipped: {exc.strerror or exc}")]
            )
            done += 1
            continue
        sha = hashlib.sha256(data).hexdigest()
        inputs.files.append((abs_path, size, st.st_mtime_ns, sha))
        key = make_key(sha, rel, settings.digest, digest)
        keys[rel] = key
        cached = cache.get(key)
        if cached is not None:
            try:
                reports[rel] = FileReport.from_cache(cached)
                hits += 1
                done += 1
                continue
            except (KeyError, TypeError, ValueError):
                pass  # stale or corrupt entry: analyse again
        pending.append(_Pending(abs_path, rel, key, idx))
        payloads.append((rel, data, idx))
    if progress is not None and done:
        progress(done, total)

    selects, fmt = _ruff_selection(analyzers, config)
    style_opts = config.options_for("style")
    ruff_run = ruff.start(
        [p.abs_path for p in pending],
        root=root,
        select=sorted({c for codes in selects.values() for c in codes}),
        format_check=fmt,
        line_length=int(style_opts.get("line_length", 88)),
        target_version=str(style_opts.get("target_version", "py311")),
    )

    fresh = _run_pool(
        payloads, settings_list, config.options, analyzers, jobs, progress, done, total
    )
    del payloads
    diagnostics = ruff_run.results()
    notes += [Note("", e) for e in ruff_run.errors]

    for item in pending:
        report = fresh[item.rel]
        settings = settings_list[item.settings_index]
        diags = diagnostics.get(str(Path(item.abs_path).absolute()))
        if diags and report.status != "error":
            extra: list[Finding] = []
            for d in diags:
                owner = _route_ruff(analyzers, d.code, settings, selects)
                rule = None
                if owner is not None:
                    rule = (
                        owner.rules.get("STY-FORMAT")
                        if d.code == ruff.FORMAT_CODE
                        else owner.ruff_rule(d.code)
                    )
                if rule is None:
                    continue
                extra.append(
                    Finding(
                        rule=rule.id, category=rule.category,
                        severity=settings.severity_for(rule.id) or rule.severity,
                        confidence=rule.confidence, message=d.message, path=item.rel,
                        line=d.line, column=d.column, end_line=d.end_line,
                        end_column=d.end_column, fix=d.fix,
                    )
                )  # fmt: skip
            if extra:
                extra = finish_findings(extra, _read_lines(item.abs_path), report, settings)
                report.findings = sorted([*report.findings, *extra], key=Finding.sort_key)
        cache.put(item.key, report.to_cache())
        if report.facts:
            cache.put(item.key + "-facts", report.facts)
        reports[item.rel] = report

    ordered = [reports[rel] for _abs, rel in files if rel in reports]
    project_findings = _project_findings(
        ordered, files, analyzers, config, cache, digest, notes, keys
    )
    for report in ordered:
        notes += report.notes

    findings = sorted(
        [f for r in ordered for f in r.findings] + project_findings, key=Finding.sort_key
    )
    known_count = 0
    if known is not None:
        findings, known_count = split_new(findings, known)
    result = AnalysisReport(
        root=str(root), files=ordered, findings=findings, notes=notes, cache_hits=hits,
        baseline_path=str(baseline) if baseline is not None else None,
        baseline_known=known_count, inputs=inputs,
    )  # fmt: skip
    result.gate = evaluate_gate(result, config.gate)
    result.duration_s = time.perf_counter() - started
    return result


def _run_pool(
    payloads: list[tuple[str, bytes, int]],
    settings: list[RuleSettings],
    options: dict[str, dict[str, Any]],
    analyzers: list[Analyzer],
    jobs: int | None,
    progress: ProgressCallback | None,
    done: int,
    total: int,
) -> dict[str, FileReport]:
    out: dict[str, FileReport] = {}
    if not payloads:
        return out
    workers = max(1, min(jobs or os.cpu_count() or 1, len(payloads)))
    if workers == 1 or len(payloads) < 4:
        _init_worker(settings, options, analyzers)
        for item in payloads:
            for report in _analyze_chunk([item]):
                out[report.path] = report
            done += 1
            if progress is not None:
                progress(done, total)
        return out
    # Big files first so that no worker is left with a large one at the end.
    order = sorted(payloads, key=lambda p: -len(p[1]))
    n_chunks = workers * _CHUNKS_PER_WORKER
    chunks = [order[i::n_chunks] for i in range(n_chunks) if order[i::n_chunks]]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker,
        initargs=(settings, options, analyzers),
    ) as pool:  # fmt: skip
        futures: list[Future[list[FileReport]]] = [pool.submit(_analyze_chunk, c) for c in chunks]
        for future in as_completed(futures):
            for report in future.result():
                out[report.path] = report
                done += 1
            if progress is not None:
                progress(done, total)
    return out


def _project_findings(
    reports: list[FileReport],
    files: list[tuple[str, str]],
    analyzers: list[Analyzer],
    config: Config,
    cache: Cache,
    digest: str,
    notes: list[Note],
    keys: dict[str, str],
) -> list[Finding]:
    """Run project and tool checks (cached on the digest of every file's result)."""
    settings = config.settings
    checks = [
        (a, r, c)
        for a in analyzers
        if settings.analyzer_enabled(a.id, a.default_enabled)
        for r, c in a.project_checks
        if settings.rule_enabled(r.id)
    ]
    tools = [
        (a, r, c)
        for a in analyzers
        if settings.analyzer_enabled(a.id, a.default_enabled)
        for r, c in a.tool_checks
        if settings.rule_enabled(r.id)
    ]
    if not checks and not tools:
        return []
    key = make_key(
        "project", digest, settings.digest, *(f"{r.path}:{r.sha256}" for r in reports),
        *(f"{a.id}:{r.id}" for a, r, _ in (*checks, *tools)),
    )  # fmt: skip
    cached = cache.get(key)
    if isinstance(cached, dict):
        try:
            notes += [Note("", m) for m in cached.get("notes", [])]
            return [Finding.from_dict(f) for f in cached["findings"]]
        except (KeyError, TypeError, ValueError):
            pass
    for r in reports:
        if r.cached and not r.facts and r.path in keys:
            facts = cache.get(keys[r.path] + "-facts")
            r.facts = facts if isinstance(facts, dict) else {}
    by_path = {r.path: r for r in reports}
    abs_of = {rel: abs_path for abs_path, rel in files}
    raw: list[tuple[str, Finding]] = []
    tool_notes: list[str] = []
    project = ProjectContext(
        [ProjectFile(r.path, r.facts, r.functions) for r in reports if r.facts],
        settings,
        config.options,
    )

    def collect(rule_hits: Iterable[ProjectHit] | None, rule: Any) -> None:
        for hit in rule_hits or ():
            raw.append(
                (
                    hit.path,
                    Finding(
                        rule=rule.id, category=rule.category,
                        severity=config.settings_for(hit.path).severity_for(rule.id)
                        or hit.severity or rule.severity,
                        confidence=hit.confidence or rule.confidence, message=hit.message,
                        path=hit.path, line=hit.at.line, column=hit.at.column,
                        end_line=hit.at.end_line or hit.at.line, end_column=hit.at.end_column,
                        properties=dict(hit.properties or {}),
                    ),
                )
            )  # fmt: skip

    for _a, rule, check in checks:
        collect(check(project), rule)
    ok_files = [(abs_of[r.path], r.path) for r in reports if r.status == "ok" and r.path in abs_of]
    for a, rule, tool_check in tools:
        tool = ToolContext(ok_files, config.root, config.options_for(a.id))
        collect(tool_check(tool), rule)
        tool_notes += tool.errors
    out: list[Finding] = []
    grouped: dict[str, list[Finding]] = {}
    for path, finding in raw:
        grouped.setdefault(path, []).append(finding)
    for path, group in grouped.items():
        report = by_path.get(path)
        if report is None:
            continue
        out += finish_findings(
            group, _read_lines(abs_of.get(path, "")), report, config.settings_for(path)
        )
    notes += [Note("", m) for m in tool_notes]
    cache.put(key, {"findings": [f.to_dict() for f in out], "notes": tool_notes})
    return out
