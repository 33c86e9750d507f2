"""Imports every table (kit and Shop) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
import shop.ml.models  # noqa: F401  (the ML services' tables, migration shop_0002_ml)
from shop.accounts import models as _account_models  # noqa: F401
from shop.analytics import models as _analytics_models  # noqa: F401
from shop.catalogue import models as _catalogue_models  # noqa: F401
from shop.checkout import models as _checkout_models  # noqa: F401
from shop.gallery import models as _gallery_models  # noqa: F401
from shop.imports import models as _import_models  # noqa: F401
from shop.inventory import models as _inventory_models  # noqa: F401
from shop.invoices import models as _invoice_models  # noqa: F401
from shop.orders import models as _order_models  # noqa: F401
from shop.payments import models as _payment_models  # noqa: F401
from shop.reviews import models as _review_models  # noqa: F401
