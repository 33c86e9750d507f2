"""Projects: the unit that owns files, analyses and settings, and carries access rules."""
