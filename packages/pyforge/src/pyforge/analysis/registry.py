"""The analyzer registry: analyzers, their rules, and the ``pyforge.analyzers`` entry points.

An analyzer owns rules. A rule is registered once, by decorating its check function; its name,
category and default severity are given to the decorator and its description and help text are
the function's docstring (first line and the rest), so the documentation lives next to the code.

Check functions come in four kinds, all returning an iterable of hits (or ``None``):

* ``node``: called for each AST node of the declared types, in the single pass over the file;
* ``function``: called with a function's metrics when the pass leaves the function;
* ``file``: called once per file after the pass, with the file's metrics;
* ``project``: called once per run with the facts every file's ``collect`` hook recorded;
* ``tool``: called once per run with every file, to run an external program (mypy).

ruff's rules are routed to the analyzers that declare them in ``ruff_select``; ruff runs once
per analysis for all of them.
Third-party analyzers are found through the ``pyforge.analyzers`` entry-point group, exactly like
the built-in ones: the entry point names an :class:`Analyzer` instance (or a class to call).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pyforge.analysis.findings import Category, Confidence, Severity

# The value types live in ``rules``; they are re-exported here, where plugins import them from.
from pyforge.analysis.rules import (
    CATEGORY_PREFIX,
    DEFAULT_OFF,
    PREFIX_CATEGORY,
    RULE_ALIASES,
    RULE_ID,
    Collector,
    FileCheck,
    FunctionCheck,
    Hit,
    Hits,
    HookKind,
    NodeCheck,
    ProjectCheck,
    ProjectHit,
    Rule,
    Span,
    ToolCheck,
    ToolContext,
    make_finding,
)

ENTRY_POINT_GROUP = "pyforge.analyzers"


def _doc_parts(fn: Callable[..., Any]) -> tuple[str, str]:
    doc = inspect.getdoc(fn) or ""
    first, _, rest = doc.partition("\n")
    return first.strip(), rest.strip()


@dataclass
class Analyzer:
    """A named, versioned set of rules with the checks that implement them.

    Bump ``version`` whenever a check's behaviour changes: it is part of the cache key.
    """

    id: str
    version: str
    description: str
    default_enabled: bool = True
    rules: dict[str, Rule] = field(default_factory=dict)
    node_checks: list[tuple[Rule, tuple[type[ast.AST], ...], NodeCheck]] = field(
        default_factory=list
    )
    function_checks: list[tuple[Rule, FunctionCheck]] = field(default_factory=list)
    file_checks: list[tuple[Rule, FileCheck]] = field(default_factory=list)
    project_checks: list[tuple[Rule, ProjectCheck]] = field(default_factory=list)
    tool_checks: list[tuple[Rule, ToolCheck]] = field(default_factory=list)
    collectors: list[Collector] = field(default_factory=list)
    #: ruff rule codes (prefixes) this analyzer reports through the shared ruff run.
    ruff_select: tuple[str, ...] = ()
    #: ruff codes left out by default (another analyzer owns the same check).
    ruff_ignore: tuple[str, ...] = ()
    #: category and default severity of a ruff code routed to this analyzer.
    ruff_classify: Callable[[str], tuple[Category, Severity]] | None = None
    #: whether ``ruff format --check`` runs for this analyzer (its findings: ``STY-FORMAT``).
    ruff_format: bool = False

    def rule(
        self,
        rule_id: str,
        name: str,
        category: Category,
        severity: Severity,
        *,
        on: HookKind = "node",
        nodes: Sequence[type[ast.AST]] = (),
        confidence: Confidence = Confidence.HIGH,
        aliases: Sequence[str] = (),
        enabled: bool = True,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as the check for a new rule.

        ``aliases`` are the ruff/flake8 codes of the same check, honoured by ``# noqa``;
        ``enabled=False`` makes a rule that runs only when ``select`` names it.
        """

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            description, help_text = _doc_parts(fn)
            rule = Rule(
                rule_id, name, category, severity, description, help_text, confidence, self.id,
                aliases=tuple(aliases), default_enabled=enabled,
            )  # fmt: skip
            self.add_rule(rule)
            if on == "node":
                if not nodes:
                    raise ValueError(f"node rule {rule_id} declares no node types")
                self.node_checks.append((rule, tuple(nodes), fn))
            elif on == "function":
                self.function_checks.append((rule, fn))
            elif on == "file":
                self.file_checks.append((rule, fn))
            elif on == "project":
                self.project_checks.append((rule, fn))
            else:
                self.tool_checks.append((rule, fn))
            return fn

        return decorate

    def add_rule(self, rule: Rule) -> None:
        """Add a rule that a check (or an external tool) reports."""
        match = RULE_ID.match(rule.id)
        if match is None or PREFIX_CATEGORY.get(match.group("prefix")) is not rule.category:
            raise ValueError(f"rule id {rule.id!r} does not carry its category's prefix")
        if rule.id in self.rules:
            raise ValueError(f"rule {rule.id} registered twice")
        self.rules[rule.id] = rule
        if rule.aliases:
            RULE_ALIASES[rule.id] = rule.aliases
        if not rule.default_enabled:
            DEFAULT_OFF.add(rule.id)

    def collect(self, fn: Collector) -> Collector:
        """Register a per-file fact collector whose JSON-able result feeds project checks."""
        self.collectors.append(fn)
        return fn

    def known_rules(self) -> list[Rule]:
        """Every rule this analyzer can report, ruff's rules it routes included."""
        rules = list(self.rules.values())
        if self.ruff_select:
            from pyforge.analysis import ruff

            for code in sorted(ruff.rule_metadata()):
                if self.owns_ruff_code(code, self.ruff_select):
                    rule = self.ruff_rule(code)
                    if rule is not None:
                        rules.append(rule)
        return rules

    def find_rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, if this analyzer owns it."""
        found = self.rules.get(rule_id)
        if found is None and self.ruff_select and "-" in rule_id:
            code = rule_id.split("-", 1)[1]
            rule = self.ruff_rule(code) if self.owns_ruff_code(code, self.ruff_select) else None
            if rule is not None and rule.id == rule_id:
                return rule
        return found

    def owns_ruff_code(self, code: str, select: Sequence[str]) -> bool:
        """Whether ``code`` falls under ``select`` and not under this analyzer's ignores."""
        return any(code.startswith(p) for p in select) and not any(
            code.startswith(p) for p in self.ruff_ignore
        )

    def ruff_rule(self, code: str, *, describe: bool = True) -> Rule | None:
        """The :class:`Rule` for a ruff code routed to this analyzer (documented by ruff).

        ``describe=False`` leaves out ruff's documentation (name, summary, explanation), which
        costs a ``ruff rule --all`` run: findings need only the id, category and severity.
        """
        if self.ruff_classify is None:
            return None
        from pyforge.analysis import ruff

        category, severity = self.ruff_classify(code)
        meta = ruff.rule_metadata().get(code, {}) if describe else {}
        return Rule(
            id=f"{CATEGORY_PREFIX[category]}-{code}",
            name=str(meta.get("name", code.lower())),
            category=category,
            severity=severity,
            description=str(meta.get("summary", f"ruff rule {code}")),
            help=str(meta.get("explanation", "")),
            analyzer=self.id,
            url=f"https://docs.astral.sh/ruff/rules/{meta['name']}" if "name" in meta else None,
        )


