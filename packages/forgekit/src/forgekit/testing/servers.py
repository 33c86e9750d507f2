"""Addresses of the real servers the test suite talks to, and a reachability check.

A backend test never skips because a server is missing: it fails, naming the server and how to
start it, so CI cannot pass without having exercised the real backend.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest


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
