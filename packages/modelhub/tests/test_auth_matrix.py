"""The four auth tests of every Modelhub endpoint, on both backends, from one table.

For each operation (``"METHOD path template"``): anonymous gets 401 (no Modelhub read is open to
anonymous callers); a caller without the role or scope gets 403; another publisher aiming at the
owner's private model or upload gets 404 (listings and search: the private model is absent);
the owner gets the success status. Every case is problem+json when it fails.

Adding a route without a row fails :func:`test_the_table_covers_every_modelhub_route`: add the
row (a URL built from the :class:`World`, a body, which 403 caller, which "other" check).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import onnx
import pytest
from fastapi import FastAPI
from onnx import TensorProto, helper

from forgekit.identity.testing import TestUser, create_api_key, register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.routes import http_operations

CHUNK = b"chunk of a model file" * 64


def _onnx() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _model(name: str, visibility: str) -> dict[str, str]:
    return {"name": name, "title": name.title(), "task": "regression", "framework": "onnx",
            "license": "mit", "visibility": visibility}  # fmt: skip


@dataclass
class World:
    """The owner's private models and files, and the callers of the four cases."""

    owner: TestUser
    #: Another verified publisher: the IDOR case.
    intruder: TestUser
    #: A consumer (no write, publish or delete permission).
    consumer: TestUser
    #: The owner's own API key scoped ``team:read`` only (no ``model:read``).
    narrow_key: dict[str, str]
    #: An open upload of ``secret`` with its only chunk received; a completed one.
    open_upload: str
    done_upload: str
    extra: dict[str, Any] = field(default_factory=dict)

    def model(self, name: str = "secret") -> str:
        return f"/api/v1/models/{self.owner.username}/{name}"


