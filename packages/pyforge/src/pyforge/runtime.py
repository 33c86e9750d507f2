"""PyForge's runtime: the kit's backends plus PyForge's settings and components, typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from forgekit.runtime import ProductRuntime, runtime_dependency
from pyforge.settings import PyForgeSettings

if TYPE_CHECKING:
    from pyforge.notify.context import NotifyContext
    from pyforge.predictions.serving import MlServing


@dataclass(kw_only=True)
class PyForgeRuntime(ProductRuntime[PyForgeSettings]):
    """The kit's runtime with PyForge's settings and its notification components."""

    #: Set by :func:`pyforge.notify.tasks.register` (every role registers it).
    notify: NotifyContext | None = None
    #: Set by :func:`pyforge.predictions.tasks.register`: the models this process serves.
    ml: MlServing | None = None


PyForgeRuntimeDep = Annotated[PyForgeRuntime, Depends(runtime_dependency(PyForgeRuntime))]
"""The app's runtime with PyForge's typed fields (``runtime.app_settings``)."""
