"""Analysis of one file: read it safely, parse it once, walk it once.

Bad input never raises out of here: syntax and decoding errors become ``BUG001``/``BUG002``
findings at their location, and files that cannot be analysed (too large, unreadable, nested
beyond the parser's limits) are skipped with a note.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import re
import sys
import tokenize
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from pyforge.analysis.config import RuleSettings, _rule_matches
from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Finding, Severity, fingerprint_findings
from pyforge.analysis.metrics.mi import maintainability_index
from pyforge.analysis.metrics.raw import ALL_RULES, RawMetrics, TokenScan, scan_tokens
from pyforge.analysis.registry import (
    RULE_ALIASES,
    Analyzer,
    Collector,
    FileCheck,
    FunctionCheck,
    NodeCheck,
    Rule,
    Span,
    make_finding,
)
from pyforge.analysis.report import FileReport, Note
from pyforge.analysis.walker import Walker

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: Deep enough for any real code (and generated code with long operator chains), low enough
#: to stay far from the C stack limit.
RECURSION_LIMIT = 12_000

SYNTAX_ERROR = Rule(
    "BUG001", "syntax-error", Category.BUG_RISK, Severity.BLOCKER,
    "File does not parse as Python.",
    "The file cannot be compiled, so it fails at import time and nothing else in it can be "
    "analysed. Null bytes and a wrong encoding cookie are reported here too.\n\n"
    "How to fix: correct the syntax at the reported location.",
    analyzer="engine",
)  # fmt: skip
DECODE_ERROR = Rule(
    "BUG002", "undecodable-file", Category.BUG_RISK, Severity.BLOCKER,
    "File is not valid text in its declared encoding.",
    "Python reads source files as UTF-8 unless a coding cookie (``# -*- coding: latin-1 -*-``) "
    "on the first two lines says otherwise. Bytes that do not decode make the file fail to "
    "import.\n\nHow to fix: re-save the file as UTF-8, or declare its real encoding.",
    analyzer="engine",
)  # fmt: skip
ENGINE_RULES = (SYNTAX_ERROR, DECODE_ERROR)


@dataclass
class Plan:
    """The checks to run for one set of rule settings, indexed for the single pass."""

    node_checks: dict[type, list[tuple[Rule, NodeCheck]]] = field(default_factory=dict)
    function_checks: list[tuple[Rule, FunctionCheck]] = field(default_factory=list)
    file_checks: list[tuple[Rule, FileCheck]] = field(default_factory=list)
    collectors: list[tuple[str, Collector]] = field(default_factory=list)


def build_plan(analyzers: Iterable[Analyzer], settings: RuleSettings) -> Plan:
    """Select the enabled analyzers' enabled rules and index node checks by node type."""
    plan = Plan()
    for analyzer in analyzers:
        if not settings.analyzer_enabled(analyzer.id, analyzer.default_enabled):
            continue
        for rule, types, check in analyzer.node_checks:
            if settings.rule_enabled(rule.id):
                for t in types:
                    plan.node_checks.setdefault(t, []).append((rule, check))
        plan.function_checks += [
            (r, c) for r, c in analyzer.function_checks if settings.rule_enabled(r.id)
        ]
        plan.file_checks += [(r, c) for r, c in analyzer.file_checks if settings.rule_enabled(r.id)]
        if any(settings.rule_enabled(r.id) for r, _ in analyzer.project_checks):
            plan.collectors += [(analyzer.id, c) for c in analyzer.collectors]
    return plan


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    """Raise the recursion limit for deeply nested (but valid) code, then restore it."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def split_lines(text: str) -> list[str]:
    """Lines as the parser numbers them (``\\n``, ``\\r\\n`` and ``\\r`` end a line)."""
    if "\r" not in text:
        return text.split("\n")  # the usual case, several times faster than the pattern
    return _LINE_BREAK.split(text)


def decode_source(data: bytes, path: str) -> tuple[str | None, Finding | None]:
    """Decode source bytes per PEP 263 (BOM, coding cookie, else UTF-8).

    Returns the text, or a ``BUG001``/``BUG002`` finding saying why it cannot be decoded.
    """
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    except SyntaxError as exc:
        line = next((i for i, ln in enumerate(data.splitlines()[:2], 1) if b"coding" in ln), 1)
        return None, make_finding(SYNTAX_ERROR, path, Span(line), f"Bad encoding: {exc}")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, make_finding(
            DECODE_ERROR,
            path,
            Span(line, column),
            f"Byte 0x{data[exc.start]:02x} cannot be decoded as {encoding}.",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def _syntax_finding(path: str, exc: SyntaxError | ValueError, text: str) -> Finding:
    if isinstance(exc, SyntaxError):
        line = exc.lineno or 1
        column = max(1, exc.offset or 1)
        end_line = exc.end_lineno or line
        message = f"Syntax error: {exc.msg}"
    else:  # ValueError: "source code string cannot contain null bytes" (Python < 3.12)
        pos = text.find("\0")
        line = text.count("\n", 0, pos) + 1 if pos >= 0 else 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1 if pos >= 0 else 1
        end_line = line
        message = "Syntax error: source contains a null byte"
    if "null byte" in message and isinstance(exc, SyntaxError):
        pos = text.find("\0")
        if pos >= 0:
            line = text.count("\n", 0, pos) + 1
            column = pos - (text.rfind("\n", 0, pos) + 1) + 1
            end_line = line
    return make_finding(SYNTAX_ERROR, path, Span(line, column, end_line), message)


def _fallback_raw(lines: list[str]) -> RawMetrics:
    blank = sum(1 for ln in lines if not ln.strip())
    comments = sum(1 for ln in lines if ln.lstrip().startswith("#"))
    return RawMetrics(
        loc=len(lines), lloc=0, sloc=len(lines) - blank - comments, comments=comments,
        blank=blank, single_comments=comments,
    )  # fmt: skip


def is_suppressed(finding: Finding, suppressions: Mapping[int, list[str]]) -> bool:
    """Whether a ``# pyforge: ignore[...]`` (or ``# noqa: ID``) on its line covers it.

    A ``# noqa`` for the ruff/flake8 code an own rule duplicates (``B006`` for ``BUG101``)
    covers the own rule too: a maintainer silences one check once.
    """
    rules = suppressions.get(finding.line)
    if not rules:
        return False
    if ALL_RULES in rules or _rule_matches(finding.rule, rules):
        return True
    return any(_rule_matches(alias, rules) for alias in RULE_ALIASES.get(finding.rule, ()))


def finish_findings(
    findings: Iterable[Finding],
    lines: list[str],
    report: FileReport,
    settings: RuleSettings,
) -> list[Finding]:
    """Filter by settings and suppressions, then fingerprint; the last step for any finding."""
    kept = [
        f
        for f in findings
        if (f.rule in ("BUG001", "BUG002") or settings.rule_enabled(f.rule))
        and not is_suppressed(f, report.suppressions)
    ]
    return fingerprint_findings(kept, lines, report.scope_at)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while one file is analysed.

    Parsing allocates hundreds of thousands of AST nodes, none of them in a reference cycle,
    yet each allocation burst triggers collections that traverse every live object: with the
    collector on, a cold run spends close to half its time in it. The few cycles a file's
    analysis leaves are collected once the collector is back on.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def analyze_text(
    text: str,
    path: str,
    settings: RuleSettings,
    plan: Plan,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    sha256: str = "",
) -> FileReport:
    """Analyse decoded source text; ``path`` is the relative path findings carry."""
    with gc_paused():
        return _analyze_text(text, path, settings, plan, options, sha256=sha256)


def _analyze_text(
    text: str,
    path: str,
    settings: RuleSettings,
    plan: Plan,
    options: Mapping[str, Mapping[str, Any]] | None,
    *,
    sha256: str,
) -> FileReport:
    report = FileReport(
        path=path,
        sha256=sha256 or hashlib.sha256(text.encode()).hexdigest(),
        test=settings.test,
    )
    lines = split_lines(text)
    with warnings.catch_warnings():
        # Invalid escape sequences and the like warn during parsing; they are not our output.
        warnings.simplefilter("ignore")
        try:
            with recursion_limit(RECURSION_LIMIT):
                tree = ast.parse(text, filename=path)
        except (SyntaxError, ValueError) as exc:
            report.status = "error"
            report.findings = finish_findings(
                [_syntax_finding(path, exc, text)], lines, report, settings
            )
            return report
        except (RecursionError, MemoryError):
            report.status = "skipped"
            report.notes.append(Note(path, "skipped: nested too deeply for the Python parser"))
            return report

    try:
        # Duplication units and private names are only worth their cost to the project
        # checks that read them.
        collecting = {a for a, _ in plan.collectors}
        scan = scan_tokens(
            text, want_units="duplication" in collecting, want_private="deadcode" in collecting,
            lines=lines,
        )  # fmt: skip
    except (tokenize.TokenError, SyntaxError):
        scan = TokenScan(raw=_fallback_raw(lines))
    report.suppressions = scan.suppressions

    ctx = FileContext(
        path=path, text=text, settings=settings, options=options or {}, lines=lines,
        tree=tree, scan=scan,
    )  # fmt: skip
    walker = Walker(ctx, plan.node_checks, plan.function_checks)
    try:
        with recursion_limit(RECURSION_LIMIT):
            walker.run(tree)
    except RecursionError:
        report.status = "skipped"
        report.notes.append(Note(path, "skipped: nested too deeply to analyse"))
        return report
    finally:
        del tree
        ctx.tree = None

    metrics = ctx.metrics
    metrics.raw = scan.raw
    metrics.halstead = walker.halstead.report()
    metrics.cyclomatic = walker.module_total
    metrics.maintainability_index = maintainability_index(
        metrics.halstead.volume,
        walker.module_total,
        scan.raw.lloc,
        scan.raw.comments + scan.raw.multi,
        scan.raw.sloc,
    )
    for fm in ctx.functions:
        metrics.parameters += fm.parameters
        metrics.annotated_parameters += fm.annotated_parameters
        metrics.returns += 1
        metrics.annotated_returns += fm.has_return_annotation
    ctx.functions.sort(key=lambda f: (f.line, f.column))
    ctx.classes.sort(key=lambda c: c.line)
    for rule, check in plan.file_checks:
        ctx.add_all(rule, check(ctx), scope="")
    for analyzer_id, collect in plan.collectors:
        value = collect(ctx)
        if value is not None:
            ctx.facts[analyzer_id] = value

    report.metrics = metrics
    report.functions = ctx.functions
    report.classes = ctx.classes
    report.facts = ctx.facts
    report.findings = finish_findings(ctx.findings, lines, report, settings)
    return report


def analyze_bytes(
    data: bytes,
    path: str,
    settings: RuleSettings,
    plan: Plan,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    sha256: str = "",
) -> FileReport:
    """Analyse raw file content (decoding it per PEP 263 first); ``sha256`` is the content's
    digest when the caller has it already."""
    digest = sha256 or hashlib.sha256(data).hexdigest()
    text, problem = decode_source(data, path)
    if text is None:
        assert problem is not None
        report = FileReport(path=path, status="error", sha256=digest, test=settings.test)
        report.findings = fingerprint_findings([problem], [], None)
        return report
    return analyze_text(text, path, settings, plan, options, sha256=digest)
