"""Kit test configuration: backend-parametrized fixtures from forgekit.testing."""

import forgekit.models  # noqa: F401  (complete metadata for migrations)
from forgekit.testing.fixtures import *  # noqa: F403
