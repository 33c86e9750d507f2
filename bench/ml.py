"""The bug detector's serving cost: latency, batching, ONNX Runtime against PyTorch, size, RSS.

In one process and one run, over real functions of the standard library:

1. Latency per function at batch 1 (encode + ONNX Runtime + decode), p50/p95.
2. Throughput under 32 concurrent callers: unbatched (each call runs the session alone) against
   forgekit.inference's dynamic batching, both on one session with the same thread count.
3. ONNX Runtime against PyTorch on the same inputs, batch 1 and batch 32 (PyTorch needs the
   ``train`` extra and the checkpoint ``.ml-data/neural.pt`` from ``pyforge train bugs``).
4. The model file's size and the process's resident memory.

    .venv/bin/python bench/ml.py [--functions 400] [--callers 32] [--threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from forgekit.inference import DynamicBatcher, InferenceSettings, get_session
from pyforge.ml.decode import decide
from pyforge.ml.features import Encoded, collate, encode
from pyforge.ml.modelinfo import model_info
from pyforge.ml.rewrites import rewrite_space
from pyforge.ml.serving import length_bucket
from pyforge.ml.units import iter_functions, parse_unit, unit_source

MODULES = ("argparse", "json.decoder", "email.message", "csv", "textwrap", "dataclasses",
           "ftplib", "gzip", "http.cookiejar", "pprint")  # fmt: skip


def rss_mb() -> float:
    """Resident memory of this process (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    """The q-th percentile."""
    return float(np.percentile(values, q))


def functions(limit: int) -> list[Encoded]:
    """Encoded functions of a few stdlib modules (parsed, not executed)."""
    import importlib

    out: list[Encoded] = []
    for name in MODULES:
        source = inspect.getsource(importlib.import_module(name))
        for unit in iter_functions(source):
            enc = encode(unit, rewrite_space(unit))
            if enc.loc_mask.any():
                out.append(enc)
    return out[:limit]


def feed(batch: list[Encoded]) -> dict[str, Any]:
    """ONNX inputs of a list of functions."""
    b = collate(batch)
    return {"sub": b.sub, "kind": b.kind, "pad": b.pad}


def latency_batch1(session: Any, texts: list[str]) -> dict[str, float]:
    """End-to-end per-function latency: parse, encode, run, decide."""
    times = []
    for text in texts:
        t0 = time.perf_counter()
        unit = parse_unit("f", text, 1)
        assert unit is not None
        enc = encode(unit, rewrite_space(unit))
        if enc.loc_mask.any():
            loc, nobug, rep, ptr = session.run(None, feed([enc]))
            decide(enc, loc[0], float(nobug[0]), rep[0], ptr[0])
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "max_ms": max(times)}


async def throughput(
    session: Any, encs: list[Encoded], callers: int, batched: bool, settings: InferenceSettings
) -> float:
    """Functions per second with ``callers`` concurrent callers."""
    names = [o.name for o in session.get_outputs()]

    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        return dict(zip(names, session.run(names, inputs), strict=True))

    executor = ThreadPoolExecutor(1)
    batcher = (
        DynamicBatcher("bugs", "bench", run, settings, bucket_of=length_bucket) if batched else None
    )
    loop = asyncio.get_running_loop()
    per_caller = [encs[i::callers] for i in range(callers)]

    async def caller(mine: list[Encoded]) -> None:
        for enc in mine:
            inputs = feed([enc])
            if batcher is not None:
                await batcher.submit(inputs)
            else:
                await loop.run_in_executor(executor, run, inputs)

    t0 = time.perf_counter()
    await asyncio.gather(*(caller(m) for m in per_caller))
    elapsed = time.perf_counter() - t0
    if batcher is not None:
        await batcher.close()
    executor.shutdown()
    return len(encs) / elapsed


