"""Modelhub's runtime: the kit's backends plus Modelhub's settings, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Self

from fastapi import Depends

from forgekit.inference import InferenceRuntime
from forgekit.runtime import ProductRuntime, runtime_dependency
from forgekit.settings import ForgeSettings
from modelhub.settings import ModelhubSettings


def _inference() -> InferenceRuntime:
    return InferenceRuntime(namespace="modelhub")


@dataclass(kw_only=True)
class ModelhubRuntime(ProductRuntime[ModelhubSettings]):
    """The kit's runtime with Modelhub's settings and the hosted models' inference runtime."""

    inference: InferenceRuntime = field(default_factory=_inference)

    @classmethod
    def from_settings(cls, settings: ForgeSettings, **fields: Any) -> Self:
        """The kit's backends; with no payment provider configured, the local fake's
        address (modelhub.billing.local starts it) so payments work out of the box."""
        from modelhub.billing.local import with_local_fake

        if "app_settings" in fields:
            fields["app_settings"] = with_local_fake(fields["app_settings"])
        return super().from_settings(settings, **fields)

    async def close(self) -> None:
        """Stop the models' batchers, then the kit's backends."""
        await self.inference.close()
        await super().close()


ModelhubRuntimeDep = Annotated[ModelhubRuntime, Depends(runtime_dependency(ModelhubRuntime))]
"""The app's runtime with Modelhub's typed fields."""
