"""Imports every kit table so that ``Base.metadata`` is complete (migrations, tests)."""

from forgekit.events import models as _events_models  # noqa: F401
from forgekit.identity import models as _identity_models  # noqa: F401
from forgekit.identity.mfa import models as _mfa_models  # noqa: F401
