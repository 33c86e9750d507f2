"""The kit's per-request cost on Modelhub's infer call, in-process: audit everything (the
kit's old default) against the product's audit exclusions (``usage.recorded`` left out), in
the same run, rounds interleaved.

    .venv/bin/python bench/hotpath.py [--calls 60] [--rounds 4] [--postgres] [--profile]

Each variant is a ``modelhub`` app on its own freshly migrated database (SQLite file, or a
scratch PostgreSQL database with ``--postgres``), called through ``httpx.ASGITransport``
(no network) by one client with a session token. A round is ``--calls`` infer calls then a
drain of the event bus, so the consumers' work (audit rows, metering) is in the figures:
printed are the wall median per call and the process CPU per call (the machine is shared:
CPU time moves much less with the neighbours than wall time), per variant, and their ratios.
``--profile`` prints cProfile's top functions for one round of the excluded variant.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, ClassVar

import httpx
from modelhub.app import create_app
from modelhub.db import MIGRATION_DIRS
from modelhub.settings import ModelhubSettings
from modelhub.testing import affine_onnx, host_model

from forgekit.db import migrate
from forgekit.identity.testing import FAST_PASSWORD_HASHING, TestUser, register_and_login
from forgekit.settings import Environment, ForgeSettings

BODY = {"inputs": {"x": [[0.1, 0.2, 0.3, 0.4]]}}
PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


class AuditAll(ModelhubSettings):
    """Modelhub as it was: no audit exclusions, every ``usage.recorded`` audited."""

    audit_exclude: ClassVar[tuple[str, ...]] = ()


class Variant:
    """One app, its client, its consumer and its per-round figures."""

    def __init__(self, name: str, product: type[ModelhubSettings]) -> None:
        self.name, self.product = name, product
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.client: httpx.AsyncClient
        self.user: TestUser
        self.url = ""
        self.app: Any = None

    async def start(self, stack: AsyncExitStack, db_url: str, data: Path) -> None:
        settings = ForgeSettings(
            _env_file=None, env=Environment.TEST, app_name=f"hp{uuid.uuid4().hex[:6]}",
            data_dir=data, database_url=db_url, log_json=False, log_level="WARNING",
            rate_limit_default="1000000/minute", outbox_poll_interval_s=0.05,
            **FAST_PASSWORD_HASHING,
        )  # fmt: skip
        app = create_app(settings, self.product(_env_file=None, infer_rate="1000000/minute"))
        await stack.enter_async_context(app.router.lifespan_context(app))
        self.app = app
        transport = httpx.ASGITransport(app=app)
        self.client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )
        hosted = await host_model(self.client, app.state.runtime, affine_onnx())
        self.user = await register_and_login(self.client)
        self.url = hosted.infer_url()
        await self.round(5)  # warm: model loaded, caches filled

    async def round(self, calls: int) -> None:
        bus = self.app.state.runtime.events
        await bus.drain(30)
        cpu0 = time.process_time()
        for _ in range(calls):
            t0 = time.perf_counter()
            resp = await self.client.post(self.url, json=BODY, headers=self.user.headers)
            self.wall.append(time.perf_counter() - t0)
            if resp.status_code != 200:
                raise SystemExit(f"{self.name}: {resp.status_code} {resp.text}")
        await bus.drain(30)
        self.cpu.append((time.process_time() - cpu0) / calls)


async def _db_url(stack: AsyncExitStack, tmp: Path, name: str, postgres: bool) -> str:
    if not postgres:
        url = f"sqlite+aiosqlite:///{tmp / name}.db"
    else:
        from forgekit.testing.fixtures import _pg_exec, _pg_url

        dbname = f"bench_hp_{uuid.uuid4().hex[:10]}"
        await _pg_exec(PG_ADMIN, f'CREATE DATABASE "{dbname}"')
        stack.push_async_callback(
            _pg_exec, PG_ADMIN, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'
        )
        url = _pg_url(PG_ADMIN, dbname)
    await asyncio.to_thread(migrate.upgrade, url, list(MIGRATION_DIRS))
    return url


async def run(args: argparse.Namespace) -> None:
    variants = [Variant("audit all", AuditAll), Variant("audit excl.", ModelhubSettings)]
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            for v in variants:
                url = await _db_url(stack, Path(tmp), v.name.replace(" ", "_"), args.postgres)
                await v.start(stack, url, Path(tmp) / v.name.replace(" ", "_"))
            for _ in range(args.rounds):
                for v in variants:
                    await v.round(args.calls)
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                await variants[1].round(args.calls)
                prof.disable()
                pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\nModelhub infer, in-process ASGI, {backend}, {args.rounds}x{args.calls} calls")
    print(f"{'variant':<14}{'wall p50 ms':>12}{'CPU ms/call':>13}")
    for v in variants:
        print(f"{v.name:<14}{statistics.median(v.wall) * 1000:>12.2f}"
              f"{statistics.median(v.cpu) * 1000:>13.2f}")  # fmt: skip
    base, new = variants
    print(f"ratio excl./all: wall {statistics.median(new.wall) / statistics.median(base.wall):.2f}"
          f", CPU {statistics.median(new.cpu) / statistics.median(base.cpu):.2f}")  # fmt: skip


def main() -> None:
    """Parse the arguments and run the interleaved measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
