"""Slack incoming webhooks: the stored ``blocks`` payload POSTed to the user's Slack URL."""

from __future__ import annotations

import json

from pyforge.notify.channels.base import Channel, DeliveryJob
from pyforge.notify.crypto import SecretBox, SecretUnreadableError
from pyforge.notify.models import ChannelName
from pyforge.notify.outbound import AttemptResult, OutboundHttp


class SlackChannel(Channel):
    """Posts to Slack through the same SSRF-guarded HTTP engine as webhooks."""

    name = ChannelName.SLACK

    def __init__(self, http: OutboundHttp, box: SecretBox) -> None:
        self.http = http
        self.box = box

    async def send(self, job: DeliveryJob) -> AttemptResult:
        """POST the payload; Slack answers 200 ``ok`` or a 4xx that retrying cannot fix."""
        if not job.target:
            return AttemptResult.failure("no Slack webhook URL", retryable=False)
        try:
            url = self.box.decrypt(job.target)
        except SecretUnreadableError as exc:
            return AttemptResult.failure(str(exc), retryable=False)
        return await self.http.post_json(url, json.dumps(job.body).encode())
