"""Aquaculture test configuration: the kit's backend-parametrized fixtures plus Aquaculture's
migrations."""

from pathlib import Path

import aquaculture.models  # noqa: F401  (complete metadata)
import aquaculture.permissions  # noqa: F401  (Aquaculture's roles)
import pytest
from aquaculture.db import MIGRATION_DIRS
from fastapi import FastAPI

from forgekit.settings import ForgeSettings
from forgekit.testing.fixtures import *  # noqa: F403


@pytest.fixture(scope="session")
def migration_dirs() -> list[Path]:
    return list(MIGRATION_DIRS)


@pytest.fixture
def app_factory():
    from aquaculture.app import create_app
    from aquaculture.settings import AquacultureSettings

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings, AquacultureSettings(_env_file=None))

    return build
