"""The ``analyze``, ``rules``, ``explain`` and ``baseline create`` commands.

Exit codes: 0 the quality gate passed, 1 it failed, 2 usage or input error (one line on stderr,
never a traceback).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer

EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE = 0, 1, 2
_PROGRESS_MIN_FILES = 50


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"pyforge: error: {message}\n")
    raise typer.Exit(EXIT_USAGE)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr for long runs on a terminal (None otherwise)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    )  # fmt: skip
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if total < _PROGRESS_MIN_FILES:
            return
        if task is None:
            progress.start()
            task = progress.add_task("analysing", total=total)
        progress.update(task, completed=done)

    try:
        yield update
    finally:
        progress.stop()


def _run(
    paths: list[str],
    *,
    config_file: Path | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    changed_since: str | None,
    baseline: Path | None,
    show_progress: bool,
) -> Any:
    from pyforge.analysis import BaselineError, ConfigError, InputError, analyze_paths
    from pyforge.analysis.config import find_config, load_config
    from pyforge.analysis.discovery import resolve_root

    targets = [Path(p) for p in paths] or [Path()]
    for p in targets:
        if not p.exists() and not p.is_symlink():
            _fail(f"path does not exist: {p}")
    if jobs is not None and jobs < 1:
        _fail("--jobs must be at least 1")
    try:
        source = config_file or find_config(targets[0].resolve())
        if config_file is not None and not config_file.is_file():
            _fail(f"configuration file not found: {config_file}")
        root = resolve_root(targets, source)
        config = load_config(root, source, discover=False)
        with _progress(show_progress) as progress:
            return analyze_paths(
                targets, config, jobs=jobs, progress=progress, use_cache=not no_cache,
                cache_dir=cache_dir, changed_since=changed_since, baseline=baseline,
            )  # fmt: skip
    except (ConfigError, InputError, BaselineError) as exc:
        _fail(str(exc))


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        fh = path.open("w", encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror}")
    with fh:
        yield fh


# Plain strings: typer's per-argument Path coercion costs ~0.1 ms each, which shows when a
# pre-commit hook passes hundreds of files.
PathsArg = Annotated[
    list[str] | None, typer.Argument(help="Files or directories to analyse (default: .).")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Use this pyforge.toml/pyproject.toml.")
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the cache.")]
CacheDirOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="Cache directory (default: ROOT/.pyforge-cache).")
]


def analyze(
    paths: PathsArg = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, sarif or markdown.")
    ] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    changed_since: Annotated[
        str | None, typer.Option("--changed-since", help="Only files changed since this git ref.")
    ] = None,
    jobs: JobsOpt = None,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Report only findings not in this file.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Analyse Python files: metrics, complexity, bugs, security, style, types."""
    started, started_ns = time.perf_counter(), time.time_ns()
    use_run_cache = not no_cache and changed_since is None and (jobs is None or jobs >= 1)
    if use_run_cache:
        from pyforge.analysis.runcache import answer

        code = answer(paths or [], fmt=fmt, output=output, config_file=config,
                      cache_dir=cache_dir, baseline=baseline, started=started)  # fmt: skip
        if code is not None:
            raise typer.Exit(code)

    from pyforge.analysis.reporters import FORMATS, render

    if fmt not in FORMATS:
        _fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    report = _run(
        paths or [], config_file=config, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir,
        changed_since=changed_since, baseline=baseline, show_progress=fmt == "table" or output
        is not None,
    )  # fmt: skip
    passed = report.gate is None or report.gate.passed
    entry = (
        _run_cache_entry(paths or [], config, cache_dir, baseline, fmt) if use_run_cache else None
    )
    with _output(output) as out:
        if entry is None:
            render(report, fmt, out, color=out is sys.stdout and sys.stdout.isatty())
        else:
            from pyforge.analysis import runcache

            text = runcache.render_template(report, render, fmt)
            out.write(runcache.fill(text, report.duration_s, report.cache_hits))
            runcache.store(
                entry, report, text, passed=passed, started_ns=started_ns,
                searched=runcache.searched_configs(paths or [], config),
            )  # fmt: skip
    raise typer.Exit(EXIT_OK if passed else EXIT_GATE_FAILED)


