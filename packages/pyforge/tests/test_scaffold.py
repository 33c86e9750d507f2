"""The kit's product scaffold: a throwaway product (``scaffold/throwaway.py``) runs ``migrate``,
``serve`` and ``worker`` on both backends, and runs next to PyForge on the same Redis and
RabbitMQ without either seeing the other's events or keys."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from forgekit.events.models import AuditLog
from forgekit.identity.testing import FAST_PASSWORD_HASHING
from forgekit.settings import Environment, ForgeSettings
from forgekit.testing.servers import RealServers, free_port

SCAFFOLD = Path(__file__).parent / "scaffold"
sys.path.insert(0, str(SCAFFOLD))
import throwaway  # noqa: E402

THROWAWAY = [sys.executable, "-m", "throwaway"]


def _env(data_dir: Path, port: int, real: RealServers | None, db_url: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FORGE_", "PYFORGE_", "THROWAWAY_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(SCAFFOLD), env.get("PYTHONPATH", "")]),
        THROWAWAY_HOST="127.0.0.1",
        THROWAWAY_PORT=str(port),
        THROWAWAY_DATA_DIR=str(data_dir),
        FORGE_LOG_JSON="false",
        FORGE_PASSWORD_HASH_TIME_COST=str(FAST_PASSWORD_HASHING["password_hash_time_cost"]),
        FORGE_PASSWORD_HASH_MEMORY_KIB=str(FAST_PASSWORD_HASHING["password_hash_memory_kib"]),
    )
    if real is not None and db_url is not None:
        env.update(
            FORGE_DATABASE_URL=db_url,
            FORGE_REDIS_URL=real.redis_url,
            FORGE_AMQP_URL=real.amqp_url,
            # The API only relays: the pong must come from the worker process.
            THROWAWAY_INPROCESS_WORKERS="false",
        )
    return env


def _wait(predicate, what: str, procs: list[subprocess.Popen[str]], timeout: float = 180) -> None:
    # Polls until the condition holds; a process that died ends the wait at once.
    deadline = time.monotonic() + timeout
    while not predicate():
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"{what}: {proc.args} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class _Lines:
    """Reads a process's stderr in a thread (a full pipe would stall the process)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self._lines.append(line)

    def text(self) -> str:
        return "".join(self._lines)

    def finish(self) -> str:
        self._thread.join(timeout=30)
        return self.text()


