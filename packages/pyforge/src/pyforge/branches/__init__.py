"""Branches and pull requests of a project, and the project's new-code period."""
