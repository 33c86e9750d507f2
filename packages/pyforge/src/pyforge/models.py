"""Imports every table (kit and PyForge) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
