"""The ``analyze``, ``rules``, ``explain`` and ``baseline create`` commands.

Exit codes: 0 the quality gate passed, 1 it failed, 2 usage or input error (one line on stderr,
never a traceback).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from pyforge.analysis.command import (
    EXIT_USAGE,
    UsageError,
    analyze_command,
    run_analysis,
)


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"pyforge: error: {message}\n")
    raise typer.Exit(EXIT_USAGE)


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
    diff_base: Annotated[
        str | None,
        typer.Option("--diff-base", help="Only findings on lines changed since this git ref."),
    ] = None,
) -> None:
    """Analyse Python files: metrics, complexity, bugs, security, style, types."""
    started = time.perf_counter()
    try:
        code = analyze_command(
            paths or [], fmt=fmt, output=output, changed_since=changed_since, jobs=jobs,
            no_cache=no_cache, cache_dir=cache_dir, baseline=baseline, config=config,
            started=started, diff_base=diff_base,
        )  # fmt: skip
    except UsageError as exc:
        _fail(str(exc))
    raise typer.Exit(code)


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
    from pyforge.analysis.catalogue import find_rule

    found = find_rule(rule)
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

    try:
        report = run_analysis(
            paths or [], config_file=config, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir,
            changed_since=None, baseline=None, show_progress=True,
        )  # fmt: skip
    except UsageError as exc:
        _fail(str(exc))
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
