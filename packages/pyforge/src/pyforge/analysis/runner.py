"""Running an analysis over many files: discovery, cache, process pool, ruff, project checks.

Per-file work (parse + single pass) runs in a process pool, in chunks, while ruff runs once
over the same files in the background. Results are cached per file; a re-run over an unchanged
tree reads the cache and starts neither the pool nor ruff.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    gc_paused,
    split_lines,
)
from pyforge.analysis.findings import Finding
from pyforge.analysis.gate import evaluate_gate
from pyforge.analysis.registry import Analyzer, Registry, get_registry
from pyforge.analysis.report import AnalysisReport, FileReport, Note, RunInputs
from pyforge.analysis.rules import ProjectHit, Rule, ToolContext

ProgressCallback = Callable[[int, int], None]
ENGINE_VERSION = "2"
#: Guided scheduling: each chunk takes this share of the remaining bytes per worker, down to
#: a floor of the total per worker; the last chunks are small, so no worker idles long at the end.
_CHUNK_SHARE = 1 / 4
_CHUNK_FLOOR = 1 / 24
#: A file's fixed cost (reading, decoding, the report), in bytes of source it is worth.
_FILE_OVERHEAD = 2048


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


def _init_pool_worker(
    settings: list[RuleSettings], options: dict[str, dict[str, Any]], analyzers: list[Analyzer]
) -> None:
    _init_worker(settings, options, analyzers)
    # What a pool worker inherited or imported lives as long as it does: keep it out of the
    # collector's full passes. (Not in-process: a long-lived caller's garbage would stay.)
    gc.freeze()


def _plan(index: int) -> Plan:
    plan = _worker_plans.get(index)
    if plan is None:
        plan = build_plan(_worker_analyzers, _worker_settings[index])
        _worker_plans[index] = plan
    return plan


#: What a worker analyses: (relative path, content, settings index, content's sha256).
Payload = tuple[str, bytes, int, str]


def _analyze_chunk(chunk: list[Payload]) -> list[FileReport]:
    out = []
    for rel, data, index, sha in chunk:
        out.append(analyze_bytes(data, rel, _worker_settings[index], _plan(index), _worker_options,
                                 sha256=sha))  # fmt: skip
    return out


def _analyze_chunk_for_transport(chunk: list[Payload]) -> list[Any]:
    # Plain dicts and lists pickle (and unpickle, in the main process) several times faster
    # than the report's dataclasses and enums.
    return [report.to_transport() for report in _analyze_chunk(chunk)]


#: The payloads of the run in progress, set before a ``fork`` pool starts: its workers inherit
#: them, so that a task is a list of indices rather than megabytes of pickled source.
_inherited: list[Payload] = []


def _analyze_inherited(indices: list[int]) -> list[Any]:
    return _analyze_chunk_for_transport([_inherited[i] for i in indices])


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
    config = config if config is not None else _config_for(path_list)
    registry = registry or get_registry()
    known = load_baseline(baseline) if baseline is not None else None
    cache = Cache((cache_dir or config.root / DEFAULT_CACHE_DIR) if use_cache else None)
    # The run allocates a great many objects and creates almost no cycles: see gc_paused.
    with gc_paused():
        run = _Run(config, registry, progress)
        files = run.select(path_list, changed_since, baseline)
        run.load(files, cache)
        with cache.writing_behind():
            run.analyze(jobs)
            ordered = [run.reports[rel] for _abs, rel in files if rel in run.reports]
            project = _project_findings(
                ordered, files, run.analyzers, config, run.cache, run.digest, run.notes, run.keys
            )
    for report in ordered:
        run.notes += report.notes
    findings = sorted([f for r in ordered for f in r.findings] + project, key=Finding.sort_key)
    known_count = 0
    if known is not None:
        findings, known_count = split_new(findings, known)
    result = AnalysisReport(
        root=str(config.root), files=ordered, findings=findings, notes=run.notes,
        cache_hits=run.hits, baseline_path=str(baseline) if baseline is not None else None,
        baseline_known=known_count, inputs=run.inputs,
    )  # fmt: skip
    result.gate = evaluate_gate(result, config.gate)
    result.duration_s = time.perf_counter() - started
    return result


def _config_for(path_list: list[Path]) -> Config:
    """The configuration found above the first path (its directory is the root)."""
    from pyforge.analysis.config import find_config

    first = path_list[0]
    source = find_config(first.resolve()) if first.exists() else None
    root = resolve_root(path_list, source)
    return load_config(root, source, discover=False)


class _Run:
    """One analysis run's state, from the files found to every file's report."""

    def __init__(
        self, config: Config, registry: Registry, progress: ProgressCallback | None
    ) -> None:
        self.config = config
        self.analyzers = list(registry.analyzers.values())
        self.digest = run_digest(registry, config)
        self.progress = progress
        self.notes = [Note("", e) for e in registry.errors]
        self.inputs = RunInputs()
        self.cache = Cache(None)
        self.settings_list: list[RuleSettings] = []
        self._settings_index: dict[str, int] = {}
        self.reports: dict[str, FileReport] = {}
        self.keys: dict[str, str] = {}
        self.pending: list[_Pending] = []
        self.payloads: list[Payload] = []
        self.total = self.done = self.hits = 0
        #: settings digest -> ruff code -> the rule it is reported as (routing is per code).
        self._ruff_rules: dict[str, dict[str, Rule | None]] = {}

    def select(
        self, path_list: list[Path], changed_since: str | None, baseline: Path | None
    ) -> list[tuple[str, str]]:
        """The (absolute, relative) paths to analyse; records what the result depends on."""
        config = self.config
        found = discover(path_list, config.root, config)
        self.notes += found.notes
        self.inputs = RunInputs(
            watched=[*map(str, config.files), *found.ignore_files], dirs=found.dirs,
            complete=changed_since is None and not found.notes and not found.duplicates,
        )  # fmt: skip
        if baseline is not None:
            self.inputs.watched.append(str(baseline.absolute()))
        files = found.files
        if changed_since is not None:
            changed = changed_files(config.root, changed_since)
            files = [f for f in files if f[1] in changed]
        self.total = len(files)
        return files

    def load(self, files: list[tuple[str, str]], cache: Cache) -> None:
        """Read every file: from the cache when its result is there, else queue it."""
        self.cache = cache
        for abs_path, rel in files:
            self._load_one(abs_path, rel)
        if self.progress is not None and self.done:
            self.progress(self.done, self.total)

    def _settings(self, rel: str) -> tuple[RuleSettings, int]:
        settings = self.config.settings_for(rel)
        idx = self._settings_index.setdefault(settings.digest, len(self.settings_list))
        if idx == len(self.settings_list):
            self.settings_list.append(settings)
        return settings, idx

    def _skip(self, rel: str, settings: RuleSettings, why: str) -> None:
        self.reports[rel] = FileReport(
            rel, status="skipped", test=settings.test, notes=[Note(rel, f"skipped: {why}")]
        )
        self.done += 1

    def _load_one(self, abs_path: str, rel: str) -> None:
        settings, idx = self._settings(rel)
        limit = self.config.max_file_size
        try:
            path = Path(abs_path)
            st = path.stat()
            if st.st_size > limit:
                self.inputs.files.append((abs_path, st.st_size, st.st_mtime_ns, ""))
                self._skip(rel, settings, f"{st.st_size / 1e6:.1f} MB is over max_file_size "
                                          f"({limit / 1e6:.1f} MB)")  # fmt: skip
                return
            data = path.read_bytes()
        except OSError as exc:
            self.inputs.complete = False
            self._skip(rel, settings, str(exc.strerror or exc))
            return
        sha = hashlib.sha256(data).hexdigest()
        self.inputs.files.append((abs_path, st.st_size, st.st_mtime_ns, sha))
        key = make_key(sha, rel, settings.digest, self.digest)
        self.keys[rel] = key
        if self._from_cache(rel, key):
            return
        self.pending.append(_Pending(abs_path, rel, key, idx))
        self.payloads.append((rel, data, idx, sha))

    def _from_cache(self, rel: str, key: str) -> bool:
        cached = self.cache.get(key)
        if cached is None:
            return False
        try:
            self.reports[rel] = FileReport.from_cache(cached)
        except (KeyError, TypeError, ValueError):
            return False  # stale or corrupt entry: analyse again
        self.hits += 1
        self.done += 1
        return True

    def analyze(self, jobs: int | None) -> None:
        """Analyse the queued files in the pool while ruff runs over them; cache the results."""
        config = self.config
        selects, fmt = _ruff_selection(self.analyzers, config)
        style_opts = config.options_for("style")
        ruff_run = ruff.start(
            [p.abs_path for p in self.pending],
            root=config.root,
            select=sorted({c for codes in selects.values() for c in codes}),
            format_check=fmt,
            line_length=int(style_opts.get("line_length", 88)),
            target_version=str(style_opts.get("target_version", "py311")),
        )
        pending = {item.rel: item for item in self.pending}
        # The bytes already read, for the lines ruff's findings are fingerprinted with.
        contents = {p[0]: p[1] for p in self.payloads}
        diagnostics: dict[str, list[ruff.RuffDiagnostic]] | None = None

        def finish(report: FileReport) -> None:
            # Called as each result arrives, so that merging and caching overlap the pool.
            nonlocal diagnostics
            if diagnostics is None:
                diagnostics = ruff_run.results()
                self.notes += [Note("", e) for e in ruff_run.errors]
            item = pending[report.path]
            diags = diagnostics.get(os.path.abspath(item.abs_path))  # noqa: PTH100 - as ruff.py
            if diags and report.status != "error":
                settings = self.settings_list[item.settings_index]
                lines = split_lines(contents[item.rel].decode("utf-8", "replace"))
                self._add_ruff(report, lines, diags, settings, selects)
            # The facts go in the same entry, on its second line: one file per analysed file.
            self.cache.put(item.key, report.to_cache(), report.facts or None)
            self.reports[item.rel] = report

        _run_pool(
            self.payloads, self.settings_list, config.options, self.analyzers, jobs,
            self.progress, self.done, self.total, finish,
        )  # fmt: skip
        self.payloads = []
        if diagnostics is None:
            ruff_run.results()
            self.notes += [Note("", e) for e in ruff_run.errors]

    def _add_ruff(
        self,
        report: FileReport,
        lines: list[str],
        diags: Sequence[ruff.RuffDiagnostic],
        settings: RuleSettings,
        selects: dict[str, tuple[str, ...]],
    ) -> None:
        """Merge ruff's diagnostics for one file into its report, as the owning rules."""
        extra: list[Finding] = []
        rules = self._ruff_rules.setdefault(settings.digest, {})
        for d in diags:
            if d.code not in rules:
                rules[d.code] = _ruff_rule(self.analyzers, d.code, settings, selects)
            rule = rules[d.code]
            if rule is not None:
                extra.append(
                    Finding(
                        rule=rule.id, category=rule.category,
                        severity=settings.severity_for(rule.id) or rule.severity,
                        confidence=rule.confidence, message=d.message, path=report.path,
                        line=d.line, column=d.column, end_line=d.end_line,
                        end_column=d.end_column, fix=d.fix,
                    )
                )  # fmt: skip
        if extra:
            extra = finish_findings(extra, lines, report, settings)
            report.findings = sorted([*report.findings, *extra], key=Finding.sort_key)


