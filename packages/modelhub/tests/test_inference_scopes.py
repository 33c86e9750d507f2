"""Per-model inference scopes on API keys: format checked at creation, enforced by
``require_inference_scope`` (probed through a route built only for this test)."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from modelhub.registry.service import models
from modelhub.scopes import inference_scope, require_inference_scope

from forgekit.deps import SessionDep
from forgekit.identity.principal import Principal
from forgekit.identity.testing import TestUser, create_api_key, register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings

PROBE = "/api/v1/models/{owner}/{name}/scope-probe"


def _probe_router() -> APIRouter:
    # Stands in for part 2's infer endpoint: the scope first, then the model's visibility.
    router = APIRouter()

    @router.get(PROBE)
    async def probe(
        owner: str,
        name: str,
        principal: Annotated[Principal, Depends(require_inference_scope)],
        session: SessionDep,
    ) -> dict[str, str]:
        model = await models.get(session, principal, owner, name)
        return {"slug": model.slug}

    return router


@pytest.fixture
def app_factory():
    from modelhub.app import create_app
    from modelhub.settings import ModelhubSettings

    def build(settings: ForgeSettings) -> FastAPI:
        app = create_app(settings, ModelhubSettings(_env_file=None))
        app.include_router(_probe_router())
        return app

    return build


async def _models(client: httpx.AsyncClient, runtime: Runtime) -> TestUser:
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    for name, visibility in (("one", "public"), ("two", "public"), ("hidden", "private")):
        body = {"name": name, "title": name, "task": "regression", "framework": "onnx",
                "license": "mit", "visibility": visibility}  # fmt: skip
        assert (await client.post("/api/v1/models", json=body, headers=pub.headers)).status_code == 201
        await client.post(f"/api/v1/models/{pub.username}/{name}/publish", headers=pub.headers)
    return pub


def _key(body: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": body["key"]}


async def test_inference_scope_format_is_checked_when_a_key_is_created(
    client: httpx.AsyncClient,
) -> None:
    user = await register_and_login(client)
    for scope in ("inference:alice/one", "inference:alice/*", "inference:bob.x/my-model.v2"):
        assert (await create_api_key(client, user, [scope]))["scopes"] == [scope]
    for bad in ("inference:alice", "inference:alice/One", "inference:alice/one/two",
                "inference:*", "inference:al/one", "inference:alice/-x"):  # fmt: skip
        resp = await client.post("/auth/api-keys", json={"name": "k", "scopes": [bad]},
                                 headers=user.headers)  # fmt: skip
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")


async def test_a_key_calls_only_the_models_its_scopes_name(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub = await _models(client, runtime)
    owner = pub.username
    consumer = await register_and_login(client)
    one = _key(await create_api_key(client, consumer, [inference_scope(owner, "one")]))
    every = _key(await create_api_key(client, consumer, [f"inference:{owner}/*"]))
    reader = _key(await create_api_key(client, consumer, ["model:read"]))

    url = PROBE.format(owner=owner, name="{}")
    assert (await client.get(url.format("one"), headers=one)).json() == {"slug": f"{owner}/one"}
    denied = await client.get(url.format("two"), headers=one)
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    assert denied.json()["missing_scopes"] == [f"inference:{owner}/two"]
    # The wildcard covers every model of the owner; a key without inference scopes none.
    for name in ("one", "two"):
        assert (await client.get(url.format(name), headers=every)).status_code == 200
        assert (await client.get(url.format(name), headers=reader)).status_code == 403
    # A login session falls back to its role: consumers may infer any model they can see.
    for name in ("one", "two"):
        assert (await client.get(url.format(name), headers=consumer.headers)).status_code == 200
    # The scope never widens visibility: another's private model stays "not found".
    hidden = _key(await create_api_key(client, consumer, [inference_scope(owner, "hidden")]))
    assert (await client.get(url.format("hidden"), headers=hidden)).status_code == 404
    assert (await client.get(url.format("hidden"), headers=consumer.headers)).status_code == 404
    assert (await client.get(url.format("one"))).status_code == 401


async def test_a_key_cannot_carry_inference_its_owner_lacks(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # A restricted account (the kit's viewer role) holds no model:infer, so no key of its can.
    viewer = await register_and_login(client)
    await set_user(runtime, viewer, role="viewer")
    resp = await client.post("/auth/api-keys", json={"name": "k", "scopes": ["inference:a1b/x"]},
                             headers=viewer.headers)  # fmt: skip
    assert resp.status_code == 403, resp.text
