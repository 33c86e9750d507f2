"""Queries of the ``projects`` table. Repositories never commit: services own transactions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select

from forgekit.db import Repository
from forgekit.identity.models import Team, TeamMember
from forgekit.identity.principal import Principal
from pyforge.projects.models import Project
from pyforge.projects.search import apply_search


class ProjectRepository(Repository[Project]):
    """Live projects and the listings of what a caller may see."""

    model = Project

    def select_visible(self, principal: Principal, *, include_public: bool) -> Select[Project]:
        """Live projects the caller has a role on (see :mod:`pyforge.access`).

        Admins see every project. Others see what they own and what their live teams hold;
        with ``include_public`` also everyone's public projects.
        """
        stmt = self.select_all()
        if principal.is_admin:
            return stmt
        my_teams = (
            select(TeamMember.team_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.user_id == principal.user_id, Team.deleted_at.is_(None))
        )
        visible: list[ColumnElement[bool]] = [
            Project.owner_id == principal.user_id,
            Project.team_id.in_(my_teams),
        ]
        if include_public:
            visible.append(Project.is_public.is_(True))
        return stmt.where(or_(*visible))

    def search(self, stmt: Select[Project], query: str) -> Select[Project]:
        """Restrict ``stmt`` to full-text matches of ``query`` (see :mod:`.search`)."""
        dialect = self.session.get_bind().dialect.name
        return apply_search(stmt, query, dialect)

    @staticmethod
    def after(
        stmt: Select[Project], column: Any, value: Any, last_id: uuid.UUID, *, descending: bool
    ) -> Select[Project]:
        """Keyset condition: rows strictly after ``(value, last_id)`` in the sort order."""
        if descending:
            cond = or_(column < value, and_(column == value, Project.id < last_id))
        else:
            cond = or_(column > value, and_(column == value, Project.id > last_id))
        return stmt.where(cond)