def _ruff_rule(
    analyzers: Sequence[Analyzer],
    code: str,
    settings: RuleSettings,
    selects: dict[str, tuple[str, ...]],
) -> Rule | None:
    """The rule a ruff diagnostic is reported as (``None`` when no enabled analyzer owns it)."""
    owner = _route_ruff(analyzers, code, settings, selects)
    if owner is None:
        return None
    if code == ruff.FORMAT_CODE:
        return owner.rules.get("STY-FORMAT")
    return owner.ruff_rule(code, describe=False)


def _run_pool(
    payloads: list[Payload],
    settings: list[RuleSettings],
    options: dict[str, dict[str, Any]],
    analyzers: list[Analyzer],
    jobs: int | None,
    progress: ProgressCallback | None,
    done: int,
    total: int,
    finish: Callable[[FileReport], None],
) -> None:
    """Analyse ``payloads`` (in a process pool unless there are few); ``finish`` each report."""
    if not payloads:
        return
    workers = max(1, min(jobs or os.cpu_count() or 1, len(payloads)))
    if workers == 1 or len(payloads) < 4:
        _init_worker(settings, options, analyzers)
        for item in payloads:
            for report in _analyze_chunk([item]):
                finish(report)
            done += 1
            if progress is not None:
                progress(done, total)
        return
    for batch in _pool_results(payloads, settings, options, analyzers, workers):
        for data in batch:
            finish(FileReport.from_transport(data))
            done += 1
        if progress is not None:
            progress(done, total)