def torch_compare(session: Any, encs: list[Encoded], threads: int) -> dict[str, float] | None:
    """Milliseconds per function, ONNX Runtime vs PyTorch, batch 1 and batch 32."""
    ckpt = Path(".ml-data/neural.pt")
    try:
        import torch

        from pyforge.ml.model import BugModel, ModelConfig
    except ImportError:
        return None
    if not ckpt.exists():
        return None
    torch.set_num_threads(threads)
    meta = model_info()
    import json

    config = ModelConfig(**json.loads((meta.path.parent / "bugs.json").read_text())["config"])
    model = BugModel(config)
    model.load_state_dict(torch.load(ckpt, weights_only=True))
    model.eval()
    out: dict[str, float] = {}
    ordered = sorted(encs, key=lambda e: e.length)  # batches of similar length, as buckets do
    for size in (1, 32):
        batches = [ordered[i : i + size] for i in range(0, len(ordered), size)]
        t0 = time.perf_counter()
        for b in batches:
            session.run(None, feed(b))
        out[f"onnxruntime_b{size}_ms_per_fn"] = (time.perf_counter() - t0) * 1000 / len(encs)
        t0 = time.perf_counter()
        with torch.no_grad():
            for b in batches:
                x = feed(b)
                model(torch.from_numpy(x["sub"]), torch.from_numpy(x["kind"]),
                      torch.from_numpy(x["pad"]))  # fmt: skip
        out[f"pytorch_b{size}_ms_per_fn"] = (time.perf_counter() - t0) * 1000 / len(encs)
    return out


def main() -> None:
    """Run every measurement and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=400)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    # Small batches: attention is quadratic in length, and at batch 32 its tensors leave the
    # cache, so on CPU a batch of 8 costs less per function than one of 32.
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--delay-ms", type=float, default=2.0)
    args = parser.parse_args()

    rss0 = rss_mb()
    meta = model_info()
    settings = InferenceSettings(intra_op_threads=args.threads, inter_op_threads=1,
                                 max_batch_size=args.max_batch,
                                 max_queue_delay_ms=args.delay_ms)  # fmt: skip
    session = get_session(meta.path.read_bytes(), settings, sha256=meta.sha256)
    encs = functions(args.functions)
    session.run(None, feed(encs[:8]))  # warm-up
    rss_loaded = rss_mb()

    import importlib

    texts = []
    for name in MODULES:
        source = inspect.getsource(importlib.import_module(name))
        for unit in iter_functions(source):
            texts.append(unit_source(unit))
    lat = latency_batch1(session, texts[: args.functions])
    unbatched = asyncio.run(throughput(session, encs, args.callers, False, settings))
    batched = asyncio.run(throughput(session, encs, args.callers, True, settings))
    versus = torch_compare(session, encs, args.threads)
    size_mb = meta.path.stat().st_size / 1e6
    print(f"model {meta.name} {meta.version}: {size_mb:.2f} MB, {len(encs)} functions, "
          f"{os.cpu_count()} CPUs, ORT intra-op threads {args.threads}")  # fmt: skip
    print(f"batch-1 latency per function (parse+encode+run+decode): p50 {lat['p50_ms']:.1f} ms, "
          f"p95 {lat['p95_ms']:.1f} ms, max {lat['max_ms']:.1f} ms")  # fmt: skip
    print(f"{args.callers} concurrent callers: unbatched {unbatched:.0f} fn/s, dynamic batching "
          f"(max batch {args.max_batch}, delay {args.delay_ms:g} ms, length buckets) "
          f"{batched:.0f} fn/s ({batched / unbatched:.2f}x)")  # fmt: skip
    if versus is None:
        print("PyTorch comparison skipped (needs the train extra and .ml-data/neural.pt)")
    else:
        print("ms per function: " + ", ".join(f"{k} {v:.2f}" for k, v in versus.items()))
    print(f"RSS: {rss0:.0f} MB at start, {rss_loaded:.0f} MB with the model loaded, "
          f"{rss_mb():.0f} MB at the end")  # fmt: skip


if __name__ == "__main__":
    main()
