"""TorchScript and scikit-learn uploads become ONNX in the sandbox, never in the API process.

The round trip runs the converted ONNX with onnxruntime and compares it with the original
model; hostile pickles show the sandbox's guard (no writes outside its directory), its time
limits and its lack of network. torch and skl2onnx come from requirements-dev.txt: these tests
never skip.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import pickle
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import onnxruntime as ort
import pytest
import torch
from fastapi import FastAPI
from modelhub.versions.convert import Limits, convert
from sklearn.linear_model import LogisticRegression

from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings

MODEL = {"name": "conv", "title": "Converted", "task": "classification", "framework": "onnx",
         "license": "mit", "visibility": "public"}  # fmt: skip
#: Generous: the sandbox starts a fresh interpreter and imports torch (seconds on a busy box).
DEADLINE_S = 180.0
# torch deprecates TorchScript, but TorchScript files are what publishers upload.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:torch.*")


@pytest.fixture
def app_factory(request: pytest.FixtureRequest):
    from modelhub.app import create_app
    from modelhub.settings import ModelhubSettings

    marker = request.node.get_closest_marker("unavailable")
    unavailable = list(marker.args) if marker is not None else []

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings, ModelhubSettings(_env_file=None,
                                                     convert_unavailable=unavailable))

    return build


class _Linear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.fc(x) * 2.0, dim=1)


def torchscript_bytes() -> tuple[bytes, torch.jit.ScriptModule]:
    torch.manual_seed(0)
    module = torch.jit.script(_Linear().eval())
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    return buf.getvalue(), module


def sklearn_bytes() -> tuple[bytes, LogisticRegression]:
    rng = np.random.RandomState(0)
    x = rng.rand(60, 4).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 1.0).astype(int)
    estimator = LogisticRegression().fit(x, y)
    buf = io.BytesIO()
    joblib.dump(estimator, buf)
    return buf.getvalue(), estimator


class _Marker:
    """Unpickling this creates a file: proof of where a pickle was (not) loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path(self.path).touch, ())


class _Call:
    """Unpickling this calls ``func(*args)``."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


async def _publisher(client: httpx.AsyncClient, runtime: Runtime) -> tuple[TestUser, str]:
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    assert (await client.post("/api/v1/models", json=MODEL, headers=pub.headers)).status_code == 201
    return pub, f"/api/v1/models/{pub.username}/conv"


async def _version(client: httpx.AsyncClient, pub: TestUser, base: str, number: str,
                   data: bytes, **extra: Any) -> dict[str, Any]:  # fmt: skip
    sha = hashlib.sha256(data).hexdigest()
    upload = (await client.post(f"{base}/uploads", headers=pub.headers, json={
        "filename": "model.bin", "size": len(data), "sha256": sha})).json()  # fmt: skip
    resp = await client.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=data, headers={
        **pub.headers, "content-type": "application/octet-stream", "X-Chunk-SHA256": sha})
    assert resp.status_code == 204, resp.text
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete", headers=pub.headers)
    assert done.status_code == 200, done.text
    created = await client.post(f"{base}/versions", headers=pub.headers,
                                json={"version": number, "upload_id": upload["id"], **extra})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def _converted(client: httpx.AsyncClient, pub: TestUser, base: str,
                     number: str) -> dict[str, Any]:  # fmt: skip
    """The version once its conversion left ``pending`` (polled up to the deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        body: dict[str, Any] = (await client.get(f"{base}/versions/{number}",
                                                 headers=pub.headers)).json()  # fmt: skip
        if body["conversion"]["status"] != "pending" or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.2)


