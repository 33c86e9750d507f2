"""Every error is RFC 9457 problem+json; no stack trace reaches a client."""

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from forgekit.app import create_app
from forgekit.settings import ForgeSettings

PROBLEM = "application/problem+json"
#: The test settings' public URL is the default one; each product names its own problem types.
PROBLEM_BASE = "http://127.0.0.1:8000/problems/"


class Item(BaseModel):
    name: str
    count: int


probe = APIRouter(prefix="/probe", tags=["probe"])


@probe.post("/items")
async def create_item(item: Item) -> Item:
    return item


@probe.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals /etc/passwd")


def _app(settings: ForgeSettings) -> FastAPI:
    return create_app(settings, title="probe", routers=[probe])


def assert_problem(resp: httpx.Response, status: int, slug: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status
    assert body["type"] == PROBLEM_BASE + slug
    assert body["title"]
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


async def test_malformed_json_is_400_problem(forge_settings: ForgeSettings) -> None:
    app = _app(forge_settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            resp = await c.post(
                "/probe/items", content=b'{"name": "x", ', headers={"content-type": "application/json"}
            )
    assert_problem(resp, 400, "malformed-json")


async def test_wrong_types_list_the_fields(forge_settings: ForgeSettings) -> None:
    app = _app(forge_settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            resp = await c.post("/probe/items", json={"name": ["not", "a", "string"], "count": "many"})
    body = assert_problem(resp, 422, "validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.name", "body.count"}


async def test_oversized_body_is_413(forge_settings: ForgeSettings) -> None:
    app = _app(forge_settings.model_copy(update={"max_body_bytes": 1000}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            declared = await c.post("/probe/items", json={"name": "x" * 5000, "count": 1})

            async def chunks():
                for _ in range(10):
                    yield b"x" * 500

            streamed = await c.post(
                "/probe/items", content=chunks(), headers={"content-type": "application/json"}
            )
    assert_problem(declared, 413, "payload-too-large")
    assert_problem(streamed, 413, "payload-too-large")


async def test_unexpected_error_is_500_without_internals(forge_settings: ForgeSettings) -> None:
    app = _app(forge_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            resp = await c.get("/probe/boom")
    body = assert_problem(resp, 500, "internal-error")
    assert "passwd" not in resp.text and "Traceback" not in resp.text
    assert body["request_id"]


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/no/such/path"), 404, "not-found")
    assert_problem(await client.delete("/live"), 405, "method-not-allowed")


async def test_database_outage_is_503_with_retry_after(forge_settings: ForgeSettings) -> None:
    from sqlalchemy import text

    from forgekit.deps import SessionDep

    db_probe = APIRouter()

    @db_probe.get("/probe/db")
    async def read(session: SessionDep) -> dict:
        return {"one": (await session.execute(text("SELECT 1"))).scalar()}

    app = create_app(forge_settings, title="probe", routers=[db_probe])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            assert (await c.get("/probe/db")).json() == {"one": 1}
            db = app.state.runtime.db
            await db.dispose()
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            broken = (
                create_async_engine("sqlite+aiosqlite:////nonexistent-dir/x.db")
                if db.is_sqlite
                else create_async_engine(db.engine.url.set(port=1))
            )
            db.sessionmaker = async_sessionmaker(broken)
            resp = await c.get("/probe/db")
            await broken.dispose()
    body = assert_problem(resp, 503, "service-unavailable")
    assert resp.headers["retry-after"] == "1"
    assert "nonexistent" not in body["detail"]
