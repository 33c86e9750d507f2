"""Imports every table (kit and Aquaculture) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
from aquaculture.classifier import models as _classifier_models  # noqa: F401
from aquaculture.farms import models as _farm_models  # noqa: F401
from aquaculture.observations import models as _observation_models  # noqa: F401
from aquaculture.webhooks import models as _webhook_models  # noqa: F401
