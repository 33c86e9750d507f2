"""Full-text search over a project's name and description, on both databases.

User input never reaches a query language as syntax: it is reduced to words (runs of letters
and digits), and each word is quoted (FTS5) or passed as a plain lexeme (``to_tsquery``). So
``foo"``, ``*``, ``AND (`` or ``a:b & !c`` search for their words and can never be a syntax
error. Every word must match, as a prefix (``anal`` finds "analysis"), case-insensitively.
The SQL here must match the index built by the ``pyforge_search_0001`` migration.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, bindparam, text

from pyforge.projects.models import Project

#: At most this many words are used: a search box, not a document.
MAX_TERMS = 16

# Letters and digits only: underscore and punctuation separate words, as both FTS engines'
# tokenizers treat them.
_WORD = re.compile(r"[^\W_]+")

_PG_MATCH = text(
    "to_tsvector('simple'::regconfig, "
    "coalesce(projects.name, '') || ' ' || coalesce(projects.description, '')) "
    "@@ to_tsquery('simple'::regconfig, :search_query)"
)
_SQLITE_MATCH = text(
    "projects.id IN (SELECT projects_fts.project_id FROM projects_fts "
    "WHERE projects_fts MATCH :search_query)"
)


def search_terms(query: str) -> list[str]:
    """The words of ``query``, lower-cased, de-duplicated in order, at most :data:`MAX_TERMS`."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        seen.setdefault(word, None)
    return list(seen)[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every term as a quoted prefix (``"foo"* "bar"*``)."""
    # Terms hold no quotes (letters and digits only); doubling them anyway keeps this safe if
    # the tokenisation above ever changes.
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms)


def tsquery(terms: list[str]) -> str:
    """A ``to_tsquery`` expression: every term as a prefix, all required."""
    # Quoting each lexeme makes to_tsquery read it literally whatever it contains.
    return " & ".join("'" + t.replace("'", "''") + "':*" for t in terms)


def apply_search(stmt: Select[Any], query: str, dialect: str) -> Select[Any]:
    """Restrict ``stmt`` (a select over :class:`Project`) to projects matching ``query``.

    A query without any word matches nothing, rather than everything: the caller asked for
    something specific.
    """
    terms = search_terms(query)
    if not terms:
        return stmt.where(Project.id.is_(None))
    if dialect == "postgresql":
        return stmt.where(_PG_MATCH.bindparams(bindparam("search_query", tsquery(terms))))
    return stmt.where(_SQLITE_MATCH.bindparams(bindparam("search_query", fts5_query(terms))))
