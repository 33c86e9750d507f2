"""Full-text search over a project's name and description, on both databases.

Queries are reduced to safe terms by :mod:`forgekit.search`: every word must match, as a
prefix (``anal`` finds "analysis"), case-insensitively. The SQL here must match the index
built by the ``pyforge_search_0001`` migration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, text

from forgekit.search import fts5_query, search_terms, tsquery
from pyforge.projects.models import Project

_PG_MATCH = text(
    "to_tsvector('simple'::regconfig, "
    "coalesce(projects.name, '') || ' ' || coalesce(projects.description, '')) "
    "@@ to_tsquery('simple'::regconfig, :search_query)"
)
_SQLITE_MATCH = text(
    "projects.id IN (SELECT projects_fts.project_id FROM projects_fts "
    "WHERE projects_fts MATCH :search_query)"
)


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
