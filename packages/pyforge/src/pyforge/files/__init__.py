"""Project files: a project's source tree, contents in object storage, rows in ``project_files``."""
