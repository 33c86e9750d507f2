"""The product scaffold: a product declares itself once; the kit builds its runtime and app.

A product is declarations plus its domains::

    PRODUCT = Product(
        name="modelhub",
        title="Modelhub",
        version=__version__,
        settings=get_settings,                    # a ProductSettings subclass, prefix MODELHUB_
        app_factory="modelhub.app:create_app",    # for uvicorn's workers and reload
        runtime_class=ModelhubRuntime,            # a Runtime subclass with typed fields
        routers=routers,                          # () -> the product's APIRouters
        consumers=consumers,                      # () -> callables subscribing on a runtime
        models="modelhub.models",                 # imports every table
        migration_dirs=(MIGRATIONS,),             # the product's Alembic branch
    )

and gets ``serve | worker [--queues] | migrate`` from :mod:`forgekit.cli`, the app from
:func:`create_product_app` and the test fixtures from :mod:`forgekit.testing.fixtures`. The
product's name names everything it owns on shared servers (exchange ``{name}.events``, queues
``{name}.*``, Redis keys ``{name}:*``), so products share PostgreSQL, Redis and RabbitMQ safely.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic_settings import BaseSettings, SettingsConfigDict

from forgekit.settings import ForgeSettings

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from forgekit.runtime import ProductRuntime, Runtime


class ProductSettings(BaseSettings):
    """What every product has; a product subclasses it with its own ``env_prefix``.

    ``host``, ``port`` and ``data_dir`` let two products (or two instances) run side by side.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    #: The product's name (``app_name`` of its kit settings); set by the subclass.
    product_name: ClassVar[str] = "forge"
    #: Marker of the product's API keys (``pfk_`` for PyForge).
    api_key_prefix: ClassVar[str] = "fgk_"
    #: Global role of a self-registered account (registered by the product's permissions).
    default_user_role: ClassVar[str] = "owner"
    #: Holders of these global roles, or of any of these permissions, must use MFA: until
    #: they enrol, their sessions reach only the enrolment endpoints (the shop's staff).
    mfa_required_roles: ClassVar[tuple[str, ...]] = ()
    mfa_required_permissions: ClassVar[tuple[str, ...]] = ()
    #: Event types (topic patterns) not written to the audit log: per-call metering events,
    #: say, that would otherwise cost an audit row on every request.
    audit_exclude: ClassVar[tuple[str, ...]] = ()

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".forge-data")
    api_workers: int = 1
    #: Run event consumers inside the API process. True by default so one command gives a
    #: working platform; production runs ``<product> worker`` instead.
    inprocess_workers: bool = True

    def kit(self) -> ForgeSettings:
        """The kit's settings for this deployment (data in ``data_dir``)."""
        return ForgeSettings.for_product(
            self.product_name,
            self.data_dir,
            public_url=f"http://{self.host}:{self.port}",
            **self.identity(),
        )

    def identity(self) -> dict[str, Any]:
        """The kit settings that are the product's identity, whatever the deployment."""
        identity: dict[str, Any] = {
            "api_key_prefix": self.api_key_prefix,
            "default_user_role": self.default_user_role,
        }
        # Only what the product declares: a product without an MFA rule leaves the
        # deployment's FORGE_MFA_REQUIRED_* in force.
        if self.mfa_required_roles:
            identity["mfa_required_roles"] = list(self.mfa_required_roles)
        if self.mfa_required_permissions:
            identity["mfa_required_permissions"] = list(self.mfa_required_permissions)
        if self.audit_exclude:
            identity["audit_exclude"] = list(self.audit_exclude)
        return identity


S = TypeVar("S", bound=ProductSettings)


R = TypeVar("R", bound="ProductRuntime[Any]")

#: Subscribes a product's consumers and adds its background services to a runtime.
Registration = Callable[[Any], object]


@dataclass(frozen=True)
class Product(Generic[S, R]):
    """Everything the kit needs to run a product in every role."""

    name: str
    title: str
    version: str
    settings: Callable[[], S]
    app_factory: str
    #: Returns the product's :class:`ProductRuntime` subclass (imported only when needed).
    runtime_class: Callable[[], type[R]]
    routers: Callable[[], Sequence[APIRouter]] = tuple
    consumers: Callable[[], Sequence[Registration]] = tuple
    #: Module importing every table of the product (complete metadata for migrations).
    models: str | None = None
    migration_dirs: Sequence[Path] = field(default_factory=tuple)
    description: str = ""
    def load_models(self) -> None:
        """Import the kit's and the product's tables."""
        importlib.import_module("forgekit.models")
        if self.models:
            importlib.import_module(self.models)

    def upgrade(self, database_url: str, target: str = "heads") -> None:
        """Apply the kit's and the product's migrations (every branch head by default)."""
        from forgekit.db import migrate

        self.load_models()
        migrate.upgrade(database_url, self.migration_dirs, target)

    def downgrade(self, database_url: str, target: str = "base") -> None:
        """Revert the product's and the kit's migrations down to ``target``."""
        from forgekit.db import migrate

        self.load_models()
        migrate.downgrade(database_url, self.migration_dirs, target)

    def build_runtime(self, kit: ForgeSettings, settings: S) -> R:
        """The runtime of one process: backends, the kit's and the product's consumers."""
        # A product's key marker and default role hold even where kit settings are built
        # elsewhere (tests, benchmarks).
        kit = kit.model_copy(update=settings.identity())
        runtime = self.runtime_class().from_settings(kit, app_settings=settings)
        register_kit_consumers(runtime)
        for register in self.consumers():
            register(runtime)
        return runtime

    def create_app(
        self, kit_settings: ForgeSettings | None = None, settings: S | None = None
    ) -> FastAPI:
        """The product's API: the kit's app with the product's routers and runtime."""
        from forgekit.app import create_app

        app_settings = settings or self.settings()
        runtime = self.build_runtime(kit_settings or app_settings.kit(), app_settings)
        return create_app(
            runtime.settings,
            title=self.title,
            description=self.description,
            version=self.version,
            routers=self.routers(),
            consume_events=app_settings.inprocess_workers,
            runtime=runtime,
        )


def register_kit_consumers(runtime: Runtime) -> None:
    """Subscribe the kit's own consumers (account e-mails); audit comes with the bus."""
    from forgekit.identity import tasks as identity_tasks

    identity_tasks.register(runtime)
