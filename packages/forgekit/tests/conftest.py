"""Kit test configuration: backend-parametrized fixtures from forgekit.testing."""

import forgekit.models  # noqa: F401  (complete metadata for migrations)
import forgekit.testing.sample  # noqa: F401  (declares a sample product's permissions)
from forgekit.testing.fixtures import *  # noqa: F403
from forgekit.testing.s3 import moto_endpoint  # noqa: F401  (fixture)
