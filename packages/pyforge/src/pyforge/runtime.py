"""PyForge's runtime: the kit's backends plus PyForge's event consumers, for every role."""

from __future__ import annotations

from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings


def build_runtime(settings: ForgeSettings) -> Runtime:
    """Backends and consumers shared by ``pyforge serve`` and ``pyforge worker``."""
    return Runtime.from_settings(settings)
