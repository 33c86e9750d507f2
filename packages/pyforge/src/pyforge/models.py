"""Imports every table (kit and PyForge) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
from pyforge.analyses import models as _analyses_models  # noqa: F401
from pyforge.branches import models as _branches_models  # noqa: F401
from pyforge.files import models as _files_models  # noqa: F401
from pyforge.notify import models as _notify_models  # noqa: F401
from pyforge.predictions import models as _predictions_models  # noqa: F401
from pyforge.projects import models as _projects_models  # noqa: F401
