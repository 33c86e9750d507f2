"""The analysis service under the seed's load mix, and analysis throughput per worker count.

Phase 1 (seed 000, "Benchmark Tests"): up to ``--users`` (1,000) virtual users with 1-3 s think
time against `pyforge serve` (2 API processes) on PostgreSQL + Redis + RabbitMQ, doing the seed's
weighted mix: list projects x3, analyze code x2 (the seed's ML call is replaced by the third
task we own, project metrics) x1. Users ramp up over the first 10 s; the phase lasts
``--duration`` seconds. Prints p50/p95/p99, errors and requests/s per task and overall.

Phase 2: analyses per minute of a generated 200-file project with 1 and then 2
`pyforge worker --queues analysis` processes (engine result cache off, so every run is cold),
each measured for at most ``--duration`` seconds. Nothing is asserted.

    .venv/bin/python bench/service.py [--users 1000 | --users 100,300,1000] [--duration 60]
                                      [--no-throughput]

The virtual users run on aiohttp in a child process pinned to the last core (httpx cost about
1 ms of client CPU per request, enough to make the generator the bottleneck on 2 cores); the
table ends with the generator's own CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import random
import subprocess
import sys
import time
import uuid
import zipfile
from collections import defaultdict
from contextlib import ExitStack
from typing import Any

import httpx
from _servers import bench_env, latency_table, pyforge_server, scratch_postgres

from forgekit.testing.servers import free_port

PASSWORD = "bench-password-123"
SNIPPET = "def test(): pass\n"
MIX = [("list_projects", 3), ("analyze_code", 2), ("metrics", 1)]


def project_tree(n_files: int = 200) -> bytes:
    """A zip of ``n_files`` plausible modules (about 40 lines each)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(n_files):
            body = [f'"""Module {i}."""', "import os", ""]
            for j in range(6):
                body += [
                    f"def func_{j}(value, items=[]):",
                    "    total = 0",
                    "    for item in items:",
                    "        if item > value:",
                    "            total += item",
                    "    return total",
                    "",
                ]
            zf.writestr(f"pkg{i % 10}/mod_{i}.py", "\n".join(body) + "\n")
    return buf.getvalue()


async def _login(c: httpx.AsyncClient, i: int) -> dict[str, str]:
    name = f"b{i}_{uuid.uuid4().hex[:6]}"
    r = await c.post("/auth/register", json={"email": f"{name}@bench.example", "username": name,
                                             "password": PASSWORD})  # fmt: skip
    r.raise_for_status()
    tok = await c.post("/auth/login", data={"username": name, "password": PASSWORD})
    tok.raise_for_status()
    return {"Authorization": f"Bearer {tok.json()['access_token']}"}


async def _wait(c: httpx.AsyncClient, h: dict[str, str], ids: list[str], until: float) -> int:
    done: set[str] = set()
    while time.monotonic() < until and len(done) < len(ids):
        for aid in ids:
            if aid in done:
                continue
            r = await c.get(f"/api/v1/analyses/{aid}", headers=h)
            if r.json()["status"] in ("succeeded", "failed"):
                done.add(aid)
        await asyncio.sleep(0.5)
    return len(done)


