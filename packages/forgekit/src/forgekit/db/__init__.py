"""Database layer: SQLAlchemy 2 async on SQLite (embedded) or PostgreSQL."""

from forgekit.db.base import Base, SoftDeleteMixin, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.engine import Database
from forgekit.db.repository import Repository

__all__ = [
    "Base",
    "Database",
    "Repository",
    "SoftDeleteMixin",
    "TimestampMixin",
    "UUIDPrimaryKey",
    "utcnow",
]
