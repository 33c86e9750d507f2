"""The ``suggest`` and ``fix`` commands.

Exit codes as ``pyforge analyze``: 0 done, 2 usage or input error (one ``pyforge: error:``
line on stderr, never a traceback). Files that do not parse or decode are skipped with a
``pyforge: note:`` line and do not change the exit code.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import tempfile
import tokenize
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from pyforge.refactor import Suggestion

EXIT_USAGE = 2
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})

PathsArg = Annotated[list[Path], typer.Argument(help="Python files or directories.")]
RuleOpt = Annotated[
    list[str] | None, typer.Option("--rule", "-r", help="Only this rule (repeatable).")
]


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"pyforge: error: {message}\n")
    raise typer.Exit(EXIT_USAGE)


def _note(message: str) -> None:
    sys.stderr.write(f"pyforge: note: {message}\n")


def python_files(paths: list[Path]) -> list[Path]:
    """The ``.py`` files under ``paths`` (files named directly are taken as they are),
    sorted; hidden and cache directories are skipped. UsageError-style exit if one is missing."""
    for p in paths:
        if not p.exists():
            _fail(f"path does not exist: {p}")
    found: list[Path] = []
    for p in paths:
        found += [p] if p.is_file() else sorted(_walk(p))
    return list(dict.fromkeys(found))


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        yield from (Path(dirpath, f) for f in filenames if f.endswith(".py"))


@dataclass
class _Source:
    path: Path
    text: str
    encoding: str


def _read(path: Path) -> _Source | None:
    """The file's text as written (newlines untouched), or None with a note."""
    try:
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return _Source(path, data.decode(encoding), encoding)
    except OSError as exc:
        _note(f"skipped {path}: {exc.strerror}")
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        _note(f"skipped {path}: not readable as Python source ({exc})")
    return None


def _selected(rules: list[str] | None, *, fixable: bool) -> frozenset[str] | None:
    from pyforge.refactor import FIXABLE_RULES, RefactorError, check_rules

    if not rules:
        return None
    try:
        chosen = check_rules(rules)
    except RefactorError as exc:
        _fail(str(exc))
    if fixable and not chosen <= frozenset(FIXABLE_RULES):
        bad = sorted(chosen - frozenset(FIXABLE_RULES))[0]
        _fail(f"rule {bad} has no automatic fix; fixable: {', '.join(FIXABLE_RULES)}")
    return chosen


def suggest(
    paths: PathsArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    rule: RuleOpt = None,
) -> None:
    """Refactoring suggestions and performance hints, with before/after previews."""
    from pyforge.refactor import RefactorError
    from pyforge.refactor import suggest as suggest_source

    if fmt not in ("table", "json"):
        _fail(f"unknown format {fmt!r}; choose table or json")
    chosen = _selected(rule, fixable=False)
    found = []
    for path in python_files(paths):
        source = _read(path)
        if source is None:
            continue
        try:
            found += suggest_source(source.text, path.as_posix(), chosen)
        except RefactorError as exc:
            _note(f"skipped {exc}")
    if fmt == "json":
        sys.stdout.write(json.dumps({"suggestions": [s.to_dict() for s in found]}, indent=1))
        sys.stdout.write("\n")
        return
    _table(found)


def _table(found: Sequence[Suggestion]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Refactoring suggestions ({len(found)})", title_justify="left")
    for col in ("Location", "Rule", "Fix", "Message"):
        table.add_column(col, overflow="fold")
    for s in found:
        table.add_row(f"{s.path}:{s.line}:{s.column}", s.rule, "yes" if s.fix else "",
                      escape(s.message))  # fmt: skip
    Console(highlight=False, width=max(120, Console().width)).print(table)


def fix(
    paths: PathsArg,
    preview: Annotated[bool, typer.Option("--preview", help="Print a unified diff.")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Rewrite the files.")] = False,
    rule: RuleOpt = None,
) -> None:
    """Apply the safe refactorings (libcst codemods): --preview shows a diff, --apply writes."""
    if preview and apply:
        _fail("choose one of --preview and --apply")
    chosen = _selected(rule, fixable=True)
    totals: Counter[str] = Counter()
    changed = 0
    for path in python_files(paths):
        counts = _fix_file(path, chosen, apply=apply)
        totals.update(counts)
        changed += bool(counts)
    if apply:
        detail = ", ".join(f"{r}: {n}" for r, n in sorted(totals.items()))
        sys.stdout.write(
            f"applied {sum(totals.values())} fixes in {changed} files"
            + (f" ({detail})" if detail else "") + "\n"
        )  # fmt: skip


def _fix_file(path: Path, rules: frozenset[str] | None, *, apply: bool) -> Counter[str]:
    from pyforge.refactor import RefactorError, fix_source

    source = _read(path)
    if source is None:
        return Counter()
    try:
        result = fix_source(source.text, path.as_posix(), rules)
    except RefactorError as exc:
        _note(f"skipped {exc}")
        return Counter()
    if not result.total:
        return Counter()
    if apply:
        _write_atomically(path, result.source.encode(source.encoding))
    else:
        name = path.as_posix().lstrip("/")
        diff = difflib.unified_diff(
            source.text.splitlines(keepends=True), result.source.splitlines(keepends=True),
            f"a/{name}", f"b/{name}",
        )  # fmt: skip
        sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
    return result.counts


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace the file in one step (a reader sees the old or the new file, never half),
    keeping its permissions."""
    mode = path.stat().st_mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        Path(tmp).chmod(mode & 0o7777)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        _fail(f"cannot write {path}: {exc.strerror}")


def register(app: typer.Typer) -> None:
    """Add ``suggest`` and ``fix`` to the ``pyforge`` command."""
    app.command("suggest")(suggest)
    app.command("fix")(fix)
