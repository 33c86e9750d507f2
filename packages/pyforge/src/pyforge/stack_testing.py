"""A PyForge stack of real processes (``serve`` and ``worker``) for end-to-end and fault tests.

It runs on the real PostgreSQL, Redis and RabbitMQ with a scratch database and unique
exchange, queue and key prefixes, all removed afterwards. Callers may route a backend through
a proxy (``FORGE_AMQP_URL`` in ``env``) to cut it, and kill or restart any process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from forgekit.settings import ForgeSettings
from forgekit.testing.fixtures import _pg_exec, _pg_url
from forgekit.testing.servers import free_port, require_real_servers


class Stack:
    """The running server, the current worker and how to start (or restart) them."""

    def __init__(self, env: dict[str, str], base: str, logs: Path) -> None:
        self.env, self.base, self.logs = env, base, logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.worker: subprocess.Popen[bytes] | None = None
        self.server: subprocess.Popen[bytes] | None = None

    def spawn(self, *args: str, log: str, **env: str) -> subprocess.Popen[bytes]:
        """Start ``pyforge ARGS`` with the stack's environment (plus ``env``)."""
        out = (self.logs / log).open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "pyforge.cli", *args],  # noqa: S603
                                env={**self.env, **env}, stdout=out, stderr=out)  # fmt: skip
        self.procs.append(proc)
        return proc

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        """Start an analysis worker."""
        self.worker = self.spawn("worker", "--queues", "analysis", log="worker.log", **env)
        return self.worker

    def start_server(self) -> subprocess.Popen[bytes]:
        """Start ``pyforge serve`` and wait until ``/live`` answers."""
        self.server = server = self.spawn("serve", log="server.log")
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.base}/live", timeout=1).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise AssertionError((self.logs / "server.log").read_text()[-3000:])
            if time.monotonic() > deadline:
                raise AssertionError("server did not start")
            time.sleep(0.2)

    def stop_all(self) -> None:
        """Terminate every process (kill what does not stop in 20 s)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def forge_settings(self) -> ForgeSettings:
        """Kit settings of the stack (for a runtime the test opens beside it)."""
        e = self.env
        return ForgeSettings(_env_file=None, database_url=e["FORGE_DATABASE_URL"],
                             amqp_url=e["FORGE_AMQP_URL"], redis_url=e["FORGE_REDIS_URL"],
                             events_exchange=e["FORGE_EVENTS_EXCHANGE"],
                             events_queue_prefix=e["FORGE_EVENTS_QUEUE_PREFIX"],
                             redis_prefix=e["FORGE_REDIS_PREFIX"],
                             storage_url=str(Path(e["PYFORGE_DATA_DIR"]) / "objects"))  # fmt: skip


def stack_env(tmp: Path, dbname: str, unique: str, port: int) -> dict[str, str]:
    """The environment of every process of one stack."""
    servers = require_real_servers()
    return {
        **os.environ,
        "FORGE_DATABASE_URL": _pg_url(servers.postgres_admin_url, dbname),
        "FORGE_REDIS_URL": servers.redis_url,
        "FORGE_AMQP_URL": servers.amqp_url,
        "FORGE_REDIS_PREFIX": f"e2e:{unique}:",
        "FORGE_EVENTS_EXCHANGE": f"e2e.{unique}.events",
        "FORGE_EVENTS_QUEUE_PREFIX": f"e2e.{unique}",
        "FORGE_PASSWORD_HASH_TIME_COST": "1",
        "FORGE_PASSWORD_HASH_MEMORY_KIB": "1024",
        "FORGE_PASSWORD_HASH_PARALLELISM": "1",
        "FORGE_CONSUMER_RETRY_BASE_S": "0.2",
        "FORGE_LOG_LEVEL": "INFO",
        "PYFORGE_INPROCESS_WORKERS": "false",
        "PYFORGE_DATA_DIR": str(tmp / "data"),
        "PYFORGE_HOST": "127.0.0.1",
        "PYFORGE_PORT": str(port),
        "PYFORGE_ANALYSIS_PROGRESS_INTERVAL_S": "0.2",
    }


@contextmanager
def running_stack(tmp: Path, *, worker: bool = True, **env: str) -> Iterator[Stack]:
    """Migrate a scratch database, start the server (and a worker); remove it all after."""
    admin = require_real_servers().postgres_admin_url
    unique = uuid.uuid4().hex[:10]
    dbname = f"pyforge_e2e_{unique}"
    asyncio.run(_pg_exec(admin, f'CREATE DATABASE "{dbname}"'))
    port = free_port()
    full_env = {**stack_env(tmp, dbname, unique, port), **env}
    subprocess.run([sys.executable, "-m", "pyforge.cli", "migrate"], env=full_env,
                   check=True, capture_output=True)  # fmt: skip
    st = Stack(full_env, f"http://127.0.0.1:{port}", tmp)
    try:
        st.start_server()
        if worker:
            st.start_worker()
        yield st
    finally:
        st.stop_all()
        settings = st.forge_settings().model_copy(
            update={"amqp_url": require_real_servers().amqp_url}
        )
        asyncio.run(_teardown(settings))
        asyncio.run(_pg_exec(admin, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


async def _teardown(settings: ForgeSettings) -> None:
    from pyforge.product import PRODUCT
    from pyforge.settings import PyForgeSettings

    runtime = PRODUCT.build_runtime(settings, PyForgeSettings(_env_file=None))
    try:
        await runtime.events.delete_topology()
        await runtime.cache.delete_prefix("")
    finally:
        await runtime.close()
