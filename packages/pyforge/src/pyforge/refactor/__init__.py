"""Refactoring suggestions, performance hints and automatic fixes (libcst codemods).

Library API (what ``pyforge suggest``/``pyforge fix`` and the service call)::

    from pyforge.refactor import fix_source, suggest

    for s in suggest(source, "pkg/mod.py"):
        print(s.rule, s.line, s.message, s.safe)
    result = fix_source(source, "pkg/mod.py", rules=["REF106"])
    result.source, result.counts

Analysed code is parsed, never imported or executed. This package imports neither the web
stack nor the platform kit; libcst is imported on first use.
"""

from __future__ import annotations

from pyforge.refactor.model import FIXABLE_RULES, RULES, RefactorError, RuleInfo, Suggestion
from pyforge.refactor.service import FixResult, check_rules, fix_source, suggest

__all__ = [
    "FIXABLE_RULES",
    "RULES",
    "FixResult",
    "RefactorError",
    "RuleInfo",
    "Suggestion",
    "check_rules",
    "fix_source",
    "suggest",
]
