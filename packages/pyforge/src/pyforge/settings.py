"""PyForge's own settings (env prefix ``PYFORGE_``); backbone settings are the kit's ``FORGE_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from forgekit.product import ProductSettings


class PyForgeSettings(ProductSettings):
    """Where and how PyForge runs; every field can be set as ``PYFORGE_<NAME>``.

    ``host``, ``port``, ``data_dir``, ``api_workers`` and ``inprocess_workers`` come from the
    kit's :class:`ProductSettings`.
    """

    model_config = SettingsConfigDict(env_prefix="PYFORGE_", env_file=".env", extra="ignore")
    product_name: ClassVar[str] = "pyforge"
    api_key_prefix: ClassVar[str] = "pfk_"

    data_dir: Path = Path(".pyforge-data")

    # Notifications (pyforge.notify).
    #: Let webhooks and Slack URLs reach loopback, private and link-local addresses. Off by
    #: default: a user-supplied URL must not become a way into the internal network (SSRF).
    webhooks_allow_private_networks: bool = False
    #: Timeout of one outbound webhook/Slack request (connect, read, write, pool each).
    notify_http_timeout_s: float = 5.0
    #: Bytes of a receiver's response read at most; the rest is dropped unread.
    notify_http_max_response_bytes: int = 65_536
    #: A delivery still failing this long after it was created is marked failed.
    notify_delivery_max_age_s: float = 24 * 3600.0
    #: First retry delay; it doubles per attempt (with jitter) up to ``notify_retry_max_s``.
    notify_retry_base_s: float = 10.0
    notify_retry_max_s: float = 3600.0
    #: How often the delivery loop looks for due deliveries when nothing woke it.
    notify_delivery_poll_s: float = 1.0
    #: Deliveries performed concurrently by one process.
    notify_delivery_concurrency: int = 8
    #: Base of the links in notifications (the web UI); empty means the kit's public URL.
    notify_link_base_url: str = ""
    #: WebSocket: an application ping frame after this many seconds without traffic.
    ws_ping_interval_s: float = 20.0
    #: WebSocket: how long a client may take to authenticate with its first message.
    ws_auth_timeout_s: float = 10.0
    #: WebSocket: how often a connection's credential and project access are checked again.
    ws_recheck_interval_s: float = 60.0
    #: WebSocket: messages queued for one slow client before it is disconnected.
    ws_send_queue_size: int = 1000

    # Analyses (pyforge.analyses).
    #: Processes the engine uses for one analysis (1: one core per worker; scale by workers).
    analysis_jobs: int = 1
    #: Reuse the engine's per-file result cache (by content hash) under ``data_dir``.
    analysis_cache: bool = True
    #: How often a running analysis writes its progress (and heartbeat) to the database.
    analysis_progress_interval_s: float = 1.0
    #: Embedded mode: a running analysis without a heartbeat this long is re-queued.
    analysis_stale_after_s: float = 120.0
    #: TEST HOOK: seconds every analysis waits after it is marked running (0 in production).
    analysis_delay_s: float = 0.0
    #: Largest snippet ``POST /api/v1/analyze/code`` accepts (bytes of UTF-8 source).
    analyze_code_max_bytes: int = 200 * 1024
    #: Rate limit of ``POST /api/v1/analyze/code`` per caller.
    analyze_code_rate: str = "60/minute"

    # Branches and pull requests (pyforge.branches).
    #: Analyses of branches other than the default one older than this are purged, with the
    #: branches not analysed since; 0 keeps them forever.
    branch_retention_days: float = 30.0
    #: How often each process runs the retention purge.
    branch_retention_interval_s: float = 3600.0

    # Storage reconciliation (pyforge.files.tasks): orphan objects and partial uploads left by
    # a process that died mid-upload are removed once older than the grace period.
    storage_reconcile_interval_s: float = 3600.0
    storage_reconcile_grace_s: float = 3600.0


@lru_cache(maxsize=1)
def get_settings() -> PyForgeSettings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return PyForgeSettings()
