"""Shop's runtime: the kit's backends with Shop's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Self

from fastapi import Depends
from prometheus_client import CollectorRegistry

from forgekit.payments import StripeAdapter
from forgekit.runtime import ProductRuntime, runtime_dependency
from forgekit.settings import ForgeSettings
from shop.cart.store import CartStore, create_cart_store
from shop.payments.local import with_local_fake
from shop.payments.service import PaymentService
from shop.settings import ShopSettings

if TYPE_CHECKING:
    from shop.ml.serving import MlServing


@dataclass(kw_only=True)
class ShopRuntime(ProductRuntime[ShopSettings]):
    """The kit's runtime with Shop's typed settings and its cart store."""

    carts: CartStore
    payments: PaymentService
    ml: MlServing | None = None  # the served ML models (shop.ml.tasks sets it at start)
    #: The API's metrics registry (served on ``/metrics``), set by the app factory.
    metrics_registry: CollectorRegistry | None = None

    @classmethod
    def from_settings(cls, settings: ForgeSettings, **fields: Any) -> Self:
        """The kit's backends plus the cart store (Redis when the kit has a Redis URL)."""
        app = with_local_fake(fields.pop("app_settings"))
        carts = create_cart_store(
            settings.redis_url or None,
            settings.effective_redis_prefix,
            app.cart_max_quantity,
            app.cart_ttl_s,
        )
        runtime = super().from_settings(
            settings, carts=carts, payments=None, app_settings=app, **fields
        )
        provider = (
            StripeAdapter(app.payments_url, app.payments_api_key.get_secret_value(),
                          app.payments_timeout_s)
            if app.payments_url else None
        )  # fmt: skip
        runtime.payments = PaymentService(runtime.db, provider)
        return runtime

    async def close(self) -> None:
        """Close the kit's backends and the cart store."""
        await super().close()
        await self.carts.close()
        if isinstance(self.payments.provider, StripeAdapter):
            await self.payments.provider.aclose()


ShopRuntimeDep = Annotated[ShopRuntime, Depends(runtime_dependency(ShopRuntime))]
"""The app's runtime with Shop's typed fields."""
