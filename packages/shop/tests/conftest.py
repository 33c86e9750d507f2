"""Shop test configuration: the kit's backend-parametrized fixtures plus Shop's migrations."""

from pathlib import Path

import pytest
import shop.models  # noqa: F401  (complete metadata)
import shop.permissions  # noqa: F401  (Shop's roles)
from fastapi import FastAPI
from shop.db import MIGRATION_DIRS

from forgekit.settings import ForgeSettings
from forgekit.testing.fixtures import *  # noqa: F403


@pytest.fixture(scope="session")
def migration_dirs() -> list[Path]:
    return list(MIGRATION_DIRS)


@pytest.fixture
def app_factory():
    from shop.app import create_app
    from shop.settings import ShopSettings

    def build(settings: ForgeSettings) -> FastAPI:
        return create_app(
            settings, ShopSettings(_env_file=None, demo_catalogue=False, payments_fake=False)
        )

    return build
