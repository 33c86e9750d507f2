"""Discovery: popular models, recently published ones, and "people who used this also used".

Everything lists only live, published, public models; counts come from the usage record
(one row per consumer and model), computed in SQL.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.pagination import keyset_cursor, read_keyset_cursor
from modelhub.discovery.repository import DiscoveryRepository
from modelhub.discovery.schemas import AlsoUsed, PopularModel, RecentPage
from modelhub.registry.models import MarketModel
from modelhub.registry.service import to_read
from modelhub.usage.repository import POPULAR_WINDOW

#: The recent listing's order (its cursors name it).
_RECENT = "-published_at"


class DiscoveryService:
    """The marketplace's discovery listings."""

    async def popular(self, session: AsyncSession, limit: int) -> list[PopularModel]:
        """Models by distinct users in the last 30 days, then by downloads."""
        rows = await DiscoveryRepository(session).popular(utcnow() - POPULAR_WINDOW, limit)
        return [PopularModel(model=to_read(m), recent_users=n) for m, n in rows]

    async def recent(self, session: AsyncSession, limit: int, cursor: str | None) -> RecentPage:
        """Recently published models, newest first, one keyset page at a time."""
        repo = DiscoveryRepository(session)
        after = read_keyset_cursor(cursor, _RECENT, timestamp=True) if cursor else None
        rows = list(await repo.recent(after, limit + 1))
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit and page[-1].published_at is not None:
            next_cursor = keyset_cursor(_RECENT, page[-1].published_at, page[-1].id)
        return RecentPage(items=[to_read(m) for m in page], total=await repo.recent_total(),
                          limit=limit, offset=0, next_cursor=next_cursor)  # fmt: skip

    async def also_used(
        self, session: AsyncSession, model: MarketModel, limit: int
    ) -> list[AlsoUsed]:
        """Models that users of ``model`` also used, most shared users first."""
        rows = await DiscoveryRepository(session).also_used(model.id, limit)
        return [AlsoUsed(model=to_read(m), users=n) for m, n in rows]


discovery = DiscoveryService()