def _run_cache_entry(
    paths: list[str], config: Path | None, cache_dir: Path | None, baseline: Path | None,
    fmt: str,
) -> Path | None:  # fmt: skip
    """The run cache's entry for this command line (None when the format or input rules it
    out; the normal path then reports any input error)."""
    from pyforge.analysis.locate import ConfigError
    from pyforge.analysis.runcache import FORMATS, entry_path

    if fmt not in FORMATS:
        return None
    try:
        return entry_path(paths, config_file=config, cache_dir=cache_dir, baseline=baseline,
                          fmt=fmt)  # fmt: skip
    except (OSError, ValueError, ConfigError):
        return None


def rules(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    analyzer: Annotated[
        str | None, typer.Option("--analyzer", help="Only this analyzer's rules.")
    ] = None,
) -> None:
    """List every rule with its category, default severity and description."""
    from pyforge.analysis.engine import ENGINE_RULES
    from pyforge.analysis.registry import get_registry

    registry = get_registry()
    if analyzer is not None and analyzer not in registry.analyzers:
        _fail(f"unknown analyzer {analyzer!r}; known: {', '.join(sorted(registry.analyzers))}")
    found = [r for r in ENGINE_RULES if analyzer in (None, "engine")]
    for a in registry.analyzers.values():
        if analyzer is None or a.id == analyzer:
            found += a.known_rules()
    found.sort(key=lambda r: r.id)
    if fmt == "json":
        sys.stdout.write(json.dumps([r.to_dict() for r in found], indent=1) + "\n")
        return
    if fmt != "table":
        _fail(f"unknown format {fmt!r}; choose table or json")
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"PyForge rules ({len(found)})", title_justify="left")
    for col in ("Rule", "Name", "Category", "Severity", "Analyzer", "Description"):
        table.add_column(col, overflow="fold")
    for r in found:
        table.add_row(r.id, r.name, r.category.value, r.severity.value, r.analyzer,
                      escape(r.description))  # fmt: skip
    Console(highlight=False, width=max(120, Console().width)).print(table)


def explain(
    rule: Annotated[str, typer.Argument(help="A rule id, e.g. BUG101 or SEC-S602.")],
) -> None:
    """Show a rule's documentation: what it detects, why it matters, how to fix it."""
    from pyforge.analysis.engine import ENGINE_RULES
    from pyforge.analysis.registry import get_registry

    registry = get_registry()
    wanted = rule.strip()
    found = next((r for r in ENGINE_RULES if r.id == wanted), None) or registry.rule(wanted)
    if found is None and "-" not in wanted:
        # A bare ruff code (S602) names the routed rule (SEC-S602).
        found = next((r for r in registry.all_rules() if r.id.endswith("-" + wanted)), None)
    if found is None:
        _fail(f"unknown rule {rule!r}; 'pyforge rules' lists them")
    sys.stdout.write(
        f"{found.id} ({found.name})\n"
        f"category: {found.category.value}   default severity: {found.severity.value}   "
        f"analyzer: {found.analyzer}\n\n{found.description}\n\n{found.help}\n"
        + (f"\nMore: {found.url}\n" if found.url else "")
    )


baseline_app = typer.Typer(help="Record findings so that later runs report only new ones.",
                           no_args_is_help=True)  # fmt: skip


@baseline_app.command("create")
def baseline_create(
    paths: PathsArg = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Baseline file (default: ROOT/.pyforge-baseline.json)"),
    ] = None,
    jobs: JobsOpt = None,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record today's findings (by fingerprint) in a baseline file."""
    from pyforge.analysis.baseline import DEFAULT_BASELINE, write_baseline

    report = _run(
        paths or [], config_file=config, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir,
        changed_since=None, baseline=None, show_progress=True,
    )  # fmt: skip
    target = output or Path(report.root) / DEFAULT_BASELINE
    try:
        count = write_baseline(target, report.findings)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror}")
    sys.stderr.write(f"Recorded {count} findings in {target}\n")


def register(app: typer.Typer) -> None:
    """Add ``analyze``, ``rules``, ``explain`` and ``baseline create`` to the ``pyforge`` app."""
    app.command("analyze")(analyze)
    app.command("rules")(rules)
    app.command("explain")(explain)
    app.add_typer(baseline_app, name="baseline")


def main(argv: list[str] | None = None) -> None:
    """Run the analysis commands on their own (``python -m pyforge.analysis``)."""
    app = typer.Typer(name="pyforge", no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False)  # fmt: skip
    register(app)
    app(args=argv, prog_name="pyforge")
