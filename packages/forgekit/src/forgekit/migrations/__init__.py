"""Alembic environment and the kit's revisions (branch ``forgekit``)."""
