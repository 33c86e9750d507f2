"""Imports every table (kit and Shop) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
from shop.catalogue import models as _catalogue_models  # noqa: F401
