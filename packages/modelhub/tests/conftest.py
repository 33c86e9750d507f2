"""Modelhub test configuration: the kit's backend-parametrized fixtures plus Modelhub's migrations."""

from pathlib import Path

import modelhub.models  # noqa: F401  (complete metadata)
import modelhub.permissions  # noqa: F401  (Modelhub's roles)
import pytest
from fastapi import FastAPI
from modelhub.db import MIGRATION_DIRS

from forgekit.settings import ForgeSettings
from forgekit.testing.fixtures import *  # noqa: F403
from forgekit.testing.s3 import moto_endpoint  # noqa: F401  (fixture)


@pytest.fixture(scope="session")
def migration_dirs() -> list[Path]:
    return list(MIGRATION_DIRS)


@pytest.fixture
def app_factory():
    from modelhub.app import create_app
    from modelhub.settings import ModelhubSettings

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(settings, ModelhubSettings(_env_file=None, payments_fake=False))

    return build
