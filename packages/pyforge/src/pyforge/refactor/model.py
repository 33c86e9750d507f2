"""What a refactoring suggestion is, and the table of rules that produce them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class RefactorError(ValueError):
    """The source cannot be refactored (it does not parse, or a rule id is unknown)."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One kind of suggestion: its id, short name, title and whether it can carry a fix."""

    id: str
    name: str
    title: str
    fixable: bool
    description: str


#: Every rule ``suggest`` reports, in id order. ``REF1xx`` are this package's own rules;
#: ``PRF1xx`` are the analysis engine's performance hints, reported through the same API.
RULES: tuple[RuleInfo, ...] = (
    RuleInfo("REF101", "extract-method", "Extract a method", False,
             "A long function holds a cohesive block of statements with few inputs and at "
             "most one output: it can become a function of its own."),
    RuleInfo("REF102", "guard-clause", "Use a guard clause", True,
             "An if/else whose one branch returns or raises while the other nests deeper: "
             "handle the exit first and dedent the rest."),
    RuleInfo("REF103", "append-loop-comprehension", "Use a list comprehension", True,
             "`r = []` followed by a loop that only appends (optionally under one `if`)."),
    RuleInfo("REF104", "range-len-enumerate", "Use enumerate()", True,
             "`for i in range(len(x))` whose body reads `x[i]`."),
    RuleInfo("REF105", "index-loop-zip", "Use zip()", False,
             "An index loop reads several sequences at the same index."),
    RuleInfo("REF106", "simplify-boolean-return", "Return the condition", True,
             "`if c: return True` / `return False` (or the reverse) is `return bool(c)`."),
    RuleInfo("REF107", "merge-isinstance", "Merge isinstance() calls", True,
             "`isinstance(x, A) or isinstance(x, B)` is `isinstance(x, (A, B))`."),
    RuleInfo("REF108", "set-membership", "Test membership in a set", False,
             "`x in [a, b, c]` inside a loop scans a list; a set (or a tuple of constants) "
             "says what is meant (the engine's PRF102 check)."),
    RuleInfo("PRF101", "string-concat-in-loop", "Join strings once", False,
             "The engine's hint: a string built with += in a loop."),
    RuleInfo("PRF103", "repeated-lookup-in-loop", "Bind a repeated lookup", False,
             "The engine's hint: the same dotted lookup repeated in a loop body."),
    RuleInfo("PRF104", "len-comparison", "Test the container's truth", False,
             "The engine's hint: `len(x) == 0` and friends."),
)  # fmt: skip
RULE_IDS = frozenset(r.id for r in RULES)
FIXABLE_RULES = tuple(r.id for r in RULES if r.fixable)
_BY_ID = {r.id: r for r in RULES}


def rule_info(rule_id: str) -> RuleInfo:
    """The rule with this id (KeyError for an unknown one)."""
    return _BY_ID[rule_id]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One located suggestion.

    Lines and columns are 1-based and ``end_column`` is exclusive, as in the engine's
    findings. ``before`` is the code as it is; ``after`` the code as the suggestion would
    have it (for advisory suggestions a sketch, not necessarily valid on its own). ``safe``
    means an automatic fix exists that keeps behaviour; ``fix`` says ``pyforge fix`` applies it.
    """

    rule: str
    title: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    before: str
    after: str
    safe: bool
    fix: bool

    @property
    def name(self) -> str:
        """The rule's short name (``guard-clause``)."""
        return rule_info(self.rule).name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``suggest --format json`` item and the API's)."""
        return {"name": self.name, **asdict(self)}

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by location, then rule."""
        return (self.path, self.line, self.column, self.rule)
