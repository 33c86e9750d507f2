"""Pytest fixtures: every backend test runs on the embedded defaults and on the real servers.

Import them into a package's ``conftest.py`` with ``from forgekit.testing.fixtures import *``.
Select backends with ``FORGE_TEST_BACKENDS=embedded,real`` (both by default).

Databases are migrated once per session into a template (a SQLite file, a PostgreSQL template
database); each test gets a copy, so every test starts from a freshly migrated schema cheaply.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from forgekit.db import migrate
from forgekit.identity.testing import FAST_PASSWORD_HASHING
from forgekit.settings import Environment, ForgeSettings
from forgekit.testing.servers import RealServers, require_real_servers

if TYPE_CHECKING:
    from forgekit.runtime import Runtime

BACKENDS = [b.strip() for b in os.environ.get("FORGE_TEST_BACKENDS", "embedded,real").split(",")]

__all__ = [
    "BACKENDS",
    "app",
    "app_factory",
    "backend",
    "client",
    "database_url",
    "forge_settings",
    "migration_dirs",
    "real_servers",
    "run_id",
    "runtime",
    "template_databases",
]


@pytest.fixture(scope="session")
def run_id() -> str:
    """A short id unique to this test session (names of databases, queues, key prefixes)."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def migration_dirs() -> list[Path]:
    """Product migration directories to apply after the kit's; products override this."""
    return []


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``embedded`` (SQLite, in-process) or ``real`` (PostgreSQL, Redis, RabbitMQ)."""
    return str(request.param)


@pytest.fixture
def real_servers(backend: str) -> RealServers | None:
    """The real servers for the ``real`` backend (fails when one is down), else None."""
    return require_real_servers() if backend == "real" else None


async def _pg_exec(admin_url: str, *statements: str) -> None:
    import asyncpg

    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        for stmt in statements:
            await conn.execute(stmt)
    finally:
        await conn.close()


def _pg_url(admin_url: str, dbname: str) -> str:
    return make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)


class TemplateDatabases:
    """Lazily migrated template databases, one per backend, for this test session."""

    def __init__(self, root: Path, run: str, dirs: list[Path]) -> None:
        self.root, self.run, self.dirs = root, run, dirs
        self._sqlite: Path | None = None
        self._pg: str | None = None
        self._pg_admin: str | None = None

    def sqlite_template(self) -> Path:
        if self._sqlite is None:
            path = self.root / "template.db"
            migrate.upgrade(f"sqlite+aiosqlite:///{path}", self.dirs)
            self._sqlite = path
        return self._sqlite

    def pg_template(self, admin_url: str) -> str:
        if self._pg is None:
            # One template per set of migration directories (kit-only and product suites
            # may run in the same session).
            tag = hashlib.sha256("|".join(map(str, self.dirs)).encode()).hexdigest()[:6]
            name = f"forge_tpl_{self.run}_{tag}"
            asyncio.run(_pg_exec(admin_url, f'CREATE DATABASE "{name}"'))
            migrate.upgrade(_pg_url(admin_url, name), self.dirs)
            self._pg, self._pg_admin = name, admin_url
        return self._pg

    def drop(self) -> None:
        if self._pg and self._pg_admin:
            asyncio.run(
                _pg_exec(self._pg_admin, f'DROP DATABASE IF EXISTS "{self._pg}" WITH (FORCE)')
            )


@pytest.fixture(scope="session")
def template_databases(
    tmp_path_factory: pytest.TempPathFactory, run_id: str, migration_dirs: list[Path]
) -> Iterator[TemplateDatabases]:
    """The session's template databases (dropped at the end)."""
    templates = TemplateDatabases(tmp_path_factory.mktemp("templates"), run_id, migration_dirs)
    yield templates
    templates.drop()


@pytest.fixture
async def database_url(
    backend: str,
    real_servers: RealServers | None,
    template_databases: TemplateDatabases,
    tmp_path: Path,
) -> AsyncIterator[str]:
    """A freshly migrated database for one test: a SQLite file or a PostgreSQL database."""
    if real_servers is None:
        template = await asyncio.to_thread(template_databases.sqlite_template)
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin = real_servers.postgres_admin_url
    template_name = await asyncio.to_thread(template_databases.pg_template, admin)
    name = f"forge_t_{uuid.uuid4().hex[:12]}"
    await _pg_exec(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _pg_url(admin, name)
    finally:
        await _pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def forge_settings(
    backend: str,
    real_servers: RealServers | None,
    database_url: str,
    tmp_path: Path,
) -> ForgeSettings:
    """Kit settings for one test on the chosen backend, isolated by unique names."""
    unique = uuid.uuid4().hex[:10]
    overrides: dict[str, Any] = {
        "env": Environment.TEST,
        "app_name": "forgetest",
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "log_json": False,
        "outbox_poll_interval_s": 0.05,
        "consumer_retry_base_s": 0.05,
        # argon2id stays; only its cost is lowered so hundreds of logins run in seconds.
        **FAST_PASSWORD_HASHING,
    }
    if real_servers is not None:
        overrides.update(
            redis_url=real_servers.redis_url,
            amqp_url=real_servers.amqp_url,
            redis_prefix=f"test:{unique}:",
            events_exchange=f"test.{unique}.events",
            events_queue_prefix=f"test.{unique}",
        )
    return ForgeSettings(_env_file=None, **overrides)


AppFactory = Callable[[ForgeSettings], FastAPI]


@pytest.fixture
def app_factory() -> AppFactory:
    """Builds the app under test from settings; products override this fixture."""
    from forgekit.app import create_app

    return lambda settings: create_app(settings, title="forge-test")


@pytest.fixture
async def app(app_factory: AppFactory, forge_settings: ForgeSettings) -> AsyncIterator[FastAPI]:
    """The running app (lifespan entered: backends connected, consumers started)."""
    application = app_factory(forge_settings)
    async with application.router.lifespan_context(application):
        yield application
        events = application.state.runtime.events
        if hasattr(events, "delete_topology"):
            await events.delete_topology()


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    """The running app's backends."""
    rt: Runtime = app.state.runtime
    return rt


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process (no network)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
