"""Fish classification throughput: 256 images at batch sizes 1, 8 and 32, through the API and
directly through ONNX Runtime in the same run, with p95 latency per image and the server's CPU
time per request (medians of ``--repeat`` runs: the machine is shared, so wall-clock figures
move with the neighbours' load, CPU per request much less); plus the model card's held-out
accuracy on the generated species and, trained here, on the real-photo stand-in set
(scikit-image's sample photographs as classes; needs the `train` extra).

The API is `aquaculture serve --workers N` in a scratch directory, on each backend asked for:
the embedded defaults (SQLite, local storage) and the servers a farm deploys (a scratch
PostgreSQL database, Redis, RabbitMQ; local storage). SQLite has one write lock for all API
processes, so with concurrent clients its small-batch latency is the lock's queue; PostgreSQL
is the answer for concurrency. It runs by default one API process per core
(`--api-workers 2` on this 2-core machine, as a pod per core would run it); a batch of b
images is one upload (a .zip for b > 1), sent by 4 concurrent clients. Server CPU is summed
over the whole process tree. `AQUA_BATCH_INLINE_MAX=32` keeps 32-image batches inline (the default
sends batches over 20 to the worker as jobs). The direct peer is the shipped ONNX model in
ONNX Runtime with one intra-op thread, as the server runs it. Nothing here is asserted.

    .venv/bin/python bench/aquaculture.py [--images 256] [--repeat 3] [--no-stand-in]
        [--backends embedded,servers]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

# This file is named like the package it measures: drop its directory from the import path
# first, so `import aquaculture` finds the package, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from aquaculture.classifier.preprocess import to_input, to_rgb_square  # noqa: E402
from aquaculture.classifier.registry import DEFAULT_MODEL_DIR  # noqa: E402
from aquaculture.testing import fish_png  # noqa: E402

from forgekit.testing.servers import free_port  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import bench_env, scratch_postgres  # noqa: E402

BATCHES = (1, 8, 32)
CLIENTS = 4


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return float(np.percentile(values, 95)) if values else 0.0


def onnx_direct(images: list[bytes], size: int) -> dict[int, tuple[float, float]]:
    """``{batch: (images/s, p95 ms per image)}`` of the model in ONNX Runtime (decode included)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(DEFAULT_MODEL_DIR / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    from PIL import Image

    session.run(["probabilities"], {"image": np.zeros((1, 3, size, size), np.float32)})
    out = {}
    for b in BATCHES:
        per_image: list[float] = []
        start = time.perf_counter()
        for i in range(0, len(images), b):
            t0 = time.perf_counter()
            pixels = np.stack(
                [to_rgb_square(Image.open(io.BytesIO(d)), size) for d in images[i : i + b]]
            )
            session.run(["probabilities"], {"image": to_input(pixels)})
            per_image.append((time.perf_counter() - t0) * 1000 / len(pixels))
        out[b] = (len(images) / (time.perf_counter() - start), p95(per_image))
    return out


def _upload(images: list[bytes]) -> tuple[str, bytes, str]:
    if len(images) == 1:
        return ("fish.png", images[0], "image/png")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i, data in enumerate(images):
            z.writestr(f"{i}.png", data)
    return ("batch.zip", buf.getvalue(), "application/zip")


async def api_run(
    base: str, url: str, headers: dict[str, str], images: list[bytes], b: int
) -> tuple[float, float]:
    """``(images/s, p95 ms per image)`` of uploads of ``b`` images by concurrent clients."""
    chunks = [images[i : i + b] for i in range(0, len(images), b)]
    queue: asyncio.Queue[list[bytes]] = asyncio.Queue()
    for c in chunks:
        queue.put_nowait(c)
    per_image: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120, headers=headers) as c:
            while not queue.empty():
                chunk = queue.get_nowait()
                t0 = time.perf_counter()
                r = await c.post(url, files={"file": _upload(chunk)})
                r.raise_for_status()
                per_image.append((time.perf_counter() - t0) * 1000 / len(chunk))

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return len(images) / (time.perf_counter() - start), p95(per_image)