@dataclass(frozen=True)
class Case:
    """One operation's row: how to call it validly, and what its other three cases expect."""

    url: Callable[[World], str]
    ok: int
    #: ``consumer`` (wrong role) or ``narrow_key`` (a key without the scope).
    forbidden: str
    #: ``404`` (the owner's private resource), ``absent`` (a listing leaves it out), or
    #: ``n/a: <why>`` when the operation names no one else's resource.
    other: str = "404"
    json: Callable[[World], Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: The owner's success response lists the private model (where ``other`` is ``absent``).
    owner_sees: bool = False


def _upload_body(w: World) -> dict[str, Any]:
    return {"filename": "m.onnx", "size": len(CHUNK), "sha256": hashlib.sha256(CHUNK).hexdigest()}


TABLE: dict[str, Case] = {
    # registry/
    "POST /api/v1/models": Case(
        lambda w: "/api/v1/models", 201, "consumer",
        other="n/a: creates a model under the caller's own name; no one else's is named",
        json=lambda w: _model("brand-new", "private")),
    "GET /api/v1/models": Case(lambda w: "/api/v1/models?mine=true", 200, "narrow_key",
                               other="absent", owner_sees=True),
    "GET /api/v1/models/{owner}/{name}": Case(lambda w: w.model(), 200, "narrow_key"),
    "PATCH /api/v1/models/{owner}/{name}": Case(lambda w: w.model(), 200, "consumer",
                                                json=lambda w: {"title": "Renamed"}),
    "POST /api/v1/models/{owner}/{name}/publish": Case(
        lambda w: w.model("draft") + "/publish", 200, "consumer"),
    "POST /api/v1/models/{owner}/{name}/deprecate": Case(
        lambda w: w.model() + "/deprecate", 200, "consumer"),
    "DELETE /api/v1/models/{owner}/{name}": Case(lambda w: w.model(), 204, "consumer"),
    # uploads/
    "POST /api/v1/models/{owner}/{name}/uploads": Case(
        lambda w: w.model() + "/uploads", 201, "consumer", json=_upload_body),
    "GET /api/v1/uploads/{upload_id}": Case(
        lambda w: f"/api/v1/uploads/{w.open_upload}", 200, "consumer"),
    "PUT /api/v1/uploads/{upload_id}/chunks/{index}": Case(
        lambda w: f"/api/v1/uploads/{w.open_upload}/chunks/0", 204, "consumer", content=CHUNK,
        headers={"content-type": "application/octet-stream",
                 "X-Chunk-SHA256": hashlib.sha256(CHUNK).hexdigest()}),
    "POST /api/v1/uploads/{upload_id}/complete": Case(
        lambda w: f"/api/v1/uploads/{w.open_upload}/complete", 200, "consumer"),
    "DELETE /api/v1/uploads/{upload_id}": Case(
        lambda w: f"/api/v1/uploads/{w.open_upload}", 204, "consumer"),
    # versions/
    "POST /api/v1/models/{owner}/{name}/versions": Case(
        lambda w: w.model() + "/versions", 201, "consumer",
        json=lambda w: {"version": "2.0.0", "upload_id": w.done_upload}),
    "GET /api/v1/models/{owner}/{name}/versions": Case(
        lambda w: w.model() + "/versions", 200, "narrow_key"),
    "GET /api/v1/models/{owner}/{name}/versions/{ref}": Case(
        lambda w: w.model() + "/versions/latest", 200, "narrow_key"),
    "POST /api/v1/models/{owner}/{name}/versions/{ref}/publish": Case(
        lambda w: w.model() + "/versions/1.1.0/publish", 200, "consumer"),
    "GET /api/v1/models/{owner}/{name}/versions/{ref}/download": Case(
        lambda w: w.model() + "/versions/1.0.0/download", 200, "narrow_key"),
    "GET /api/v1/models/{owner}/{name}/aliases": Case(
        lambda w: w.model() + "/aliases", 200, "narrow_key"),
    "PUT /api/v1/models/{owner}/{name}/aliases/{alias}": Case(
        lambda w: w.model() + "/aliases/prod", 200, "consumer",
        json=lambda w: {"version": "1.0.0"}),
    "POST /api/v1/models/{owner}/{name}/aliases/{alias}/rollback": Case(
        lambda w: w.model() + "/aliases/stable/rollback", 200, "consumer"),
    # inference/
    "POST /api/v1/models/{owner}/{name}/versions/{ref}/infer": Case(
        lambda w: w.model() + "/versions/1.0.0/infer", 200, "narrow_key",
        json=lambda w: {"inputs": {"x": [[1.0, -1.0]]}}),
    # search/
    "GET /api/v1/search/models": Case(lambda w: "/api/v1/search/models?q=", 200,
                                      "narrow_key", other="absent"),
}  # fmt: skip


async def _send(client: httpx.AsyncClient, method: str, url: str, case: Case, world: World,
                headers: dict[str, str]) -> httpx.Response:  # fmt: skip
    return await client.request(
        method, url, headers={**case.headers, **headers}, content=case.content,
        json=case.json(world) if case.json is not None else None,
    )  # fmt: skip


async def _upload(client: httpx.AsyncClient, w: World | TestUser, base: str, data: bytes,
                  complete: bool = True) -> str:  # fmt: skip
    owner = w.owner if isinstance(w, World) else w
    sha = hashlib.sha256(data).hexdigest()
    resp = await client.post(f"{base}/uploads", headers=owner.headers,
                             json={"filename": "m.onnx", "size": len(data), "sha256": sha})
    assert resp.status_code == 201, resp.text
    upload_id = str(resp.json()["id"])
    put = await client.put(f"/api/v1/uploads/{upload_id}/chunks/0", content=data, headers={
        **owner.headers, "content-type": "application/octet-stream", "X-Chunk-SHA256": sha})
    assert put.status_code == 204, put.text
    if complete:
        done = await client.post(f"/api/v1/uploads/{upload_id}/complete", headers=owner.headers)
        assert done.status_code == 200, done.text
    return upload_id


async def _ok(resp: httpx.Response) -> None:
    assert resp.status_code < 300, resp.text


async def build_world(client: httpx.AsyncClient, runtime: Runtime) -> World:
    """The owner's private ``secret`` model (published, versions 1.0.0 and 1.0.1 published,
    1.1.0 a draft, ``stable`` moved twice), a private draft ``draft``, uploads, the callers."""
    owner = await register_and_login(client)
    intruder = await register_and_login(client)
    consumer = await register_and_login(client)
    for user in (owner, intruder):
        await set_user(runtime, user, role="publisher", is_verified=True)
    for name in ("secret", "draft"):
        resp = await client.post("/api/v1/models", json=_model(name, "private"),
                                 headers=owner.headers)  # fmt: skip
        assert resp.status_code == 201, resp.text
    base = f"/api/v1/models/{owner.username}/secret"
    h = owner.headers
    await _ok(await client.post(f"{base}/publish", headers=h))
    for number in ("1.0.0", "1.0.1", "1.1.0"):
        upload_id = await _upload(client, owner, base, _onnx())
        await _ok(await client.post(f"{base}/versions", headers=h,
                                    json={"version": number, "upload_id": upload_id}))
    for number in ("1.0.0", "1.0.1"):
        await _ok(await client.post(f"{base}/versions/{number}/publish", headers=h))
    for number in ("1.0.0", "1.0.1"):
        await _ok(await client.put(f"{base}/aliases/stable", json={"version": number}, headers=h))
    narrow = await create_api_key(client, owner, ["team:read"])
    return World(
        owner=owner, intruder=intruder, consumer=consumer,
        narrow_key={"X-API-Key": narrow["key"]},
        open_upload=await _upload(client, owner, base, CHUNK, complete=False),
        done_upload=await _upload(client, owner, base, _onnx()),
    )  # fmt: skip


def _problem(resp: httpx.Response, status: int, what: str) -> None:
    assert resp.status_code == status, f"{what}: {resp.status_code} {resp.text}"
    assert resp.headers["content-type"].startswith("application/problem+json"), what


@pytest.mark.parametrize("operation", sorted(TABLE))
async def test_auth_matrix(
    operation: str, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    case = TABLE[operation]
    method = operation.split(" ", 1)[0]
    world = await build_world(client, runtime)
    url = case.url(world)
    # 1. anonymous
    _problem(await _send(client, method, url, case, world, {}), 401, "anonymous")
    # 2. wrong role or scope
    weak = world.consumer.headers if case.forbidden == "consumer" else world.narrow_key
    _problem(await _send(client, method, url, case, world, weak), 403, case.forbidden)
    # 3. another publisher and the owner's private model or upload
    other = await _send(client, method, url, case, world, world.intruder.headers)
    if case.other == "404":
        _problem(other, 404, "other's private")
    elif case.other == "absent":
        assert other.status_code == 200, other.text
        assert f"{world.owner.username}/secret" not in other.text
    else:
        assert case.other.startswith("n/a: "), "say why the case does not apply"
    # 4. valid: the owner
    valid = await _send(client, method, url, case, world, world.owner.headers)
    assert valid.status_code == case.ok, valid.text
    if case.owner_sees:
        assert f"{world.owner.username}/secret" in valid.text


#: Routes whose four cases live in their domain's own suite (they need a world of their own:
#: usage, reviews, an admin): test_reviews.py::test_four_auth_cases…, test_discovery.py and
#: test_cards.py. Listed by name, so a new route still needs a row here or there.
_M = "/api/v1/models/{owner}/{name}"
COVERED_ELSEWHERE = {
    f"GET {_M}/reviews", f"POST {_M}/reviews", f"GET {_M}/rating",
    f"GET {_M}/reviews/{{review_id}}", f"PATCH {_M}/reviews/{{review_id}}",
    f"POST {_M}/reviews/{{review_id}}/reply", f"PATCH {_M}/reviews/{{review_id}}/reply",
    f"POST {_M}/reviews/{{review_id}}/hide", f"POST {_M}/reviews/{{review_id}}/restore",
    "GET /api/v1/models/popular", "GET /api/v1/models/recent", f"GET {_M}/also-used",
    f"GET {_M}/card",
    # test_auth_part2.py: jobs, purchases, usage and analytics.
    "GET /api/v1/jobs/{job_id}", "POST /api/v1/jobs/{job_id}/cancel", f"POST {_M}/purchase",
    "GET /api/v1/purchases/{purchase_id}", "GET /api/v1/usage", "GET /api/v1/analytics/publisher",
    "GET /api/v1/analytics/spend", "GET /api/v1/analytics/top-models",
    # test_billing_subscriptions.py (four cases) and test_billing_webhooks.py (the signature).
    "GET /api/v1/billing/subscription", "PUT /api/v1/billing/subscription",
    "DELETE /api/v1/billing/subscription", "POST /api/v1/payments/webhooks",
    # test_billing_invoicing.py::test_refunds_ledger_and_payouts (401, 403, 404/other, valid).
    "POST /api/v1/billing/invoices/{invoice_id}/refunds", "GET /api/v1/billing/ledger",
    "GET /api/v1/billing/payouts",
    # test_billing_payouts.py::test_payout_account_route_and_its_auth_cases.
    "GET /api/v1/billing/payout-account", "PUT /api/v1/billing/payout-account",
}  # fmt: skip


async def test_the_table_covers_every_modelhub_route(
    app: FastAPI, forge_settings: ForgeSettings
) -> None:
    from forgekit.app import create_app as create_kit_app

    kit = {f"{m} {t}" for m, t, _ in http_operations(create_kit_app(forge_settings, title="k"))}
    product = {f"{m} {t}" for m, t, _ in http_operations(app)} - kit
    covered = set(TABLE) | COVERED_ELSEWHERE
    missing, stale = sorted(product - covered), sorted(covered - product)
    assert not missing, f"routes without an auth-matrix row: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"
