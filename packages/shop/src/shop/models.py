"""Imports every table (kit and Shop) so that ``Base.metadata`` is complete."""

import forgekit.models  # noqa: F401
