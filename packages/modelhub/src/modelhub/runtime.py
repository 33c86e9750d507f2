"""Modelhub's runtime: the kit's backends plus Modelhub's settings, typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from forgekit.runtime import ProductRuntime, runtime_dependency
from modelhub.settings import ModelhubSettings


@dataclass(kw_only=True)
class ModelhubRuntime(ProductRuntime[ModelhubSettings]):
    """The kit's runtime with Modelhub's settings."""


ModelhubRuntimeDep = Annotated[ModelhubRuntime, Depends(runtime_dependency(ModelhubRuntime))]
"""The app's runtime with Modelhub's typed fields."""
