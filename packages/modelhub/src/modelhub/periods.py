"""The reporting window of usage and analytics endpoints: ``[start, end)`` on whole hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends

from forgekit.db.base import utcnow
from forgekit.errors import Unprocessable
from modelhub.usage.repository import hour_of
from modelhub.usage.service import month_start

#: The longest report (a year of hours).
MAX_SPAN = timedelta(days=366)


def window(start: datetime | None = None, end: datetime | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` from the query (``start`` rounded down to its hour); by default this
    month so far. 422 for naive times, an empty window or one over 366 days."""
    now = utcnow()
    lo = hour_of(start) if start is not None else month_start(now)
    hi = end if end is not None else hour_of(now) + timedelta(hours=1)
    if lo.tzinfo is None or hi.tzinfo is None:
        raise Unprocessable("start and end need a time zone (e.g. 2026-12-01T00:00:00Z).")
    if not lo < hi or hi - lo > MAX_SPAN:
        raise Unprocessable("start must be before end, at most 366 days apart.")
    return lo, hi


Window = Annotated[tuple[datetime, datetime], Depends(window)]
