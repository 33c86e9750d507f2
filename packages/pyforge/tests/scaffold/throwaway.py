"""A throwaway product on the kit's scaffold: settings, one router, one consumer.

``POST /api/v1/pings`` writes a ``ping.sent`` event to the outbox; the ``pings.pong`` consumer
answers it by caching a pong that ``GET /api/v1/pings/{id}`` reads. Run it as
``python -m throwaway serve|worker|migrate`` (with this directory on ``PYTHONPATH``).
"""

import uuid
from functools import lru_cache
from typing import Any, ClassVar

import typer
from fastapi import APIRouter
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.cli import add_role_commands
from forgekit.deps import RuntimeDep, SessionDep
from forgekit.errors import NotFound
from forgekit.events import Event, EventType, enqueue
from forgekit.identity.deps import CurrentPrincipal
from forgekit.product import Product, ProductSettings
from forgekit.runtime import ProductRuntime


class Settings(ProductSettings):
    model_config = SettingsConfigDict(env_prefix="THROWAWAY_", env_file=None, extra="ignore")
    product_name: ClassVar[str] = "throwaway"


class Ping(BaseModel):
    ping_id: uuid.UUID


PING_SENT = EventType("ping.sent", Ping)
router = APIRouter(prefix="/api/v1/pings", tags=["pings"])


@router.post("", status_code=202)
async def send(principal: CurrentPrincipal, session: SessionDep) -> Ping:
    ping = Ping(ping_id=uuid.uuid4())
    await enqueue(session, PING_SENT, ping)
    await session.commit()
    return ping


@router.get("/{ping_id}")
async def pong(ping_id: uuid.UUID, principal: CurrentPrincipal, runtime: RuntimeDep) -> Any:
    answer = await runtime.cache.get(f"pong:{ping_id}")
    if answer is None:
        raise NotFound("No pong yet.")
    return answer


def register(runtime: ProductRuntime[Settings]) -> None:
    async def answer(event: Event, session: AsyncSession) -> None:
        ping = PING_SENT.parse(event)
        await runtime.cache.set(f"pong:{ping.ping_id}", {"event_id": str(event.id)}, ttl=600)

    runtime.events.subscribe("pings.pong", [PING_SENT], answer)


PRODUCT: Product[Settings, ProductRuntime[Settings]] = Product(
    name="throwaway",
    title="Throwaway",
    version="0.0.1",
    settings=lru_cache(maxsize=1)(Settings),
    app_factory="throwaway:create_app",
    runtime_class=lambda: ProductRuntime,
    routers=lambda: [router],
    consumers=lambda: [register],
)


def create_app() -> Any:
    return PRODUCT.create_app()


cli = typer.Typer(add_completion=False)
add_role_commands(cli, lambda: PRODUCT, title="Throwaway", env_prefix="THROWAWAY_")

if __name__ == "__main__":
    cli()
