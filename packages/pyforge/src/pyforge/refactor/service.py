"""``suggest`` and ``fix_source``: the pure-Python entry points (CLI and API call these).

Analysed code is parsed (ast and libcst), never imported or executed.
"""

from __future__ import annotations

import ast
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyforge.refactor.model import (
    FIXABLE_RULES,
    RULE_IDS,
    RefactorError,
    Suggestion,
    rule_info,
)

if TYPE_CHECKING:
    from pyforge.refactor.codemods import Change

#: A fix runs the codemods again on their own output (a guard clause can expose a boolean
#: return, say) until nothing changes, at most this many times.
MAX_FIX_ROUNDS = 4


def _parse(source: str, path: str) -> ast.Module:
    with warnings.catch_warnings():
        # Invalid escape sequences and the like warn while parsing; they are not our output.
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source, filename=path)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            where = f"{path}:{line}" if line else path
            raise RefactorError(f"{where}: does not parse: {exc.args[0]}") from None
        except (RecursionError, MemoryError):
            raise RefactorError(f"{path}: nested too deeply for the Python parser") from None


def _codemods(
    source: str, path: str, rules: frozenset[str], *, apply: bool
) -> tuple[str, list[Change], Counter[str]]:
    from pyforge.refactor import codemods

    try:
        return codemods.run(source, rules, apply=apply)
    except RefactorError as exc:
        raise RefactorError(f"{path}: {exc}") from None


def check_rules(rules: Iterable[str] | None) -> frozenset[str]:
    """The selected rule ids (all fixable ones by default); RefactorError for unknown ids."""
    if rules is None:
        return frozenset(FIXABLE_RULES)
    chosen = frozenset(r.upper() for r in rules)
    unknown = sorted(chosen - RULE_IDS)
    if unknown:
        raise RefactorError(f"unknown rule {unknown[0]!r}; rules: {', '.join(sorted(RULE_IDS))}")
    return chosen


def suggest(
    source: str, path: str = "snippet.py", rules: Iterable[str] | None = None
) -> list[Suggestion]:
    """Every refactoring suggestion and performance hint for ``source`` (as file ``path``),
    sorted by location. ``rules`` limits them to those ids. RefactorError if it does not parse.
    """
    from pyforge.refactor import advisory

    chosen = frozenset(RULE_IDS) if rules is None else check_rules(rules)
    tree = _parse(source, path)
    lines = source.splitlines()
    _, changes, _ = _codemods(source, path, frozenset(), apply=False)
    out = [_to_suggestion(c, path) for c in _outermost(changes)]
    out += advisory.extract_method(tree, lines, path)
    # The engine's PRF105 (range-len loop) is left out there: REF104 reports it, with a fix.
    out += advisory.performance_hints(source, path, lines)
    return sorted((s for s in out if s.rule in chosen), key=Suggestion.sort_key)


def _outermost(changes: list[Change]) -> list[Change]:
    """Drop matches inside a bigger match of the same rule at the same start (the inner
    ``or`` of ``a or b or c`` when the whole chain merges)."""
    best: dict[tuple[str, tuple[int, int]], Change] = {}
    for c in changes:
        key = (c.rule, c.start)
        if key not in best or c.end > best[key].end:
            best[key] = c
    return list(best.values())


def _to_suggestion(change: Change, path: str) -> Suggestion:
    info = rule_info(change.rule)
    return Suggestion(
        change.rule, info.title, change.message, path, change.start[0], change.start[1] + 1,
        change.end[0], change.end[1] + 1, change.before, change.after,
        safe=change.safe, fix=change.safe and info.fixable,
    )  # fmt: skip


@dataclass
class FixResult:
    """What ``fix_source`` did: the new code and how many fixes of each rule it applied."""

    source: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """How many fixes were applied."""
        return sum(self.counts.values())


def fix_source(
    source: str, path: str = "snippet.py", rules: Iterable[str] | None = None
) -> FixResult:
    """Apply every safe fix of ``rules`` (default: all fixable rules) to ``source``.

    The result always parses: a round whose output would not is dropped (and counted as
    nothing). RefactorError when ``source`` itself does not parse or a rule is unknown.
    """
    chosen = check_rules(rules)
    _parse(source, path)
    result = FixResult(source)
    for _ in range(MAX_FIX_ROUNDS):
        new, _, applied = _codemods(result.source, path, chosen, apply=True)
        if not applied or new == result.source:
            break
        try:
            _parse(new, path)
        except RefactorError:  # a codemod bug must never write broken code
            break
        result.source = new
        result.counts.update(applied)
    return result
