"""PyForge's runtime: the kit's backends plus PyForge's event consumers, for every role."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from pyforge.settings import PyForgeSettings, get_settings

log = logging.getLogger("pyforge.runtime")


class BackgroundService(Protocol):
    """A long-running task owned by the runtime (a delivery loop, a pub/sub listener)."""

    #: Started only when this process consumes events of this consumer group (e.g. "notify"),
    #: so ``pyforge worker --queues analysis`` does not also deliver webhooks. None: always.
    consumer_group: str | None

    async def start(self) -> None:
        """Start the service's tasks (must return promptly)."""

    async def stop(self) -> None:
        """Stop the tasks and release connections."""


@dataclass
class PyForgeRuntime(Runtime):
    """The kit's runtime plus PyForge's settings and background services."""

    app_settings: PyForgeSettings = field(default_factory=PyForgeSettings)
    services: list[BackgroundService] = field(default_factory=list)
    _started_services: list[BackgroundService] = field(default_factory=list)

    async def start(self, *, consume: bool = True) -> None:
        """Start the bus, then the services whose consumer group this process runs."""
        await super().start(consume=consume)
        groups = {name.split(".", 1)[0] for name in self.events.subscriptions}
        for service in self.services:
            if service.consumer_group is not None and (
                not consume or service.consumer_group not in groups
            ):
                continue
            await service.start()
            self._started_services.append(service)

    async def close(self) -> None:
        """Stop the services (newest first), then the kit's backends."""
        while self._started_services:
            service = self._started_services.pop()
            try:
                await service.stop()
            except Exception:
                # Closing must go on: the database and bus still need to be released.
                log.exception("stopping %s failed", type(service).__name__)
        await super().close()


def build_runtime(
    settings: ForgeSettings, app_settings: PyForgeSettings | None = None
) -> PyForgeRuntime:
    """Backends and consumers shared by ``pyforge serve`` and ``pyforge worker``."""
    runtime = PyForgeRuntime.from_settings(settings)
    assert isinstance(runtime, PyForgeRuntime)
    runtime.app_settings = app_settings or get_settings()
    from pyforge.analyses import tasks as analyses_tasks
    from pyforge.notify import tasks as notify_tasks

    analyses_tasks.register(runtime)
    notify_tasks.register(runtime)
    return runtime
