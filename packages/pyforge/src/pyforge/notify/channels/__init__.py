"""Delivery channels behind one small interface (:class:`Channel`).

A channel sends one logged delivery and reports an :class:`AttemptResult`; the delivery loop
owns retries, backoff and the log. Email, Slack and webhooks are channels; live WebSocket
events are not logged deliveries and go through :mod:`pyforge.notify.live` instead.
"""

from pyforge.notify.channels.base import Channel, DeliveryJob
from pyforge.notify.channels.email import EmailChannel
from pyforge.notify.channels.slack import SlackChannel
from pyforge.notify.channels.webhook import WebhookChannel, webhook_body

__all__ = [
    "Channel",
    "DeliveryJob",
    "EmailChannel",
    "SlackChannel",
    "WebhookChannel",
    "webhook_body",
]