async def _setup(base: str) -> tuple[str, dict[str, str]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        creds = {"email": "b@bench.example", "username": "bench", "password": "bench-password-1"}
        (await c.post("/auth/register", json=creds)).raise_for_status()
        tok = await c.post("/auth/login", data={"username": "bench", "password": creds["password"]})
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        farm = (await c.post("/api/v1/farms", json={"name": "Bench"}, headers=h)).json()["id"]
        site = (await c.post(f"/api/v1/farms/{farm}/sites", json={"name": "S"}, headers=h)).json()[
            "id"
        ]
        tank = (
            await c.post(f"/api/v1/farms/{farm}/sites/{site}/tanks", json={"name": "T"}, headers=h)
        ).json()["id"]
        return f"/api/v1/farms/{farm}/tanks/{tank}/observations", h


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds so far of a process and its live descendants (all their
    threads), from /proc: with several API workers the parent only supervises."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        children += [int(c) for c in task.read_text().split()]
    return own + sum(_cpu_s(c) for c in children)


def through_api(
    images: list[bytes], repeat: int, api_workers: int, backend_env: dict[str, str]
) -> dict[int, tuple[float, float, float]]:
    """Start the server; run every batch size ``repeat`` times; stop it. Per batch size, the
    medians of ``(images/s, p95 ms per image, server CPU ms per request)``."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "AQUA_"))}
        env.update(
            AQUA_PORT=str(port),
            AQUA_DATA_DIR=f"{tmp}/data",
            AQUA_BATCH_INLINE_MAX="32",
            FORGE_RATE_LIMIT_ENABLED="false",
            FORGE_LOG_LEVEL="WARNING",
        )
        env.update(backend_env)
        cmd = [sys.executable, "-m", "aquaculture.cli"]
        subprocess.run([*cmd, "migrate"], env=env, cwd=tmp, check=True, capture_output=True)
        proc = subprocess.Popen(
            [*cmd, "serve", "--workers", str(api_workers)],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("aquaculture did not start")
                time.sleep(0.2)
            url, headers = asyncio.run(_setup(base))
            asyncio.run(api_run(base, url, headers, images[:8], 1))  # warm-up
            out = {}
            for b in BATCHES:
                runs = []
                for _ in range(repeat):
                    cpu0 = _cpu_s(proc.pid)
                    rate, tail = asyncio.run(api_run(base, url, headers, images, b))
                    requests = -(-len(images) // b)
                    runs.append((rate, tail, (_cpu_s(proc.pid) - cpu0) * 1000 / requests))
                out[b] = tuple(float(np.median([r[i] for r in runs])) for i in range(3))
            return out  # type: ignore[return-value]
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def stand_in_tree(root: Path, per_region: int = 4) -> Path:
    """Real photographs as classes, split by source honestly: each photo's four quadrants are
    four sources (crops never straddle two), so held-out crops show a part of the photo that
    training never saw. Formats kept (rocket.jpg stays JPEG)."""
    import skimage.data
    from PIL import Image

    photos = Path(skimage.data.__file__).parent
    stand_ins = {"cat": "chelsea.png", "coffee": "coffee.png", "rocket": "rocket.jpg",
                 "astronaut": "astronaut.png", "motorcycle": "motorcycle_left.png"}  # fmt: skip
    rng = np.random.default_rng(0)
    for label, name in stand_ins.items():
        (root / label).mkdir(parents=True)
        with Image.open(photos / name) as img:
            w, h = img.width // 2, img.height // 2
            for q, (qx, qy) in enumerate([(0, 0), (w, 0), (0, h), (w, h)]):
                for k in range(per_region):
                    side = int(min(w, h) * rng.uniform(0.5, 0.9))
                    x, y = (
                        qx + int(rng.integers(0, w - side + 1)),
                        qy + int(rng.integers(0, h - side + 1)),
                    )
                    crop = img.crop((x, y, x + side, y + side)).convert("RGB")
                    crop.save(root / label / f"src-{label}-q{q}__{k}{Path(name).suffix}")
    return root


def stand_in_accuracy() -> dict[str, float] | None:
    """Train on the real-photo stand-in set; its card's held-out (by source) figures."""
    try:
        from aquaculture.classifier.train import TrainConfig, train_and_export
    except ImportError as exc:
        print(f"stand-in set skipped: {exc} (install packages/aquaculture[train])")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tree = stand_in_tree(Path(tmp) / "photos")
        card = train_and_export(TrainConfig(data=tree, out=Path(tmp) / "m", epochs=20, size=64,
                                            batch_size=16, patience=6, progress=False))  # fmt: skip
    m = card["metrics"]
    return {"test_accuracy": m["test_accuracy"], "val_accuracy": m["val_accuracy"],
            "ece": m["ece"], "test_images": card["data"]["test"],
            "test_sources": card["data"]["test_sources"]}  # fmt: skip


def main() -> None:
    """Run and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--no-stand-in", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="API runs per batch size (medians)")
    parser.add_argument(
        "--api-workers", type=int, default=os.cpu_count() or 1, help="API processes (one per core)"
    )
    parser.add_argument(
        "--backends", default="embedded,servers", help="embedded (SQLite) and/or servers (PG)"
    )
    args = parser.parse_args()
    card = json.loads((DEFAULT_MODEL_DIR / "card.json").read_text())
    images = [fish_png(i % 6, seed=1000 + i, size=96) for i in range(args.images)]
    direct = onnx_direct(images, card["input_size"])
    results = {}
    for backend in args.backends.split(","):
        if backend == "embedded":
            results[backend] = through_api(images, args.repeat, args.api_workers, {})
        else:
            with scratch_postgres("bench_aqua") as db_url:
                env = bench_env(db_url, uuid.uuid4().hex[:8])
                env.pop("PYFORGE_DATA_DIR")
                results[backend] = through_api(images, args.repeat, args.api_workers, env)
    print(
        f"{args.images} synthetic 96px PNGs; model {card['version']} ({card['input_size']}px), "
        f"{os.cpu_count()} CPUs, {args.api_workers} API process(es), {CLIENTS} clients; API "
        f"figures are medians of {args.repeat} runs, CPU is the server's (every process and "
        f"thread) per request; load average {os.getloadavg()[0]:.1f}"
    )
    head = ("backend", "batch", "API img/s", "API p95 ms/img", "API CPU ms/req", "ORT img/s",
            "ORT p95 ms/img", "API/ORT img/s")  # fmt: skip
    print(" | ".join(f"{h:>14}" for h in head))
    for backend, api in results.items():
        for b in BATCHES:
            row = (backend, b, *api[b], *direct[b], api[b][0] / direct[b][0])
            print(" | ".join(f"{v:>14.2f}" if isinstance(v, float) else f"{v:>14}" for v in row))
    m = card["metrics"]
    print(
        "model card (generated species, held-out sources): test accuracy "
        f"{m['test_accuracy']:.3f}, ECE {m['ece']:.3f}"
    )
    if not args.no_stand_in and (real := stand_in_accuracy()) is not None:
        print(
            f"real-photo stand-in set (5 photos as classes, quadrants as sources; held out "
            f"{real['test_images']} crops of {', '.join(real['test_sources'])}): test accuracy "
            f"{real['test_accuracy']:.3f}, validation {real['val_accuracy']:.3f}, "
            f"ECE {real['ece']:.3f}"
        )


if __name__ == "__main__":
    main()
