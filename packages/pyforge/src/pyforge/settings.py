"""PyForge's own settings (env prefix ``PYFORGE_``); backbone settings are the kit's ``FORGE_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from forgekit.settings import ForgeSettings
from pydantic_settings import BaseSettings, SettingsConfigDict


class PyForgeSettings(BaseSettings):
    """Where and how PyForge runs; every field can be set as ``PYFORGE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PYFORGE_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".pyforge-data")
    api_workers: int = 1
    #: Run event consumers (analysis, notifications) inside the API process. True by default so
    #: one command gives a working platform; production runs ``pyforge worker`` instead.
    inprocess_workers: bool = True

    def kit(self) -> ForgeSettings:
        """The kit's settings for this deployment (data in ``data_dir``)."""
        return ForgeSettings.for_product(
            "pyforge", self.data_dir, public_url=f"http://{self.host}:{self.port}"
        )


@lru_cache(maxsize=1)
def get_settings() -> PyForgeSettings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return PyForgeSettings()