async def _setup(base: str, n_accounts: int) -> tuple[list[dict[str, str]], str]:
    """Accounts (shared by the virtual users), and one analysed project for metrics."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        accounts = [await _login(c, i) for i in range(n_accounts)]
        h = accounts[0]
        r = await c.post("/api/v1/projects", json={"name": "bench", "is_public": True}, headers=h)
        r.raise_for_status()
        pid: str = r.json()["id"]
        for acc in accounts[1:]:  # every account gets a few projects to list
            await c.post("/api/v1/projects", json={"name": "p"}, headers=acc)
        files = {"file": ("t.zip", project_tree(20))}
        (await c.post(f"/api/v1/projects/{pid}/files", files=files, headers=h)).raise_for_status()
        aid = (await c.post(f"/api/v1/projects/{pid}/analyses", headers=h)).json()["id"]
        await _wait(c, h, [aid], time.monotonic() + 120)
    return accounts, pid


async def mix_request(c: Any, kind: str, h: dict[str, str], pid: str,
                      owner: dict[str, str]) -> int:  # fmt: skip
    """One request of the seed mix on an aiohttp session; returns the status."""
    if kind == "list_projects":
        cm = c.get("/api/v1/projects", headers=h)
    elif kind == "analyze_code":
        cm = c.post("/api/v1/analyze/code", json={"code": SNIPPET}, headers=h)
    else:
        cm = c.get(f"/api/v1/projects/{pid}/metrics", headers=owner)
    async with cm as r:
        await r.read()
        return int(r.status)


def _pin_to_last_core() -> str:
    """Pin this process to the last core (the API processes keep the scheduler's choice)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return "unpinned"
    os.sched_setaffinity(0, {cores[-1]})
    return f"pinned to core {cores[-1]}"


async def _drive_users(base: str, users: int, duration: float, accounts: list[dict[str, str]],
                       pid: str) -> None:  # fmt: skip
    """The virtual users on aiohttp: a fraction of httpx's client-side CPU per request."""
    import aiohttp

    lat: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names = [n for n, w in MIX for _ in range(w)]
    started = time.monotonic()
    stop_at = started + duration
    cpu0 = time.process_time()
    connector = aiohttp.TCPConnector(limit=users, limit_per_host=users)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as c:

        async def request(kind: str, h: dict[str, str]) -> int:
            return await mix_request(c, kind, h, pid, accounts[0])

        async def user(idx: int) -> None:
            await asyncio.sleep(10.0 * idx / users)  # ramp-up
            h = accounts[idx % len(accounts)]
            rnd = random.Random(idx)
            while time.monotonic() < stop_at:
                kind = rnd.choice(names)
                t0 = time.perf_counter()
                try:
                    status = await request(kind, h)
                    if status >= 400:
                        errors[kind][str(status)] += 1
                except (TimeoutError, aiohttp.ClientError) as exc:
                    errors[kind][type(exc).__name__] += 1
                lat[kind].append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(rnd.uniform(1.0, 3.0))

        await asyncio.gather(*(user(i) for i in range(users)))
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu0
    print(f"\nphase 1: {users} users, think 1-3 s, {elapsed:.0f} s, 2 API processes")
    every = latency_table([kind for kind, _ in MIX], lat, errors, elapsed, "task", 16)
    per_req = 1000 * cpu / max(1, len(every))
    print(f"  load generator: {cpu:.1f} s CPU = {100 * cpu / elapsed:.0f}% of one core,"
          f" {per_req:.2f} ms per request")  # fmt: skip


def _user_process(base: str, users: int, duration: float, accounts: list[dict[str, str]],
                  pid: str) -> None:  # fmt: skip
    print(f"  load generator: separate process, {_pin_to_last_core()}", flush=True)
    asyncio.run(_drive_users(base, users, duration, accounts, pid))
    sys.stdout.flush()


def load_phase(base: str, user_counts: list[int], duration: float, n_accounts: int) -> None:
    """Phase 1: the weighted mix with think time, once per user count; prints the tables.

    The users run in a child process pinned to one core, so the generator's own CPU shows as
    its own line rather than as server latency.
    """
    accounts, pid = asyncio.run(_setup(base, n_accounts))
    ctx = multiprocessing.get_context("fork")
    for users in user_counts:
        proc = ctx.Process(target=_user_process, args=(base, users, duration, accounts, pid))
        proc.start()
        proc.join()


async def throughput(base: str, workers: int, duration: float, env: dict[str, str]) -> float:
    """Phase 2 for one worker count: analyses finished per minute."""
    procs = [
        subprocess.Popen([sys.executable, "-m", "pyforge.cli", "worker", "--queues", "analysis"],
                         env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        await asyncio.sleep(3)  # consumers connect
        async with httpx.AsyncClient(base_url=base, timeout=120) as c:
            h = await _login(c, 10_000 + workers)
            r = await c.post("/api/v1/projects", json={"name": "big"}, headers=h)
            pid = r.json()["id"]
            files = {"file": ("t.zip", project_tree(200))}
            r = await c.post(f"/api/v1/projects/{pid}/files", files=files, headers=h)
            r.raise_for_status()
            queued = 4 * workers + 2  # keeps every worker busy for the whole window
            t0 = time.monotonic()
            ids = [(await c.post(f"/api/v1/projects/{pid}/analyses", headers=h)).json()["id"]
                   for _ in range(queued)]  # fmt: skip
            done = await _wait(c, h, ids, t0 + duration)
            elapsed = time.monotonic() - t0
        rate = 60.0 * done / elapsed
        print(f"  {workers} worker(s): {done}/{queued} analyses of 200 files in {elapsed:.1f} s"
              f" = {rate:.1f} analyses/min")  # fmt: skip
        return rate
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", default="1000",
                        help="virtual users; a comma-separated list runs phase 1 once for each")
    parser.add_argument("--no-throughput", action="store_true", help="skip phase 2")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--accounts", type=int, default=20)
    args = parser.parse_args()
    unique = uuid.uuid4().hex[:8]
    with scratch_postgres("bench_svc") as db_url, ExitStack() as stack:
        env = bench_env(
            db_url,
            unique,
            FORGE_PASSWORD_HASH_TIME_COST="1",
            FORGE_PASSWORD_HASH_MEMORY_KIB="1024",
            FORGE_PASSWORD_HASH_PARALLELISM="1",
            PYFORGE_ANALYZE_CODE_RATE="1000000/minute",
            PYFORGE_INPROCESS_WORKERS="false",
            PYFORGE_ANALYSIS_CACHE="false",
        )
        base = stack.enter_context(pyforge_server(env, free_port(), workers=2))
        print(f"PyForge analysis service on PostgreSQL + Redis + RabbitMQ ({os.cpu_count()} cores;"
              " a shared, busy machine: figures are indicative)")  # fmt: skip
        # One worker serves phase 1's single setup analysis.
        worker = subprocess.Popen(
            [sys.executable, "-m", "pyforge.cli", "worker", "--queues", "analysis"],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            counts = [int(u) for u in args.users.split(",") if u.strip()]
            load_phase(base, counts, args.duration, args.accounts)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        if args.no_throughput:
            return
        print("\nphase 2: analyses per minute, 200-file project, engine cache off")
        one = asyncio.run(throughput(base, 1, args.duration, env))
        two = asyncio.run(throughput(base, 2, args.duration, env))
        print(f"  scaling 2 workers : 1 worker = {two / one:.2f}" if one else "")



if __name__ == "__main__":
    main()
