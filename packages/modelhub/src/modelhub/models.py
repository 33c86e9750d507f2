"""Imports every table (kit and Modelhub) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
from modelhub.billing import models as _billing_models  # noqa: F401
from modelhub.grants import models as _grants_models  # noqa: F401
from modelhub.jobs import models as _jobs_models  # noqa: F401
from modelhub.purchases import models as _purchases_models  # noqa: F401
from modelhub.registry import models as _registry_models  # noqa: F401
from modelhub.reviews import models as _reviews_models  # noqa: F401
from modelhub.uploads import models as _uploads_models  # noqa: F401
from modelhub.usage import models as _usage_models  # noqa: F401
from modelhub.versions import models as _versions_models  # noqa: F401
