"""Response bodies of the rules API."""

from __future__ import annotations

from pydantic import BaseModel


class RuleRead(BaseModel):
    """A rule's identity and documentation."""

    id: str
    name: str
    category: str
    severity: str
    confidence: str
    analyzer: str
    description: str
    help: str
    #: ``help`` (Markdown) as HTML: raw HTML in it is escaped, unsafe link schemes dropped.
    help_html: str
    url: str | None
    aliases: list[str]
    default_enabled: bool
