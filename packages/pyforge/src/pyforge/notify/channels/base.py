"""The channel interface."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from pyforge.notify.models import ChannelName
from pyforge.notify.outbound import AttemptResult


@dataclass(frozen=True)
class DeliveryJob:
    """What a channel needs to send one delivery, read from the log before the attempt."""

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    channel: str
    attempt: int
    target: str | None
    body: dict[str, Any]
    #: The webhook's URL and encrypted secret (webhook channel only).
    webhook_url: str | None = None
    webhook_secret_encrypted: str | None = None


class Channel(ABC):
    """Sends one delivery; never raises for failures it can classify."""

    name: ClassVar[ChannelName]

    @abstractmethod
    async def send(self, job: DeliveryJob) -> AttemptResult:
        """Try to deliver ``job`` once and say whether it worked and whether to retry."""

    async def aclose(self) -> None:  # noqa: B027 (optional hook, most channels hold nothing)
        """Release connections held by the channel."""
