"""Shop's runtime: the kit's backends with Shop's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from forgekit.runtime import ProductRuntime, runtime_dependency
from shop.settings import ShopSettings

if TYPE_CHECKING:
    from shop.ml.serving import MlServing


@dataclass(kw_only=True)
class ShopRuntime(ProductRuntime[ShopSettings]):
    """The kit's runtime with Shop's typed settings."""

    ml: MlServing | None = None  # the served ML models (shop.ml.tasks sets it at start)


ShopRuntimeDep = Annotated[ShopRuntime, Depends(runtime_dependency(ShopRuntime))]
"""The app's runtime with Shop's typed fields."""