def _pool_results(
    payloads: list[Payload],
    settings: list[RuleSettings],
    options: dict[str, dict[str, Any]],
    analyzers: list[Analyzer],
    workers: int,
) -> Iterator[list[Any]]:
    """Each chunk's transported reports, as the worker processes finish them."""
    # Imported here: a run small enough for one process does without them.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    global _inherited
    chunks = guided_chunks([len(p[1]) + _FILE_OVERHEAD for p in payloads], workers)
    forked = "fork" in multiprocessing.get_all_start_methods()
    _inherited = payloads if forked else []
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("fork" if forked else None),
            initializer=_init_pool_worker, initargs=(settings, options, analyzers),
        ) as pool:  # fmt: skip
            if forked:
                futures = [pool.submit(_analyze_inherited, c) for c in chunks]
            else:
                futures = [pool.submit(_analyze_chunk_for_transport, [payloads[i] for i in c])
                           for c in chunks]  # fmt: skip
            for future in as_completed(futures):
                yield future.result()
    finally:
        _inherited = []


def guided_chunks(sizes: Sequence[int], workers: int) -> list[list[int]]:
    """Indices into ``sizes`` in chunks of decreasing total size, biggest items first.

    A chunk takes :data:`_CHUNK_SHARE` of the remaining size per worker (at least
    :data:`_CHUNK_FLOOR` of the total per worker, and at least one item): big files go first,
    in few large chunks, and the run ends on small chunks of small files, so that the workers
    finish at nearly the same moment.
    """
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    remaining = sum(sizes)
    floor = _CHUNK_FLOOR * remaining / workers
    chunks: list[list[int]] = []
    chunk: list[int] = []
    taken = 0
    for i in order:
        if chunk and taken + sizes[i] > max(floor, _CHUNK_SHARE * remaining / workers):
            chunks.append(chunk)
            remaining -= taken
            chunk, taken = [], 0
        chunk.append(i)
        taken += sizes[i]
    if chunk:
        chunks.append(chunk)
    return chunks


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
    checks = _enabled_checks(analyzers, settings, "project_checks")
    tools = _enabled_checks(analyzers, settings, "tool_checks")
    if not checks and not tools:
        return []
    key = make_key(
        "project", digest, settings.digest, *(f"{r.path}:{r.sha256}" for r in reports),
        *(f"{a.id}:{r.id}" for a, r, _ in (*checks, *tools)),
    )  # fmt: skip
    cached = _cached_project(cache.get(key), notes)
    if cached is not None:
        return cached
    _load_facts(reports, cache, keys)
    abs_of = {rel: abs_path for abs_path, rel in files}
    project = ProjectContext(
        [ProjectFile(r.path, r.facts, r.functions) for r in reports if r.facts],
        settings,
        config.options,
    )
    raw: list[Finding] = []
    for _a, rule, check in checks:
        raw += _hit_findings(check(project), rule, config)
    ok_files = [(abs_of[r.path], r.path) for r in reports if r.status == "ok" and r.path in abs_of]
    tool_notes: list[str] = []
    for a, rule, tool_check in tools:
        tool = ToolContext(ok_files, config.root, config.options_for(a.id))
        raw += _hit_findings(tool_check(tool), rule, config)
        tool_notes += tool.errors
    out = _finish_project(raw, {r.path: r for r in reports}, abs_of, config)
    notes += [Note("", m) for m in tool_notes]
    cache.put(key, {"findings": [f.to_dict() for f in out], "notes": tool_notes})
    return out


