"""Live messages over WebSocket for any product.

:mod:`~forgekit.live.hub` fans messages out to subscribers in every API process (Redis
pub/sub under the runtime's key prefix, or in memory when embedded);
:mod:`~forgekit.live.websocket` runs the connection (authentication by header, ``?token=`` or a
first message; pings; a bounded send queue; periodic credential and access re-checks). The
product says what a subscription means and who may hold it (:class:`LiveTopics`).
"""

from forgekit.live.hub import (
    InProcessLiveHub,
    LiveHub,
    LiveSubscriber,
    RedisLiveHub,
    create_live_hub,
)
from forgekit.live.websocket import LiveConnection, LiveSettings, LiveTopics, serve_websocket

__all__ = [
    "InProcessLiveHub",
    "LiveConnection",
    "LiveHub",
    "LiveSettings",
    "LiveSubscriber",
    "LiveTopics",
    "RedisLiveHub",
    "create_live_hub",
    "serve_websocket",
]
