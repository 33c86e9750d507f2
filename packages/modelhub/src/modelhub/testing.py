"""Test helpers: small ONNX models and a hosted model set up over the API, as a user would.

Used by Modelhub's tests and benchmarks; nothing here runs in production.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.servers import same_backends_env


def affine_onnx(width: int = 4, hidden: int = 16) -> bytes:
    """``y = relu(x @ W + b) @ V`` over float32[batch, width]: a small dense model whose
    cost grows with the batch, with fixed weights (so its answers are deterministic)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(rng.standard_normal((width, hidden)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal(hidden).astype(np.float32), "b")
    v = numpy_helper.from_array(rng.standard_normal((hidden, 2)).astype(np.float32), "V")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", width])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h0"]),
        helper.make_node("Add", ["h0", "b"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "V"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "affine", [x], [y], initializer=[w, b, v])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


@dataclass
class HostedModel:
    """A published model with a published version 1.0.0, and its publisher."""

    publisher: TestUser
    base: str
    slug: str

    def infer_url(self, ref: str = "1.0.0") -> str:
        """The infer endpoint of a version or alias."""
        return f"{self.base}/versions/{ref}/infer"


async def _ok(resp: httpx.Response, status: int) -> dict[str, Any]:
    if resp.status_code != status:
        raise AssertionError(
            f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
        )
    return dict(resp.json()) if resp.content else {}


async def host_model(
    client: httpx.AsyncClient,
    runtime: Runtime,
    data: bytes,
    *,
    name: str = "affine",
    pricing: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> HostedModel:
    """Register a publisher, create, upload and publish ``data`` as ``name`` version 1.0.0."""
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    body = {"name": name, "title": name, "task": "regression", "framework": "onnx",
            "license": "mit", "visibility": "public", "pricing": pricing or {},
            "metadata": metadata or {}}  # fmt: skip
    await _ok(await client.post("/api/v1/models", json=body, headers=pub.headers), 201)
    base = f"/api/v1/models/{pub.username}/{name}"
    await _ok(await client.post(f"{base}/publish", headers=pub.headers), 200)
    sha = hashlib.sha256(data).hexdigest()
    upload = await _ok(await client.post(f"{base}/uploads", headers=pub.headers, json={
        "filename": "model.onnx", "size": len(data), "sha256": sha}), 201)  # fmt: skip
    chunk = {**pub.headers, "content-type": "application/octet-stream", "X-Chunk-SHA256": sha}
    url = f"/api/v1/uploads/{upload['id']}"
    await _ok(await client.put(f"{url}/chunks/0", content=data, headers=chunk), 204)
    await _ok(
        await client.post(f"/api/v1/uploads/{upload['id']}/complete", headers=pub.headers), 200
    )
    version = {"version": "1.0.0", "upload_id": upload["id"]}
    await _ok(await client.post(f"{base}/versions", headers=pub.headers, json=version), 201)
    await _ok(await client.post(f"{base}/versions/1.0.0/publish", headers=pub.headers), 200)
    return HostedModel(pub, base, f"{pub.username}/{name}")


def process_env(settings: ForgeSettings, data: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a ``modelhub`` process (API or worker) on the same backends as
    ``settings`` (a test's database, Redis prefix, exchange and queues), limits lifted."""
    return same_backends_env(
        settings, "MODELHUB", data, port, FORGE_RATE_LIMIT_DEFAULT="1000000/minute",
        FORGE_DATABASE_POOL_SIZE="5", FORGE_DATABASE_MAX_OVERFLOW="5",
        MODELHUB_INFER_RATE="1000000/minute", MODELHUB_PAYMENTS_FAKE="false", **extra,
    )  # fmt: skip