def _enabled_checks(
    analyzers: list[Analyzer], settings: RuleSettings, kind: str
) -> list[tuple[Analyzer, Rule, Any]]:
    """(analyzer, rule, check) for the enabled rules among ``project_checks``/``tool_checks``."""
    return [
        (a, r, c)
        for a in analyzers
        if settings.analyzer_enabled(a.id, a.default_enabled)
        for r, c in getattr(a, kind)
        if settings.rule_enabled(r.id)
    ]


def _cached_project(cached: Any, notes: list[Note]) -> list[Finding] | None:
    """The project findings stored by an earlier run with the same inputs, if readable."""
    if not isinstance(cached, dict):
        return None
    try:
        findings = [Finding.from_dict(f) for f in cached["findings"]]
    except (KeyError, TypeError, ValueError):
        return None
    notes += [Note("", m) for m in cached.get("notes", [])]
    return findings


def _load_facts(reports: list[FileReport], cache: Cache, keys: dict[str, str]) -> None:
    """Read the facts of reports that came from the cache (their entries' second line, read
    only here)."""
    for r in reports:
        if r.cached and not r.facts and r.path in keys:
            facts = cache.get_extra(keys[r.path])
            r.facts = facts if isinstance(facts, dict) else {}


def _hit_findings(hits: Iterable[ProjectHit] | None, rule: Rule, config: Config) -> list[Finding]:
    """Findings for a project or tool check's hits, with each file's severity override."""
    return [
        Finding(
            rule=rule.id, category=rule.category,
            severity=config.settings_for(hit.path).severity_for(rule.id)
            or hit.severity or rule.severity,
            confidence=hit.confidence or rule.confidence, message=hit.message,
            path=hit.path, line=hit.at.line, column=hit.at.column,
            end_line=hit.at.end_line or hit.at.line, end_column=hit.at.end_column,
            properties=dict(hit.properties or {}),
        )
        for hit in hits or ()
    ]  # fmt: skip


def _finish_project(
    raw: list[Finding], by_path: dict[str, FileReport], abs_of: dict[str, str], config: Config
) -> list[Finding]:
    """Filter, suppress and fingerprint project findings, file by file."""
    grouped: dict[str, list[Finding]] = {}
    for finding in raw:
        grouped.setdefault(finding.path, []).append(finding)
    out: list[Finding] = []
    for path, group in grouped.items():
        report = by_path.get(path)
        if report is not None:
            lines = _read_lines(abs_of.get(path, ""))
            out += finish_findings(group, lines, report, config.settings_for(path))
    return out
