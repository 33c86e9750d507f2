"""Hostile input: schemathesis over Modelhub's whole OpenAPI schema, authenticated (all checks but
the two :mod:`forgekit.testing.schemafuzz` explains, bounded examples per operation).

A self-registered Modelhub user is a consumer who owns nothing, so fuzzing as one reached
little beyond 401/403/404. The fuzzing user here is a verified publisher calling with an API
key that carries every publisher scope, and owns what the paths name: a published model with
a published version ``1.0.0`` and the alias ``stable``, a pending upload, an async job, a
team, a review left by a consumer who used the model, and a second model that the
``DELETE``/``deprecate`` operations may destroy without taking the others' target away.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from modelhub.permissions import Permission
from modelhub.testing import affine_onnx

from forgekit.identity.rbac import KitPermission
from forgekit.testing.payments import fake_provider
from forgekit.testing.schemafuzz import FuzzSetup, FuzzUser, assert_schema_holds, register_user

USER_VALUES: dict[str, object] = {"role": "publisher", "is_verified": 1}
MODEL, DOOMED, VERSION, ALIAS = "fuzzmodel", "fuzzdoomed", "1.0.0", "stable"
# Every scope a publisher holds: `billing:manage` (refunds) is the admins' alone.
SCOPES = [*(str(p) for p in Permission if p is not Permission.BILLING_MANAGE),
          KitPermission.TEAM_READ, KitPermission.TEAM_WRITE,
          KitPermission.TEAM_MANAGE_MEMBERS, KitPermission.TEAM_DELETE]  # fmt: skip
BODY = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}


def _ok(resp: httpx.Response, *status: int) -> Any:
    assert resp.status_code in status, (resp.request.method, resp.request.url, resp.text[:500])
    return resp.json() if resp.content else None


def _hosted_model(client: httpx.Client, h: dict[str, str], name: str) -> str:
    """Create, upload, version and publish ``name``; its base path."""
    _ok(client.post("/api/v1/models", headers=h, json={
        "name": name, "title": name, "task": "regression", "framework": "onnx", "license": "mit",
        "visibility": "public", "pricing": {}, "metadata": {}}), 201)  # fmt: skip
    base = f"/api/v1/models/{client.headers['x-owner']}/{name}"
    _ok(client.post(f"{base}/publish", headers=h), 200)
    data = affine_onnx()
    sha = hashlib.sha256(data).hexdigest()
    upload = _ok(client.post(f"{base}/uploads", headers=h, json={
        "filename": "model.onnx", "size": len(data), "sha256": sha}), 201)  # fmt: skip
    _ok(client.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=data, headers={
        **h, "content-type": "application/octet-stream", "X-Chunk-SHA256": sha}), 204)  # fmt: skip
    _ok(client.post(f"/api/v1/uploads/{upload['id']}/complete", headers=h), 200)
    _ok(client.post(f"{base}/versions", headers=h, json={
        "version": VERSION, "upload_id": upload["id"]}), 201)  # fmt: skip
    _ok(client.post(f"{base}/versions/{VERSION}/publish", headers=h), 200)
    return base


def _review_by_a_consumer(client: httpx.Client, base: str) -> str:
    """A consumer calls the model, then reviews it (only users of a model may)."""
    consumer = register_user(str(client.base_url))
    _ok(client.post(f"{base}/versions/{VERSION}/infer", headers=consumer.headers, json=BODY), 200)
    deadline = time.monotonic() + 60
    while True:  # the call is metered by a consumer of the usage event: wait for it
        resp = client.post(f"{base}/reviews", headers=consumer.headers,
                           json={"rating": 4, "title": "useful"})  # fmt: skip
        if resp.status_code == 201 or time.monotonic() > deadline:
            return str(_ok(resp, 201)["id"])
        time.sleep(0.2)


def prepare(client: httpx.Client, user: FuzzUser) -> FuzzSetup:
    """Seed what the paths name and mint the fuzzer's API key."""
    # Log in again: the session was issued before the account became a publisher.
    login = client.post("/auth/login", data={"username": user.username, "password": user.password})
    h = {"Authorization": f"Bearer {_ok(login, 200)['access_token']}"}
    client.headers["x-owner"] = user.username
    base = _hosted_model(client, h, MODEL)
    _hosted_model(client, h, DOOMED)
    _ok(client.put(f"{base}/aliases/{ALIAS}", headers=h, json={"version": VERSION}), 200)
    upload = _ok(client.post(f"{base}/uploads", headers=h, json={
        "filename": "next.onnx", "size": 4, "sha256": "0" * 64}), 201)  # fmt: skip
    job = _ok(client.post(f"{base}/versions/{VERSION}/infer", json=BODY,
                          headers={**h, "Prefer": "respond-async"}), 202)  # fmt: skip
    team = _ok(client.post("/api/v1/teams", headers=h, json={"name": "fuzz-team"}), 201)
    review = _review_by_a_consumer(client, base)
    me = _ok(client.get("/auth/me", headers=h), 200)
    # A second key for /auth/api-keys/{key_id}: rotating or deleting it spares the fuzzer's.
    spare = _ok(client.post("/auth/api-keys", headers=h, json={"name": "spare"}), 201)
    key = _ok(client.post("/auth/api-keys", headers=h, json={"name": "fuzz", "scopes": SCOPES}),
              201)  # fmt: skip
    config = f"""
[parameters]
"path.owner" = "{user.username}"
"path.name" = "{MODEL}"
"path.ref" = "{VERSION}"
"path.alias" = "{ALIAS}"
"path.upload_id" = "{upload['id']}"
"path.job_id" = "{job['id']}"
"path.team_id" = "{team['id']}"
"path.user_id" = "{me['id']}"
"path.review_id" = "{review}"
"path.key_id" = "{spare['id']}"

[[operations]]
include-name = "DELETE /api/v1/models/{{owner}}/{{name}}"
parameters = {{ "path.name" = "{DOOMED}" }}

[[operations]]
include-name = "POST /api/v1/models/{{owner}}/{{name}}/deprecate"
parameters = {{ "path.name" = "{DOOMED}" }}
"""
    return FuzzSetup({"X-API-Key": key["key"]}, config)


@pytest.mark.hostile
def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    # A payment provider (the kit's fake), so that purchases reach the saga rather than the
    # 503 a server without payments answers by design.
    with fake_provider() as fake:
        env = {"MODELHUB_PAYMENTS_BASE_URL": fake.base_url,
               "MODELHUB_PAYMENTS_API_KEY": fake.api_key,
               "MODELHUB_PAYMENTS_WEBHOOK_SECRET": fake.webhook_secret}  # fmt: skip
        run = assert_schema_holds("modelhub.cli", "MODELHUB", tmp_path, "schemathesis-modelhub",
                                  user_values=USER_VALUES, prepare=prepare, env=env)  # fmt: skip
    shares = run.shares()
    seen = int(str(shares["operations_seen"]))
    # Most operations reach their handlers: answered 2xx at least once, few only 401/403 (as
    # a consumer with nothing seeded: 23 of 75 with a 2xx, 11 only 401/403).
    assert int(str(shares["operations_with_2xx"])) * 2 > seen, run.table()
    assert int(str(shares["operations_only_401_403"])) * 5 < seen, run.table()
