"""Rules of the model registry: who sees and changes which model, and its lifecycle.

A model that a caller may not see does not exist for them (404, never 403), so a slug
reveals nothing; a visible model the caller may not change answers 403.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, Forbidden, NotFound
from forgekit.events.outbox import enqueue
from forgekit.events.types import EventType
from forgekit.identity.principal import Principal
from forgekit.pagination import keyset_cursor, read_keyset_cursor
from modelhub.events import (
    MODEL_CREATED,
    MODEL_DELETED,
    MODEL_DEPRECATED,
    MODEL_PUBLISHED,
    MODEL_UPDATED,
    ModelEvent,
    ModelUpdated,
)
from modelhub.registry.models import MarketModel, ModelStatus, Visibility
from modelhub.registry.repository import ModelRepository
from modelhub.registry.schemas import ModelCreate, ModelPage, ModelRead, ModelUpdate

MODEL_NOT_FOUND = "Model not found."


def to_read(model: MarketModel) -> ModelRead:
    """The API view of a row."""
    return ModelRead(
        id=model.id, slug=model.slug, owner_id=model.owner_id, name=model.name,
        title=model.title, description=model.description, task=model.task,
        framework=model.framework, license=model.license, tags=list(model.tags),
        pricing=model.pricing, visibility=Visibility(model.visibility),
        status=ModelStatus(model.status), metadata=dict(model.metadata_), downloads=model.downloads,
        created_at=model.created_at, updated_at=model.updated_at,
    )  # fmt: skip


def event_fields(model: MarketModel) -> dict[str, Any]:
    """The fields every model event carries."""
    return {
        "model_id": model.id, "slug": model.slug, "owner_id": model.owner_id,
        "status": model.status, "visibility": model.visibility,
    }  # fmt: skip


def _visible(principal: Principal, model: MarketModel) -> bool:
    if principal.is_admin or model.owner_id == principal.user_id:
        return True
    # Unlisted models are reachable by slug; private ones only by their owner.
    return model.status != ModelStatus.DRAFT.value and model.visibility != Visibility.PRIVATE


#: The registry's listing order: newest first (the cursor names it).
_ORDER = "-created_at"


class ModelService:
    """The registry's operations; each commits its change and its event together."""

    async def create(
        self, session: AsyncSession, principal: Principal, data: ModelCreate
    ) -> ModelRead:
        """A new draft under the caller's namespace; 409 when the slug is taken."""
        repo = ModelRepository(session)
        namespace = principal.user.username
        if await repo.slug_taken(namespace, data.name):
            raise Conflict(f"A model named {namespace}/{data.name} already exists.")
        model = MarketModel(
            owner_id=principal.user_id, namespace=namespace, name=data.name, title=data.title,
            description=data.description, task=data.task, framework=data.framework,
            license=data.license, tags=sorted(set(data.tags)),
            pricing=data.pricing.model_dump(mode="json"), metadata_=data.metadata,
            visibility=data.visibility.value, status=ModelStatus.DRAFT.value,
        )  # fmt: skip
        await repo.add(model)
        await enqueue(session, MODEL_CREATED, ModelEvent(**event_fields(model)),
                      metadata={"actor_id": str(principal.user_id)})  # fmt: skip
        await session.commit()
        return to_read(model)

    async def get(
        self, session: AsyncSession, principal: Principal, namespace: str, name: str
    ) -> MarketModel:
        """The model if the caller may see it, else 404."""
        model = await ModelRepository(session).by_slug(namespace, name)
        if model is None or not _visible(principal, model):
            raise NotFound(MODEL_NOT_FOUND)
        return model

    async def owned(
        self, session: AsyncSession, principal: Principal, namespace: str, name: str
    ) -> MarketModel:
        """The model if the caller may change it: its owner or an admin (404/403 otherwise)."""
        model = await self.get(session, principal, namespace, name)
        if not (principal.is_admin or model.owner_id == principal.user_id):
            raise Forbidden("Only the model's publisher may change it.")
        return model

    async def list(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        limit: int,
        cursor: str | None = None,
        mine: bool = False,
        task: str | None = None,
        framework: str | None = None,
    ) -> ModelPage:
        """Published public models (or the caller's own with ``mine``), newest first."""
        repo = ModelRepository(session)
        stmt = repo.listing(principal.user_id, mine=mine)
        if task:
            stmt = stmt.where(MarketModel.task == task)
        if framework:
            stmt = stmt.where(MarketModel.framework == framework)
        total = await repo.count(stmt)
        if cursor is not None:
            stmt = repo.after(stmt, *read_keyset_cursor(cursor, _ORDER, timestamp=True))
        ordered = stmt.order_by(MarketModel.created_at.desc(), MarketModel.id.desc())
        rows = list(await repo.all(ordered.limit(limit + 1)))
        page = rows[:limit]
        next_cursor = (
            keyset_cursor(_ORDER, page[-1].created_at, page[-1].id) if len(rows) > limit else None
        )
        return ModelPage(items=[to_read(m) for m in page], total=total, limit=limit,
                         offset=0, next_cursor=next_cursor)  # fmt: skip

    async def update(
        self, session: AsyncSession, principal: Principal, model: MarketModel, data: ModelUpdate
    ) -> ModelRead:
        """Change the fields sent."""
        values = data.model_dump(exclude_unset=True, mode="json")
        changed = []
        for field, value in values.items():
            if value is None:
                continue
            column = "metadata_" if field == "metadata" else field
            if field == "tags":
                value = sorted(set(value))
            if getattr(model, column) != value:
                setattr(model, column, value)
                changed.append(field)
        if changed:
            model.updated_at = utcnow()
            payload = ModelUpdated(**event_fields(model), changed=sorted(changed))
            await enqueue(session, MODEL_UPDATED, payload,
                          metadata={"actor_id": str(principal.user_id)})  # fmt: skip
            await session.commit()
        return to_read(model)

    async def publish(
        self, session: AsyncSession, principal: Principal, model: MarketModel
    ) -> ModelRead:
        """draft → published; the publisher's e-mail address must be verified."""
        if not principal.user.is_verified:
            raise Forbidden("Verify your e-mail address before publishing.")
        if model.status == ModelStatus.DRAFT.value:
            model.published_at = utcnow()
        return await self._move(session, principal, model, ModelStatus.DRAFT,
                                ModelStatus.PUBLISHED, MODEL_PUBLISHED)  # fmt: skip

    async def deprecate(
        self, session: AsyncSession, principal: Principal, model: MarketModel
    ) -> ModelRead:
        """published → deprecated (still callable, no longer listed as new)."""
        return await self._move(session, principal, model, ModelStatus.PUBLISHED,
                                ModelStatus.DEPRECATED, MODEL_DEPRECATED)  # fmt: skip

    async def delete(self, session: AsyncSession, principal: Principal, model: MarketModel) -> None:
        """Soft-delete the model."""
        model.deleted_at = utcnow()
        await enqueue(session, MODEL_DELETED, ModelEvent(**event_fields(model)),
                      metadata={"actor_id": str(principal.user_id)})  # fmt: skip
        await session.commit()

    async def _move(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        source: ModelStatus,
        target: ModelStatus,
        event_type: EventType[ModelEvent],
    ) -> ModelRead:
        if model.status != source.value:
            raise Conflict(f"A {model.status} model cannot become {target.value}.")
        model.status = target.value
        model.updated_at = utcnow()
        await enqueue(session, event_type, ModelEvent(**event_fields(model)),
                      metadata={"actor_id": str(principal.user_id)})  # fmt: skip
        await session.commit()
        return to_read(model)


models = ModelService()
