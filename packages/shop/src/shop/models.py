"""Imports every table (kit and Shop) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
import shop.ml.models  # noqa: F401  (the ML services' tables, migration shop_0002_ml)
from shop.catalogue import models as _catalogue_models  # noqa: F401
