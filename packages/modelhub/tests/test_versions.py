"""Versions and aliases: semantic order, immutability, ONNX signatures, pickles never loaded."""

import hashlib
import pickle
from pathlib import Path

import httpx
import onnx
from onnx import TensorProto, helper
from sqlalchemy import select

from forgekit.events.models import AuditLog
from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime

MODEL = {"name": "adder", "title": "Adder", "task": "regression", "framework": "onnx",
         "license": "mit", "visibility": "public"}


def tiny_onnx() -> bytes:
    """y = x + 1 over float32[batch, 3]: a valid ONNX graph built in the test."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    graph = helper.make_graph([helper.make_node("Add", ["x", "one"], ["y"])], "adder", [x], [y],
                              initializer=[one])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


class _Trap:
    """Unpickling this would create a file: proof that the server never loads pickles."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path(self.path).touch, ())


async def _publisher(client: httpx.AsyncClient, runtime: Runtime) -> tuple[TestUser, str]:
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    assert (await client.post("/api/v1/models", json=MODEL, headers=pub.headers)).status_code == 201
    base = f"/api/v1/models/{pub.username}/adder"
    assert (await client.post(f"{base}/publish", headers=pub.headers)).status_code == 200
    return pub, base


async def _upload(client: httpx.AsyncClient, pub: TestUser, base: str, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    upload = (await client.post(f"{base}/uploads", headers=pub.headers, json={
        "filename": "model.bin", "size": len(data), "sha256": sha})).json()
    resp = await client.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=data, headers={
        **pub.headers, "content-type": "application/octet-stream", "X-Chunk-SHA256": sha})
    assert resp.status_code == 204, resp.text
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete", headers=pub.headers)
    assert done.status_code == 200, done.text
    return str(upload["id"])


async def _version(client: httpx.AsyncClient, pub: TestUser, base: str, number: str,
                   data: bytes | None = None) -> httpx.Response:
    upload_id = await _upload(client, pub, base, data if data is not None else tiny_onnx())
    return await client.post(f"{base}/versions", headers=pub.headers,
                             json={"version": number, "upload_id": upload_id,
                                   "changelog": f"release {number}"})  # fmt: skip


async def test_versions_are_ordered_published_and_aliased(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub, base = await _publisher(client, runtime)
    consumer = await register_and_login(client)
    first = await _version(client, pub, base, "1.0.0")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["format"] == "onnx" and body["servable"] is True and body["status"] == "draft"
    assert body["signature"]["inputs"] == [{"name": "x", "dtype": "float32", "shape": ["batch", 3]}]
    assert body["signature"]["outputs"][0]["name"] == "y" and body["signature"]["opset"] == 17
    # A draft is its publisher's.
    assert (await client.get(f"{base}/versions/1.0.0", headers=consumer.headers)).status_code == 404
    assert (await client.post(f"{base}/versions/1.0.0/publish", headers=pub.headers)).status_code == 200
    again = await client.post(f"{base}/versions/1.0.0/publish", headers=pub.headers)
    assert again.status_code == 409
    latest = await client.get(f"{base}/versions/latest", headers=consumer.headers)
    assert latest.status_code == 200 and latest.json()["version"] == "1.0.0"
    # Versions only go up.
    for number in ("1.0.0", "0.9.9"):
        assert (await _version(client, pub, base, number)).status_code == 409
    bad = await _version(client, pub, base, "one")
    assert bad.status_code == 422
    # A prerelease does not move "latest"; the release does.
    assert (await _version(client, pub, base, "1.1.0-rc.1")).json()["prerelease"] is True
    await client.post(f"{base}/versions/1.1.0-rc.1/publish", headers=pub.headers)
    assert (await client.get(f"{base}/versions/latest", headers=pub.headers)).json()["version"] == "1.0.0"
    await _version(client, pub, base, "1.1.0")
    await client.post(f"{base}/versions/1.1.0/publish", headers=pub.headers)
    assert (await client.get(f"{base}/versions/latest", headers=pub.headers)).json()["version"] == "1.1.0"
    listed = (await client.get(f"{base}/versions", headers=consumer.headers)).json()
    assert [v["version"] for v in listed] == ["1.1.0", "1.1.0-rc.1", "1.0.0"]
    # Custom aliases move and roll back, with their history.
    put = await client.put(f"{base}/aliases/stable", json={"version": "1.0.0"}, headers=pub.headers)
    assert put.status_code == 200 and put.json()["version"] == "1.0.0"
    await client.put(f"{base}/aliases/stable", json={"version": "1.1.0"}, headers=pub.headers)
    back = await client.post(f"{base}/aliases/stable/rollback", headers=pub.headers)
    assert back.status_code == 200 and back.json()["version"] == "1.0.0"
    aliases = (await client.get(f"{base}/aliases", headers=consumer.headers)).json()
    assert {a["alias"]: a["version"] for a in aliases["aliases"]} == {"latest": "1.1.0",
                                                                       "stable": "1.0.0"}
    stable_moves = [(m["from_version"], m["to_version"]) for m in aliases["history"]
                    if m["alias"] == "stable"]  # fmt: skip
    assert stable_moves == [("1.1.0", "1.0.0"), ("1.0.0", "1.1.0"), (None, "1.0.0")]
    # Only published versions can be aliased; only the publisher moves aliases.
    draft = await _version(client, pub, base, "2.0.0")
    assert draft.status_code == 201
    refused = await client.put(f"{base}/aliases/beta", json={"version": "2.0.0"}, headers=pub.headers)
    assert refused.status_code == 409
    other = await client.put(f"{base}/aliases/stable", json={"version": "1.1.0"},
                             headers=consumer.headers)
    assert other.status_code == 403
    await runtime.events.drain(30)
    async with runtime.db.session() as s:
        audited = set((await s.scalars(select(AuditLog.event_type))).all())
    assert {"model.version.created", "model.version.published", "model.alias.moved"} <= audited


async def test_a_pickle_is_stored_but_never_loaded(
    client: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    pub, base = await _publisher(client, runtime)
    trap = tmp_path / "unpickled"
    resp = await _version(client, pub, base, "1.0.0", pickle.dumps(_Trap(str(trap))))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["format"] == "pickle" and body["servable"] is False
    # Only the conversion sandbox (test_conversion.py) ever loads it.
    assert body["conversion"]["status"] == "pending"
    assert not trap.exists()
    junk = await _version(client, pub, base, "1.0.1", b"definitely not a model" * 10)
    assert junk.json()["format"] == "unknown" and junk.json()["servable"] is False


async def test_download_link_serves_the_exact_file(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub, base = await _publisher(client, runtime)
    await _version(client, pub, base, "1.0.0")
    await client.post(f"{base}/versions/1.0.0/publish", headers=pub.headers)
    consumer = await register_and_login(client)
    link = await client.get(f"{base}/versions/latest/download", headers=consumer.headers)
    assert link.status_code == 200, link.text
    body = link.json()
    assert body["sha256"] == hashlib.sha256(tiny_onnx()).hexdigest()
    if body["url"].startswith("http://testserver"):
        fetched = await client.get(body["url"].removeprefix("http://testserver"))
        assert fetched.status_code == 200 and fetched.content == tiny_onnx()
    assert (await client.get(f"{base}/versions/9.9.9/download",
                             headers=consumer.headers)).status_code == 404
    # Each link handed out counts once towards the model's popularity.
    assert (await client.get(base, headers=consumer.headers)).json()["downloads"] == 1
