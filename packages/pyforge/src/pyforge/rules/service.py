"""Rule documentation for the API, from the engine's catalogue."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt

from forgekit.errors import NotFound
from pyforge.analysis.catalogue import every_rule, find_rule
from pyforge.analysis.rules import Rule
from pyforge.rules.schemas import RuleRead


@cache
def _markdown() -> MarkdownIt:
    # html=False: any raw HTML in a rule's text is shown as text, never parsed as markup;
    # markdown-it's link validation drops javascript:, vbscript:, file: and data: links.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _read(rule: Rule) -> RuleRead:
    return RuleRead(
        id=rule.id,
        name=rule.name,
        category=rule.category.value,
        severity=rule.severity.value,
        confidence=rule.confidence.value,
        analyzer=rule.analyzer,
        description=rule.description,
        help=rule.help,
        help_html=_markdown().render(rule.help),
        url=rule.url,
        aliases=list(rule.aliases),
        default_enabled=rule.default_enabled,
    )


def list_rules(category: str | None = None, query: str | None = None) -> list[RuleRead]:
    """Every rule, optionally of one category or matching ``query`` in id, name or text."""
    needle = (query or "").strip().lower()
    found = []
    for rule in every_rule():
        if category and rule.category.value != category:
            continue
        text = f"{rule.id} {rule.name} {rule.description}".lower()
        if needle and needle not in text:
            continue
        found.append(_read(rule))
    return found


def get_rule(rule_id: str) -> RuleRead:
    """One rule's documentation; 404 for an id no analyzer knows."""
    rule = find_rule(rule_id)
    if rule is None:
        raise NotFound(f"Unknown rule {rule_id!r}.")
    return _read(rule)
