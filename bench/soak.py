"""Soak and stress of the analysis service: the seed mix held for minutes with resident memory
sampled, then a ramp of users until errors or latency say the knee is reached.

Soak: ``--users`` (1,000) virtual users with 1-3 s think time (bench/service.py's mix) for
``--minutes``; every ``--sample-s`` seconds it records the RSS of every process of the stack
(2 API processes and their parent, the analysis worker) and the p95 of the window. It prints the
RSS growth of each process from the first sample after warm-up to the last, and the p95 of the
first and last windows, against the stated bounds (``--rss-growth-mib``, ``--p95-drift``).

Stress: steps of users (``--ramp``), ``--step-s`` seconds each, no think time beyond 0.1-0.3 s,
until the error rate passes 1 % or p95 passes 1 s: the last good step is the knee.

    .venv/bin/python bench/soak.py --minutes 30       # `make reliability SOAK_MINUTES=30`

Both bounded in time: the soak by ``--minutes``, the ramp by its steps. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from _servers import bench_env, percentiles, pyforge_server, scratch_postgres
from service import MIX, _setup, mix_request

from forgekit.testing.servers import free_port


def _descendants(root: int) -> list[int]:
    """Every live process below ``root`` (from /proc: no dependency)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _label(pid: int) -> str:
    """``pid:role`` (serve, worker, an API child process, ...) from the command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    words = [a.decode(errors="replace") for a in argv if a]
    role = next((w for w in words if w in ("serve", "worker")), None)
    if role is None and any("multiprocessing" in w for w in words):
        role = "api-child"
    if role is None:
        role = Path(words[0]).name if words else "?"
    return f"{pid}:{role}"


def _stack_rss() -> dict[str, float]:
    return {_label(p): r for p in _descendants(os.getpid()) if (r := _rss_mib(p)) is not None}


class Window:
    """Latencies and errors of one sampling window."""

    def __init__(self) -> None:
        self.lat: list[float] = []
        self.errors = 0


async def _users(base: str, users: int, seconds: float, accounts: list[dict[str, str]],
                 pid: str, think: tuple[float, float], windows: list[Window],
                 sample_s: float) -> None:  # fmt: skip
    import aiohttp

    names = [n for n, w in MIX for _ in range(w)]
    stop_at = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=users, limit_per_host=users)
    async with aiohttp.ClientSession(base, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as c:  # fmt: skip

        async def user(idx: int) -> None:
            await asyncio.sleep(min(10.0, seconds / 4) * idx / users)  # ramp-up
            h, rnd = accounts[idx % len(accounts)], random.Random(idx)
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                failed = False
                try:
                    failed = await mix_request(c, rnd.choice(names), h, pid, accounts[0]) >= 500
                except (TimeoutError, aiohttp.ClientError):
                    failed = True
                w = windows[-1]
                w.lat.append((time.perf_counter() - t0) * 1000)
                w.errors += failed
                await asyncio.sleep(rnd.uniform(*think))

        async def sampler() -> None:
            # Never sleep past the end: a stress step's window is longer than the step, and
            # sleeping it out kept each 20 s step running for 200 s with its users idle.
            while (left := stop_at - time.monotonic()) > 0:
                await asyncio.sleep(min(sample_s, left))
                if time.monotonic() < stop_at:
                    windows.append(Window())

        await asyncio.gather(sampler(), *(user(i) for i in range(users)))


def soak(base: str, args: argparse.Namespace, accounts: list[dict[str, str]], pid: str) -> dict:
    """Hold the mix for ``--minutes``; sample RSS and p95 per window."""
    windows = [Window()]
    samples: list[dict[str, float]] = []
    stop = time.monotonic() + args.minutes * 60

    async def run() -> None:
        async def rss() -> None:
            while time.monotonic() < stop:
                samples.append(_stack_rss())
                await asyncio.sleep(args.sample_s)

        await asyncio.gather(rss(), _users(base, args.users, args.minutes * 60, accounts, pid,
                                           (1.0, 3.0), windows, args.sample_s))  # fmt: skip

    asyncio.run(run())
    warm = samples[min(len(samples) - 1, max(1, len(samples) // 5))]  # after warm-up
    last = samples[-1]
    growth = {p: round(last[p] - warm[p], 1) for p in last if p in warm}
    full = [w for w in windows if len(w.lat) > 10]
    p95s = [round(percentiles(w.lat)[1], 1) for w in full]
    every = [x for w in full for x in w.lat]
    return {
        "users": args.users, "minutes": args.minutes, "requests": len(every),
        "errors": sum(w.errors for w in full), "p50_ms": round(percentiles(every)[0], 1),
        "p95_ms": round(percentiles(every)[1], 1), "p95_first_window_ms": p95s[0],
        "p95_last_window_ms": p95s[-1], "p95_windows_ms": p95s,
        "rss_warm_mib": {p: round(v, 1) for p, v in warm.items()},
        "rss_last_mib": {p: round(v, 1) for p, v in last.items()},
        "rss_growth_mib": growth,
        "rss_growth_bound_mib": args.rss_growth_mib, "p95_drift_bound": args.p95_drift,
        "rss_within_bound": all(g <= args.rss_growth_mib for g in growth.values()),
        "p95_stable": p95s[-1] <= max(50.0, p95s[0] * args.p95_drift),
    }


def stress(base: str, args: argparse.Namespace, accounts: list[dict[str, str]],
           pid: str) -> dict:  # fmt: skip
    """Step the users up until errors pass 1 % or p95 passes 1 s; report each step."""
    steps, knee = [], None
    for users in (int(u) for u in args.ramp.split(",")):
        windows = [Window()]
        asyncio.run(_users(base, users, args.step_s, accounts, pid, (0.1, 0.3), windows,
                           args.step_s * 10))  # fmt: skip
        lat = [x for w in windows for x in w.lat]
        errors = sum(w.errors for w in windows)
        p50, p95, _ = percentiles(lat)
        step = {"users": users, "requests": len(lat), "rps": round(len(lat) / args.step_s, 1),
                "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                "error_rate": round(errors / max(1, len(lat)), 4)}  # fmt: skip
        steps.append(step)
        print(json.dumps(step), flush=True)
        if step["error_rate"] > 0.01 or p95 > 1000:
            break
        knee = step
    return {"steps": steps, "knee": knee}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--sample-s", type=float, default=15.0)
    parser.add_argument("--rss-growth-mib", type=float, default=64.0)
    parser.add_argument("--p95-drift", type=float, default=2.0)
    parser.add_argument("--ramp", default="100,200,400,800,1600,3200")
    parser.add_argument("--step-s", type=float, default=20.0)
    parser.add_argument("--no-stress", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    unique = uuid.uuid4().hex[:8]
    with scratch_postgres("bench_soak") as db_url, ExitStack() as stack:
        env = bench_env(db_url, unique, FORGE_PASSWORD_HASH_TIME_COST="1",
                        FORGE_PASSWORD_HASH_MEMORY_KIB="1024", FORGE_PASSWORD_HASH_PARALLELISM="1",
                        PYFORGE_ANALYZE_CODE_RATE="1000000/minute",
                        PYFORGE_INPROCESS_WORKERS="false")  # fmt: skip
        base = stack.enter_context(pyforge_server(env, free_port(), workers=2))
        worker = subprocess.Popen(
            [sys.executable, "-m", "pyforge.cli", "worker", "--queues", "analysis"],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            accounts, pid = asyncio.run(_setup(base, 20))
            result: dict = {"soak": soak(base, args, accounts, pid)}
            print(json.dumps(result["soak"], indent=1), flush=True)
            if not args.no_stress:
                result["stress"] = stress(base, args, accounts, pid)
                print("knee:", json.dumps(result["stress"]["knee"]), flush=True)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