class RegistryError(Exception):
    """An analyzer plugin could not be loaded or is inconsistent."""


@dataclass
class Registry:
    """All analyzers known to this process, by id."""

    analyzers: dict[str, Analyzer]
    errors: list[str] = field(default_factory=list)

    def rule(self, rule_id: str) -> Rule | None:
        """Look a rule up in every analyzer."""
        for analyzer in self.analyzers.values():
            found = analyzer.find_rule(rule_id)
            if found is not None:
                return found
        return None

    def all_rules(self) -> list[Rule]:
        """Every rule of every analyzer, sorted by id."""
        rules = [r for a in self.analyzers.values() for r in a.known_rules()]
        return sorted(rules, key=lambda r: r.id)


def _load(ep_value: Any, name: str) -> Analyzer:
    obj = ep_value() if isinstance(ep_value, type) else ep_value
    if not isinstance(obj, Analyzer):
        raise RegistryError(f"entry point {name!r} is not a pyforge Analyzer")
    if obj.id != name:
        raise RegistryError(f"entry point {name!r} names analyzer {obj.id!r}")
    return obj


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    """Load every analyzer registered under the ``pyforge.analyzers`` entry-point group.

    A broken third-party plugin is reported in ``errors`` and left out; it never stops a run.
    """
    analyzers: dict[str, Analyzer] = {}
    errors: list[str] = []
    from pyforge.analysis.plugins import entry_points

    for ep in sorted(entry_points(ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            analyzer = _load(ep.load(), ep.name)
        except Exception as exc:
            errors.append(f"analyzer plugin {ep.name!r} failed to load: {exc}")
            continue
        if analyzer.id in analyzers:
            errors.append(f"analyzer {analyzer.id!r} registered twice; keeping the first")
            continue
        analyzers[analyzer.id] = analyzer
    if "complexity" not in analyzers:
        errors.append(
            "the built-in analyzers are not registered: reinstall pyforge "
            "(pip install -e packages/pyforge) so its entry points are recorded"
        )
    return Registry(analyzers, errors)


__all__ = [
    "CATEGORY_PREFIX",
    "DEFAULT_OFF",
    "ENTRY_POINT_GROUP",
    "PREFIX_CATEGORY",
    "RULE_ALIASES",
    "RULE_ID",
    "Analyzer",
    "Collector",
    "FileCheck",
    "FunctionCheck",
    "Hit",
    "Hits",
    "HookKind",
    "NodeCheck",
    "ProjectCheck",
    "ProjectHit",
    "Registry",
    "RegistryError",
    "Rule",
    "Span",
    "ToolCheck",
    "ToolContext",
    "get_registry",
    "make_finding",
]
