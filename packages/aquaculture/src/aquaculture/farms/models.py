"""Farms (a kit team plus a location), their sites, and the tanks or pens of each site."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey


class Farm(TimestampMixin, Base):
    """A farm's product data; its id is its team's id (members and roles live in the kit)."""

    __tablename__ = "aqua_farms"

    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Site(UUIDPrimaryKey, TimestampMixin, Base):
    """A place of a farm holding tanks or pens."""

    __tablename__ = "aqua_sites"
    __table_args__ = (UniqueConstraint("farm_id", "name"),)

    farm_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_farms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Tank(UUIDPrimaryKey, TimestampMixin, Base):
    """A tank (on land) or a pen (at sea) of a site; observations are made of one."""

    __tablename__ = "aqua_tanks"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    site_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_sites.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Denormalised from the site: every authorisation check starts from the farm.
    farm_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_farms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False, default="tank")
