"""Catalogue import jobs: the uploaded CSV (in object storage), progress and the report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import JSONType, UTCDateTime


class ImportJob(UUIDPrimaryKey, TimestampMixin, Base):
    """``queued`` → ``running`` → ``done`` (or ``failed`` with ``error``); a ``running`` job
    whose heartbeat (``updated_at``) is older than the lease goes back to ``queued``
    (:mod:`shop.imports.tasks`)."""

    __tablename__ = "shop_import_jobs"
    __table_args__ = (Index("ix_shop_import_jobs_status_updated_at", "status", "updated_at"),)

    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    filename: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    csv_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Data rows in the file, rows checked so far, and the outcome.
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: ``[{"line": n, "reason": "..."}]`` of every rejected row (line 1 is the header).
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    #: Claims so far; the running attempt's number fences its writes (a superseded run's
    #: result is dropped).
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