def _run_onnx(model: bytes, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return [np.asarray(o) for o in session.run(None, {session.get_inputs()[0].name: x})]


async def test_torchscript_and_sklearn_are_converted_and_agree(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub, base = await _publisher(client, runtime)
    ts_data, module = torchscript_bytes()
    sk_data, estimator = sklearn_bytes()
    first = await _version(client, pub, base, "1.0.0", ts_data)
    assert first["format"] == "torchscript" and first["servable"] is False
    assert first["conversion"]["status"] == "pending"
    await _version(client, pub, base, "1.1.0", sk_data)

    ts = await _converted(client, pub, base, "1.0.0")
    assert ts["conversion"]["status"] == "succeeded", ts["conversion"]
    assert ts["servable"] is True and ts["format_note"] is None
    assert ts["signature"]["inputs"] == [{"name": "input", "dtype": "float32",
                                          "shape": ["batch", 4]}]  # fmt: skip
    x = np.random.RandomState(1).rand(5, 4).astype(np.float32)
    onnx_model = await runtime.storage.read(ts["conversion"]["onnx_sha256"])
    (got,) = _run_onnx(onnx_model, x)
    with torch.no_grad():
        want = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)

    sk = await _converted(client, pub, base, "1.1.0")
    assert sk["conversion"]["status"] == "succeeded", sk["conversion"]
    assert sk["format"] == "pickle" and sk["servable"] is True
    assert sk["signature"]["inputs"][0]["shape"] == [None, 4]
    labels, probabilities = _run_onnx(await runtime.storage.read(sk["conversion"]["onnx_sha256"]), x)
    np.testing.assert_array_equal(labels, estimator.predict(x))
    np.testing.assert_allclose(probabilities, estimator.predict_proba(x), rtol=1e-4, atol=1e-5)
    # The original file stays what was uploaded; the converted one is stored beside it.
    assert sk["sha256"] == hashlib.sha256(sk_data).hexdigest() != sk["conversion"]["onnx_sha256"]


async def test_a_hostile_pickle_never_runs_in_the_api(
    client: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    pub, base = await _publisher(client, runtime)
    marker = tmp_path / "unpickled"
    body = await _version(client, pub, base, "1.0.0", pickle.dumps(_Marker(str(marker)), 4))
    assert body["format"] == "pickle" and body["servable"] is False
    assert not marker.exists()  # upload and version creation never unpickled it
    done = await _converted(client, pub, base, "1.0.0")
    # The sandbox did unpickle it; its guard refused the write outside its directory.
    assert done["conversion"]["status"] == "failed"
    assert "sandbox: writing" in done["conversion"]["reason"]
    assert done["format_note"].startswith("unsupported for hosted inference")
    assert done["servable"] is False and not marker.exists()


@pytest.mark.unavailable("torch", "skl2onnx")
async def test_without_the_converters_a_version_is_unsupported_not_an_error(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pub, base = await _publisher(client, runtime)
    await _version(client, pub, base, "1.0.0", torchscript_bytes()[0])
    await _version(client, pub, base, "1.1.0", sklearn_bytes()[0])
    for number, missing in (("1.0.0", "torch"), ("1.1.0", "skl2onnx")):
        body = await _converted(client, pub, base, number)
        assert body["conversion"]["status"] == "failed" and body["servable"] is False
        assert body["format_note"].startswith("unsupported for hosted inference")
        assert f"needs {missing}" in body["conversion"]["reason"]
        assert "modelhub[convert]" in body["conversion"]["reason"]


async def _sandbox(tmp_path: Path, payload: object, limits: Limits) -> tuple[str, str, float]:
    source = tmp_path / "model.pkl"
    source.write_bytes(pickle.dumps(payload, 4))
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()
    outcome = await convert("sklearn", source, work, limits)
    return outcome.status, outcome.reason or "", time.monotonic() - started


async def test_the_cpu_limit_kills_a_pickle_that_loops_forever(tmp_path: Path) -> None:
    # Two CPU seconds can take many wall seconds on a busy machine: the wall limit is far off.
    status, reason, took = await _sandbox(
        tmp_path, _Call(exec, "while True: pass"), Limits(cpu_s=2, wall_s=240)
    )
    assert status == "failed" and "CPU-time limit" in reason
    assert took < 240  # killed by the CPU limit (the reason says so), before the wall limit


async def test_the_wall_limit_kills_a_pickle_that_sleeps(tmp_path: Path) -> None:
    status, reason, took = await _sandbox(
        tmp_path, _Call(time.sleep, 600), Limits(cpu_s=60, wall_s=3)
    )
    assert status == "failed" and "wall-time limit" in reason
    assert took < 120  # generous for a busy machine, yet far short of the 600 s sleep


async def test_the_memory_limit_stops_a_pickle_that_allocates_too_much(tmp_path: Path) -> None:
    status, reason, _ = await _sandbox(
        tmp_path, _Call(bytearray, 3 * 1024**3), Limits(memory_bytes=1024**3)
    )
    assert status == "failed" and "MemoryError" in reason


async def test_the_sandbox_has_no_network(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        status, reason, _ = await _sandbox(
            tmp_path, _Call(socket.create_connection, ("127.0.0.1", port), 2), Limits()
        )
    assert status == "failed"
    assert "sandbox: socket" in reason, reason


async def test_the_sandbox_sees_no_secrets_of_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child's environment is built from nothing: a secret here must not reach it.
    monkeypatch.setenv("FORGE_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    status, reason, _ = await _sandbox(
        tmp_path, _Call(eval, "exec(\"raise ValueError(sorted(__import__('os').environ))\")"),
        Limits(),
    )
    assert status == "failed" and "ValueError" in reason
    assert "FORGE_SECRET_KEY" not in reason and "HTTPS_PROXY" not in reason
    assert "PATH" in reason


async def test_a_conversion_left_pending_is_requested_again(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    from modelhub.versions.conversion import Converter, mark_pending
    from modelhub.versions.models import ModelVersion
    from sqlalchemy import select

    pub, base = await _publisher(client, runtime)
    await _version(client, pub, base, "1.0.0", sklearn_bytes()[0])
    first = await _converted(client, pub, base, "1.0.0")
    assert first["conversion"]["status"] == "succeeded"
    # As if the process had stopped mid-conversion: the version is pending, no job queued.
    async with runtime.db.transaction() as session:
        version = (await session.scalars(select(ModelVersion))).one()
        mark_pending(version, "pickle", None)
    assert (await client.get(f"{base}/versions/1.0.0", headers=pub.headers)).json()[
        "conversion"]["status"] == "pending"  # fmt: skip
    converter = next(s for s in runtime.services if isinstance(s, Converter))
    assert await converter.resume() == 1
    again = await _converted(client, pub, base, "1.0.0")
    assert again["conversion"]["status"] == "succeeded"
    assert again["signature"] == first["signature"] and again["servable"] is True
