"""The runtime's model cache (LRU under a memory budget), per-call timeouts and providers."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from forgekit.inference import (
    InferenceRuntime,
    InferenceSettings,
    InferenceTimeout,
    loading,
    providers,
)
from forgekit.storage import LocalStorage


def scale_model(factor: float) -> bytes:
    """``y = x * factor``: a different file (and sha256) per factor."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    k = helper.make_tensor("k", TensorProto.FLOAT, [], [factor])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "k"], ["y"])], "scale", [x], [y],
                              initializer=[k])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "blobs", "k" * 32, "http://test")


def _x() -> dict[str, np.ndarray]:
    return {"x": np.ones((1, 3), dtype=np.float32)}


async def test_least_recently_used_model_is_unloaded_past_the_budget(storage):
    files = [scale_model(float(f)) for f in (2, 3, 4)]
    keys = [(await storage.put_bytes(d)).key for d in files]
    # Room for two of the three files.
    budget = len(files[0]) + len(files[1]) + len(files[2]) // 2
    runtime = InferenceRuntime(InferenceSettings(memory_budget_bytes=budget, max_queue_delay_ms=0))
    a = await runtime.ensure("a", "1", storage, keys[0])
    assert await runtime.ensure("a", "1", storage, keys[0]) is a  # loaded once
    await runtime.ensure("b", "1", storage, keys[1])
    await runtime.infer("a", _x())  # a is now the most recently used
    await runtime.ensure("c", "1", storage, keys[2])
    assert runtime.loaded() == ["a", "c"]
    assert runtime.evictions == 1
    assert runtime.loaded_bytes <= budget
    # b's session left the process cache; loading it again works (and evicts a's).
    assert all(k[0] != keys[1] for k in loading._sessions)
    out = await (await runtime.ensure("b", "1", storage, keys[1])).infer(_x())
    np.testing.assert_allclose(out["y"], np.full((1, 3), 3.0))
    assert runtime.loaded() == ["c", "b"]
    await runtime.close()


async def test_concurrent_ensure_loads_a_model_once(storage):
    key = (await storage.put_bytes(scale_model(5.0))).key
    runtime = InferenceRuntime(InferenceSettings())
    served = await asyncio.gather(*(runtime.ensure("m", "1", storage, key) for _ in range(8)))
    assert len({id(s) for s in served}) == 1
    await runtime.close()


async def test_a_call_past_its_timeout_is_a_504_problem(storage):
    key = (await storage.put_bytes(scale_model(2.0))).key
    runtime = InferenceRuntime(InferenceSettings(call_timeout_s=0.05, max_queue_delay_ms=0))
    served = await runtime.ensure("m", "1", storage, key)
    release = threading.Event()
    run = served.batcher._run_batch

    def slow(inputs):
        release.wait(60)  # released below, once the timeout was seen
        return run(inputs)

    served.batcher._run_batch = slow
    with pytest.raises(InferenceTimeout) as info:
        await served.infer(_x())
    assert info.value.status == 504
    release.set()
    # A generous per-call timeout lets the next call through once the model is free.
    served.batcher._run_batch = run
    out = await served.infer(_x(), timeout_s=60)
    np.testing.assert_allclose(out["y"], np.full((1, 3), 2.0))
    await runtime.close()


def test_cuda_is_preferred_only_when_present(monkeypatch):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])  # fmt: skip
    assert providers(InferenceSettings())[0] == "CUDAExecutionProvider"
    assert providers(InferenceSettings(use_cuda=False)) == ["CPUExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert providers(InferenceSettings()) == ["CPUExecutionProvider"]
