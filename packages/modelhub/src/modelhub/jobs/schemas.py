"""Response bodies of asynchronous jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class JobRead(BaseModel):
    """``GET /api/v1/jobs/{id}``: state, timestamps and, once succeeded, the result."""

    id: uuid.UUID
    status: str
    model: str
    version: str
    request_id: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    #: ``{"outputs": …}`` or ``{"results": […]}``, as a sync call answers.
    result: dict[str, Any] | None
    error: str | None
    callback_url: str | None


class JobCreated(JobRead):
    """The ``202`` answer; ``callback_secret`` (shown once) verifies the completion webhook's
    ``Modelhub-Signature: t=…,v1=…`` (HMAC-SHA256 over ``"{t}.{body}"``)."""

    callback_secret: str | None = None
