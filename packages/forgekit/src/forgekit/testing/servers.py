"""Addresses of the real servers the test suite talks to, and a reachability check.

A backend test never skips because a server is missing: it fails, naming the server and how to
start it, so CI cannot pass without having exercised the real backend.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from forgekit.settings import ForgeSettings


@dataclass(frozen=True)
class RealServers:
    """URLs of PostgreSQL (an admin database), Redis and RabbitMQ for tests."""

    postgres_admin_url: str
    redis_url: str
    amqp_url: str

    @classmethod
    def from_env(cls) -> RealServers:
        """Defaults are the machine's standard loopback ports; env vars override."""
        return cls(
            postgres_admin_url=os.environ.get(
                "FORGE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
            ),
            redis_url=os.environ.get("FORGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            amqp_url=os.environ.get("FORGE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for servers a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+asyncpg", ""))
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_real_servers() -> RealServers:
    """Return the servers, or fail the test (never skip) when one is unreachable."""
    servers = RealServers.from_env()
    missing = [
        name
        for name, url, port in (
            ("PostgreSQL", servers.postgres_admin_url, 5432),
            ("Redis", servers.redis_url, 6379),
            ("RabbitMQ", servers.amqp_url, 5672),
        )
        if not _reachable(url, port)
    ]
    if missing:
        pytest.fail(
            f"real backend test needs {', '.join(missing)} on loopback; start it (see .ci/run) "
            "or run with FORGE_TEST_BACKENDS=embedded",
            pytrace=False,
        )
    return servers


@dataclass
class ServedProduct:
    """A product's ``serve`` running as its own process on the embedded defaults."""

    base: str
    workdir: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]


def same_backends_env(
    settings: ForgeSettings, env_prefix: str, data: Path, port: int, **extra: str
) -> dict[str, str]:
    """The environment of a product process (API or worker, ``env_prefix`` its settings
    prefix) on the same backends as ``settings``: a test's database, Redis prefix, exchange,
    queues, storage and secret, with quick outbox polling and consumer retries; ``extra``
    (the product's own variables) last."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", f"{env_prefix}_"))}
    env.update(
        FORGE_ENV="test", FORGE_DATABASE_URL=settings.database_url,
        FORGE_REDIS_URL=settings.redis_url, FORGE_AMQP_URL=settings.amqp_url,
        FORGE_REDIS_PREFIX=settings.redis_prefix, FORGE_EVENTS_EXCHANGE=settings.events_exchange,
        FORGE_EVENTS_QUEUE_PREFIX=settings.events_queue_prefix,
        FORGE_SECRET_KEY=settings.secret_key.get_secret_value(),
        FORGE_STORAGE_URL=settings.effective_storage_url, FORGE_LOG_JSON="false",
        FORGE_LOG_LEVEL="WARNING", FORGE_OUTBOX_POLL_INTERVAL_S="0.05",
        FORGE_CONSUMER_RETRY_BASE_S="0.05", **{f"{env_prefix}_HOST": "127.0.0.1",
        f"{env_prefix}_PORT": str(port), f"{env_prefix}_DATA_DIR": str(data)},
    )  # fmt: skip
    env.update(extra)
    return env


def product_env(env_prefix: str, workdir: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a product process on scratch embedded backends in ``workdir``
    (cheap password hashing, rate limits off: tests drive it hard)."""
    return {**os.environ, f"{env_prefix}_DATA_DIR": str(workdir / "data"),
            f"{env_prefix}_HOST": "127.0.0.1", f"{env_prefix}_PORT": str(port),
            "FORGE_PASSWORD_HASH_TIME_COST": "1", "FORGE_PASSWORD_HASH_MEMORY_KIB": "1024",
            "FORGE_PASSWORD_HASH_PARALLELISM": "1", "FORGE_RATE_LIMIT_ENABLED": "false",
            **extra}  # fmt: skip


def _wait_live(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@contextmanager
def serve_product(
    cli_module: str, env_prefix: str, workdir: Path, **extra_env: str
) -> Iterator[ServedProduct]:
    """Migrate and run ``python -m <cli_module> serve`` (the real uvicorn process, as deployed)
    on a free port; wait until ``/live`` answers; terminate it on exit."""
    port = free_port()
    env = product_env(env_prefix, workdir, port, **extra_env)
    python = sys.executable
    subprocess.run([python, "-m", cli_module, "migrate"], env=env, check=True,  # noqa: S603
                   capture_output=True)  # fmt: skip
    log = workdir / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([python, "-m", cli_module, "serve"], env=env,  # noqa: S603
                                stdout=out, stderr=out)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_live(base, proc, log)
        yield ServedProduct(base, workdir, env, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
