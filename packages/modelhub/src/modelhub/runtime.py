"""Modelhub's runtime: the kit's backends plus Modelhub's settings, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from forgekit.inference import InferenceRuntime
from forgekit.runtime import ProductRuntime, runtime_dependency
from modelhub.settings import ModelhubSettings


def _inference() -> InferenceRuntime:
    return InferenceRuntime(namespace="modelhub")


@dataclass(kw_only=True)
class ModelhubRuntime(ProductRuntime[ModelhubSettings]):
    """The kit's runtime with Modelhub's settings and the hosted models' inference runtime."""

    inference: InferenceRuntime = field(default_factory=_inference)

    async def close(self) -> None:
        """Stop the models' batchers, then the kit's backends."""
        await self.inference.close()
        await super().close()


ModelhubRuntimeDep = Annotated[ModelhubRuntime, Depends(runtime_dependency(ModelhubRuntime))]
"""The app's runtime with Modelhub's typed fields."""