def _live(base: str) -> bool:
    try:
        return httpx.get(f"{base}/live", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def product_db(real_servers: RealServers | None) -> Iterator[str | None]:
    """An empty PostgreSQL database of the throwaway product's own (real backend only; the
    embedded one is the SQLite file in its data directory). ``migrate`` must build it."""
    if real_servers is None:
        yield None
        return
    from forgekit.testing.fixtures import _pg_exec, _pg_url

    name = f"forge_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(real_servers.postgres_admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(real_servers.postgres_admin_url, name)
    finally:
        asyncio.run(
            _pg_exec(real_servers.postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )


def test_throwaway_product_serves_works_and_migrates(
    tmp_path: Path, real_servers: RealServers | None, product_db: str | None
) -> None:
    port = free_port()
    env = _env(tmp_path / "data", port, real_servers, product_db)
    migrated = subprocess.run(
        [*THROWAWAY, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "database migrated" in migrated.stderr
    if real_servers is None:
        assert (tmp_path / "data" / "throwaway.db").exists()
    procs: list[subprocess.Popen[str]] = []
    logs: list[_Lines] = []
    try:
        for role in ("serve", "worker"):
            procs.append(
                subprocess.Popen(
                    [*THROWAWAY, role], env=env, cwd=tmp_path, text=True,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                )
            )  # fmt: skip
            logs.append(_Lines(procs[-1]))
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: _live(base), "the API", procs)
        creds = {"email": "t@example.com", "username": "tester", "password": "correct horse"}
        # Calls that must succeed get a busy machine's time (httpx's default is 5 s).
        with httpx.Client(base_url=base, timeout=60) as http:
            assert http.post("/auth/register", json=creds).status_code == 201
            token = http.post(
                "/auth/login", data={"username": "tester", "password": "correct horse"}
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            assert http.post("/api/v1/pings").status_code == 401
            ping = http.post("/api/v1/pings", headers=auth)
            assert ping.status_code == 202, ping.text
            url = f"/api/v1/pings/{ping.json()['ping_id']}"
            _wait(lambda: http.get(url, headers=auth).status_code == 200, "the pong", procs)
            problem = http.get(f"/api/v1/pings/{uuid.uuid4()}", headers=auth)
            assert problem.status_code == 404
            assert problem.json()["type"] == f"{base}/problems/not-found"
            assert problem.headers["content-type"].startswith("application/problem+json")
        # The worker's start-up is slower than the API's on a busy machine: stop it once it
        # consumes, not before.
        _wait(lambda: "consuming:" in logs[1].text(), "the worker to consume", procs)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        if real_servers is not None:
            asyncio.run(_teardown(env))
    worker_err = logs[1].finish()
    assert "consuming: audit, identity.mail, pings.pong" in worker_err
    # SIGTERM lets the worker finish its handlers and close its connections: a clean exit.
    assert procs[1].returncode == 0, worker_err
    assert "Traceback" not in worker_err


async def _teardown(env: dict[str, str]) -> None:
    settings = ForgeSettings(
        _env_file=None,
        app_name="throwaway",
        database_url=env["FORGE_DATABASE_URL"],
        redis_url=env["FORGE_REDIS_URL"],
        amqp_url=env["FORGE_AMQP_URL"],
    )
    runtime = throwaway.PRODUCT.build_runtime(settings, throwaway.Settings())
    try:
        await runtime.events.delete_topology()
        await runtime.cache.delete_prefix("")
    finally:
        await runtime.close()


@pytest.fixture
def second_database(backend: str, database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another freshly migrated database on the same server, for the second product."""
    if backend != "real":
        path = tmp_path / "second.db"
        shutil.copyfile(database_url.removeprefix("sqlite+aiosqlite:///"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    from forgekit.testing.fixtures import _pg_exec, _pg_url

    admin = RealServers.from_env().postgres_admin_url
    current = database_url.rsplit("/", 1)[-1]
    name = f"forge_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(admin, f'CREATE DATABASE "{name}" TEMPLATE "{current}"'))
    try:
        yield _pg_url(admin, name)
    finally:
        asyncio.run(_pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _kit(name: str, tmp: Path, db: str, real: RealServers | None) -> ForgeSettings:
    # No exchange, queue prefix or key prefix is set: each is derived from the product's name.
    servers = {"redis_url": real.redis_url, "amqp_url": real.amqp_url} if real else {}
    return ForgeSettings(
        _env_file=None, env=Environment.TEST, app_name=name, data_dir=tmp / name,
        database_url=db, log_json=False, outbox_poll_interval_s=0.05,
        **FAST_PASSWORD_HASHING, **servers,
    )  # fmt: skip


async def test_two_products_on_the_same_servers_do_not_see_each_other(
    tmp_path: Path, real_servers: RealServers | None, database_url: str, second_database: str
) -> None:
    from pyforge.product import PRODUCT as PYFORGE
    from pyforge.settings import PyForgeSettings

    unique = uuid.uuid4().hex[:6]
    pf_kit = _kit(f"pyforge{unique}", tmp_path, database_url, real_servers)
    tw_kit = _kit(f"throwaway{unique}", tmp_path, second_database, real_servers)
    pf_app = PYFORGE.create_app(pf_kit, PyForgeSettings(_env_file=None))
    tw_app = throwaway.PRODUCT.create_app(tw_kit, throwaway.Settings())
    pf, tw = pf_app.state.runtime, tw_app.state.runtime
    async with pf_app.router.lifespan_context(pf_app), tw_app.router.lifespan_context(tw_app):
        try:
            if real_servers is not None:
                assert pf.events.exchange_name == f"pyforge{unique}.events"
                assert tw.events.exchange_name == f"throwaway{unique}.events"
                assert pf.events.queue_name("audit") != tw.events.queue_name("audit")
            assert pf.cache.namespace != tw.cache.namespace
            # One event each; each product's audit consumer must record its own event only.
            await pf.events.emit("project.created", {"project_id": str(uuid.uuid4())})
            await tw.events.emit(throwaway.PING_SENT, throwaway.Ping(ping_id=uuid.uuid4()))
            await pf.events.drain(30)
            await tw.events.drain(30)
            await pf.cache.set("shared-name", "pyforge", ttl=60)
            await tw.cache.set("shared-name", "throwaway", ttl=60)
            assert await pf.cache.get("shared-name") == "pyforge"
            assert await tw.cache.get("shared-name") == "throwaway"
            for runtime, own in ((pf, "project.created"), (tw, "ping.sent")):
                async with runtime.db.session() as session:
                    seen = set((await session.scalars(select(AuditLog.event_type))).all())
                assert seen == {own}
        finally:
            for runtime in (pf, tw):
                await runtime.cache.delete_prefix("")
                await runtime.events.delete_topology()
