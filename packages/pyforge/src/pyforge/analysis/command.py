"""``pyforge analyze`` without the CLI framework: what the typer command and the fast path run.

A plain ``pyforge analyze`` command line that the run cache cannot answer
(:func:`pyforge.analysis.runcache.fast_main`) is parsed by :func:`fast_analyze` and runs here
without importing typer, whose import alone is a third of a one-file run's start-up; the typer
command in :mod:`pyforge.analysis.cli` calls the same :func:`analyze_command`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE = 0, 1, 2
_PROGRESS_MIN_FILES = 50


#: Options of a plain ``analyze`` command line: option -> keyword of :func:`analyze_command`.
_VALUE_OPTIONS = {
    "--format": "fmt", "-f": "fmt", "--output": "output", "-o": "output",
    "--cache-dir": "cache_dir", "--config": "config", "--baseline": "baseline",
    "--jobs": "jobs", "-j": "jobs", "--changed-since": "changed_since",
    "--diff-base": "diff_base",
}  # fmt: skip
_PATH_OPTIONS = frozenset({"output", "cache_dir", "config", "baseline"})


class UsageError(Exception):
    """Bad input to a command: one ``pyforge: error:`` line on stderr, exit code 2."""


def _fail(message: str) -> NoReturn:
    raise UsageError(message)


def fast_analyze(argv: list[str]) -> int | None:
    """Run a plain ``analyze`` command line without the CLI framework; None for anything else.

    Plain: paths, the flag ``--no-cache`` and the options in :data:`_VALUE_OPTIONS`, each once
    (``--help``, unknown options and odd values go to the full CLI, which explains them).
    """
    started = time.perf_counter()
    parsed = _parse_plain(argv)
    if parsed is None:
        return None
    paths, kwargs = parsed
    from pyforge.analysis.runcache import missed_entry

    # A miss that runcache.fast_main has just had for this command line: no second lookup.
    kwargs["missed"] = missed_entry(argv)
    try:
        return analyze_command(paths, started=started, **kwargs)
    except UsageError as exc:
        sys.stderr.write(f"pyforge: error: {exc}\n")
        return EXIT_USAGE


def _parse_plain(argv: list[str]) -> tuple[list[str], dict[str, Any]] | None:
    if argv[:1] != ["analyze"]:
        return None
    paths: list[str] = []
    kwargs: dict[str, Any] = {}
    args = argv[1:]
    while args:
        arg = args.pop(0)
        if not arg.startswith("-"):
            paths.append(arg)
        elif arg == "--no-cache" and "no_cache" not in kwargs:
            kwargs["no_cache"] = True
        elif not _take_option(arg, args, kwargs):
            return None
    return paths, kwargs


def _take_option(arg: str, args: list[str], kwargs: dict[str, Any]) -> bool:
    """Move one ``--name value`` (or ``--name=value``) into ``kwargs``; False if not plain."""
    name, eq, value = arg.partition("=")
    key = _VALUE_OPTIONS.get(name)
    if key is None or key in kwargs or (eq and not name.startswith("--")):
        return False
    if not eq:
        if not args:
            return False
        value = args.pop(0)
    if not value or value.startswith("-"):
        return False
    if key == "jobs":
        if not (value.isdigit() and int(value) >= 1):
            return False
        kwargs[key] = int(value)
    else:
        kwargs[key] = Path(value) if key in _PATH_OPTIONS else value
    return True


def analyze_command(
    paths: list[str],
    *,
    fmt: str = "table",
    output: Path | None = None,
    changed_since: str | None = None,
    jobs: int | None = None,
    no_cache: bool = False,
    cache_dir: Path | None = None,
    baseline: Path | None = None,
    config: Path | None = None,
    started: float | None = None,
    diff_base: str | None = None,
    missed: Path | None = None,
) -> int:
    """Run ``pyforge analyze``: write the report, return the exit code (0 gate passed, 1 not).

    Raises :class:`UsageError` for bad input. ``diff_base`` reports only the findings on
    lines changed since that git ref (:mod:`pyforge.analysis.diffbase`). ``missed`` is this
    command line's run cache entry when it was looked up a moment ago without a hit.
    """
    if diff_base is not None:
        from pyforge.analysis.diffbase import analyze_diff_base

        return analyze_diff_base(
            paths, diff_base, fmt=fmt, output=output, jobs=jobs, no_cache=no_cache,
            cache_dir=cache_dir, baseline=baseline, config=config,
        )  # fmt: skip
    started = time.perf_counter() if started is None else started
    started_ns = time.time_ns()
    use_run_cache = not no_cache and changed_since is None and (jobs is None or jobs >= 1)
    # Computed once: looked up now, stored under after the run (hashing every path costs).
    entry = missed
    if entry is None and use_run_cache:
        entry = _run_cache_entry(paths, config, cache_dir, baseline, fmt)
    if entry is not None and entry is not missed:
        from pyforge.analysis.runcache import answer

        code = answer(paths, fmt=fmt, output=output, config_file=config, cache_dir=cache_dir,
                      baseline=baseline, started=started, entry=entry)  # fmt: skip
        if code is not None:
            return code

    from pyforge.analysis.reporters import FORMATS

    if fmt not in FORMATS:
        _fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    report = run_analysis(
        paths, config_file=config, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir,
        changed_since=changed_since, baseline=baseline, show_progress=fmt == "table" or output
        is not None,
    )  # fmt: skip
    passed = report.gate is None or report.gate.passed
    with _output(output) as out:
        _write(report, fmt, out, entry, started_ns, paths, config, passed)
    return EXIT_OK if passed else EXIT_GATE_FAILED


def _write(
    report: Any, fmt: str, out: TextIO, entry: Path | None, started_ns: int, paths: list[str],
    config: Path | None, passed: bool,
) -> None:  # fmt: skip
    """Render the report to ``out``, through the run cache when it can store this run."""
    from pyforge.analysis.reporters import render

    if entry is None:
        render(report, fmt, out, color=out is sys.stdout and sys.stdout.isatty())
        return
    from pyforge.analysis import runcache

    text = runcache.render_template(report, render, fmt)
    out.write(runcache.fill(text, report.duration_s, report.cache_hits))
    runcache.store(
        entry, report, text, passed=passed, started_ns=started_ns,
        searched=runcache.searched_configs(paths, config),
    )  # fmt: skip


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


def run_analysis(
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
    """Analyse ``paths`` as the command line says; bad input raises :class:`UsageError`."""
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
