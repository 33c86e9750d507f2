"""forgekit.inference: sessions from storage, dynamic batching, back-pressure and metrics.

The model is built here with the ``onnx`` helper API: ``y = x * 2`` over a [batch, n] input.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading

import numpy as np
import onnx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from onnx import TensorProto, helper
from prometheus_client import CollectorRegistry, generate_latest

from forgekit.errors import install_error_handlers
from forgekit.inference import (
    DynamicBatcher,
    InferenceMetrics,
    InferenceOverloaded,
    InferenceRuntime,
    InferenceSettings,
    ModelIntegrityError,
    get_session,
    pad_concat,
)
from forgekit.storage import LocalStorage


def double_model() -> bytes:
    """A tiny ONNX model: ``y = x * 2`` with dynamic batch and width."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "n"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "n"])
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "double", [x], [y],
                              initializer=[two])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "blobs", "k" * 32, "http://test")


async def until(condition, timeout_s: float = 60.0) -> None:
    """Poll ``condition`` (no fixed sleep guessing how long the batcher takes)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def settings(**kw) -> InferenceSettings:
    base = {"max_batch_size": 8, "max_queue_delay_ms": 200.0, "max_queue_size": 64}
    return InferenceSettings(**{**base, **kw})


def _sample(value: float, width: int = 3) -> dict[str, np.ndarray]:
    return {"x": np.full((1, width), value, dtype=np.float32)}


async def test_load_from_storage_verifies_sha256_and_serves(storage):
    data = double_model()
    stored = await storage.put_bytes(data)
    assert stored.key == hashlib.sha256(data).hexdigest()
    runtime = InferenceRuntime(settings(), namespace="t")
    served = await runtime.load("double", "1.0.0", storage, stored.key,
                                warm_up_inputs=_sample(0.0))  # fmt: skip
    out = await runtime.infer("double", _sample(1.5))
    np.testing.assert_allclose(out["y"], np.full((1, 3), 3.0))
    assert served.sha256 == stored.key
    await runtime.close()


async def test_wrong_sha256_is_refused(storage):
    stored = await storage.put_bytes(double_model())
    runtime = InferenceRuntime(settings())
    with pytest.raises(ModelIntegrityError):
        await runtime.load("double", "1", storage, stored.key, sha256="0" * 64)
    # A file altered on disk under its key is refused too.
    storage.path_for(stored.key).write_bytes(double_model() + b"\0")
    with pytest.raises(ModelIntegrityError):
        await runtime.load("double", "1", storage, stored.key)


def test_session_is_loaded_once_per_process():
    data = double_model()
    s = InferenceSettings(intra_op_threads=1, inter_op_threads=1)
    assert get_session(data, s) is get_session(data, s)


async def test_concurrent_calls_run_as_one_batch(storage):
    stored = await storage.put_bytes(double_model())
    registry = CollectorRegistry()
    # A delay no test waits out: only reaching the maximum batch size can run the batch.
    runtime = InferenceRuntime(settings(max_batch_size=8, max_queue_delay_ms=600_000.0),
                               registry=registry, namespace="t")  # fmt: skip
    served = await runtime.load("double", "1.0.0", storage, stored.key)
    # Eight callers, widths 1..8: the batch is padded, each caller gets its own row back.
    async with asyncio.timeout(120):  # far below the delay: the full batch ran at once
        results = await asyncio.gather(
            *(served.infer(_sample(float(i), width=i), timeout_s=120) for i in range(1, 9))
        )
    assert served.batcher.batches_run == 1
    for i, out in enumerate(results, start=1):
        assert out["y"].shape[0] == 1
        np.testing.assert_allclose(out["y"][0, :i], np.full(i, 2.0 * i))
    text = generate_latest(registry).decode()
    assert 't_inference_batch_size_count{model="double",version="1.0.0"} 1.0' in text
    assert 't_inference_batch_size_sum{model="double",version="1.0.0"} 8.0' in text
    assert 't_inference_latency_seconds_count{model="double",version="1.0.0"} 8.0' in text
    await runtime.close()


async def test_delay_flushes_a_partial_batch():
    calls: list[int] = []

    def run(inputs):
        calls.append(inputs["x"].shape[0])
        return {"y": inputs["x"] * 2}

    batcher = DynamicBatcher("m", "1", run, settings(max_batch_size=100, max_queue_delay_ms=20.0))
    results = await asyncio.gather(*(batcher.submit(_sample(1.0)) for _ in range(3)))
    assert calls == [3]
    assert all(r["y"].shape == (1, 3) for r in results)
    await batcher.close()


async def test_buckets_keep_short_and_long_requests_apart():
    shapes: list[tuple[int, int]] = []

    def run(inputs):
        shapes.append(inputs["x"].shape)
        return {"y": inputs["x"] * 2}

    batcher = DynamicBatcher("m", "1", run, settings(max_batch_size=4, max_queue_delay_ms=30.0),
                             bucket_of=lambda inputs: inputs["x"].shape[1] > 8)  # fmt: skip
    widths = [2, 100, 3, 120, 4, 5]
    results = await asyncio.gather(*(batcher.submit(_sample(1.0, width=w)) for w in widths))
    # Four short ones fill a batch (not padded to 120); the two long ones go together.
    assert sorted(shapes) == [(2, 120), (4, 5)]
    for w, r in zip(widths, results):
        assert r["y"].shape[0] == 1
        assert (r["y"][0, :w] == 2.0).all()
    await batcher.close()


async def test_full_queue_answers_overloaded_and_counts_it():
    release, running = threading.Event(), threading.Event()

    def slow(inputs):
        running.set()
        release.wait(60)  # released below, once the queue was seen full
        return {"y": inputs["x"]}

    registry = CollectorRegistry()
    metrics = InferenceMetrics(registry, "t")
    batcher = DynamicBatcher("m", "1", slow,
                             settings(max_batch_size=1, max_queue_delay_ms=0.0, max_queue_size=2,
                                      retry_after_s=3), metrics)  # fmt: skip
    first = asyncio.create_task(batcher.submit(_sample(1.0)))
    await until(running.is_set)  # the first request is running, the queue is empty again
    assert batcher.depth == 0
    waiting = [asyncio.create_task(batcher.submit(_sample(1.0))) for _ in range(2)]
    await until(lambda: batcher.depth == 2)
    assert 't_inference_queue_depth{model="m"} 2.0' in generate_latest(registry).decode()
    with pytest.raises(InferenceOverloaded) as info:
        await batcher.submit(_sample(1.0))
    assert info.value.status == 503
    assert info.value.headers == {"Retry-After": "3"}
    release.set()
    await asyncio.gather(first, *waiting)
    text = generate_latest(registry).decode()
    assert 't_inference_errors_total{model="m",reason="overloaded",version="1"} 1.0' in text
    await batcher.close()


async def test_failed_batch_fails_its_requests_and_counts_them():
    def broken(inputs):
        raise RuntimeError("boom")

    registry = CollectorRegistry()
    batcher = DynamicBatcher("m", "1", broken, settings(max_queue_delay_ms=5.0),
                             InferenceMetrics(registry, "t"))  # fmt: skip
    results = await asyncio.gather(*(batcher.submit(_sample(1.0)) for _ in range(2)),
                                   return_exceptions=True)  # fmt: skip
    assert all(isinstance(r, RuntimeError) for r in results)
    text = generate_latest(registry).decode()
    assert 't_inference_errors_total{model="m",reason="failed",version="1"} 2.0' in text
    await batcher.close()


def test_overloaded_maps_to_503_problem_json_with_retry_after():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/predict")
    async def predict() -> None:
        raise InferenceOverloaded("bugs", 2)

    response = TestClient(app).get("/predict")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["type"].endswith("/inference-overloaded")
    assert body["model"] == "bugs"


def test_pad_concat_pads_other_axes():
    out = pad_concat([np.ones((1, 2), np.int64), np.ones((2, 4), np.int64)], pad_value=-1)
    assert out.shape == (3, 4)
    assert out[0].tolist() == [1, 1, -1, -1]


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("FORGE_INFERENCE_MAX_BATCH_SIZE", "4")
    monkeypatch.setenv("FORGE_INFERENCE_INTRA_OP_THREADS", "2")
    s = InferenceSettings()
    assert (s.max_batch_size, s.intra_op_threads) == (4, 2)


async def test_unknown_model_is_not_found_and_reload_replaces_the_version(storage):
    from forgekit.errors import NotFound

    stored = await storage.put_bytes(double_model())
    runtime = InferenceRuntime(settings())
    with pytest.raises(NotFound):
        runtime.get("double")
    await runtime.load("double", "1", storage, stored.key)
    await runtime.load("double", "2", storage, stored.key)
    assert runtime.get("double").version == "2"
    out = await runtime.infer("double", _sample(2.0))
    np.testing.assert_allclose(out["y"], np.full((1, 3), 4.0))
    await runtime.close()
