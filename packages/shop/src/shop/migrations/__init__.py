"""Shop's Alembic branch (``shop``), applied on top of the kit's."""
