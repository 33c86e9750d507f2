"""PyForge test configuration: the kit's backend-parametrized fixtures plus PyForge's migrations."""

from pathlib import Path

import pytest
from fastapi import FastAPI

import pyforge.models  # noqa: F401  (complete metadata)
from forgekit.settings import ForgeSettings
from forgekit.testing.fixtures import *  # noqa: F403
from pyforge.db import MIGRATION_DIRS


@pytest.fixture(scope="session")
def migration_dirs() -> list[Path]:
    return list(MIGRATION_DIRS)


@pytest.fixture
def app_factory():
    from pyforge.app import create_app

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings)

    return build
