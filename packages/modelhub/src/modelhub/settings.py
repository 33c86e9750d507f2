"""Modelhub's own settings (env prefix ``MODELHUB_``); the backbone's are the kit's ``FORGE_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from forgekit.product import ProductSettings


class ModelhubSettings(ProductSettings):
    """Where and how Modelhub runs; every field can be set as ``MODELHUB_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MODELHUB_", env_file=".env", extra="ignore")
    product_name: ClassVar[str] = "modelhub"
    #: The seed's API-key marker.
    api_key_prefix: ClassVar[str] = "aimpk_"
    #: Self-registered accounts are consumers; publishing needs the publisher role.
    default_user_role: ClassVar[str] = "consumer"
    #: One ``usage.recorded`` per billable call: the usage tables are its record, an audit
    #: row per inference call would double the metering writes.
    audit_exclude: ClassVar[tuple[str, ...]] = ("usage.recorded",)

    port: int = 8001
    data_dir: Path = Path(".modelhub-data")
    #: Largest page of a listing.
    max_page_size: int = 100

    # Uploads (modelhub.uploads).
    #: Largest model file.
    upload_max_bytes: int = 2 * 1024**3
    #: Chunk size when the client names none, and the bounds it may choose within.
    upload_chunk_bytes: int = 8 * 1024**2
    upload_min_chunk_bytes: int = 64 * 1024
    upload_max_chunk_bytes: int = 32 * 1024**2
    #: An upload not completed this long after it was created expires (its chunks deleted).
    upload_ttl_s: int = 24 * 3600
    #: How often the janitor looks for expired uploads.
    upload_janitor_interval_s: float = 300.0
    #: Bytes of completed uploads one publisher may hold.
    publisher_quota_bytes: int = 20 * 1024**3

    # Conversion of TorchScript and scikit-learn files to ONNX (modelhub.versions.convert).
    #: Convert at all (off: such files are stored as unsupported for hosted inference).
    convert_enabled: bool = True
    #: CPU seconds, wall seconds and address space one conversion may use.
    convert_cpu_s: int = 60
    convert_wall_s: float = 120.0
    convert_memory_bytes: int = 4 * 1024**3
    #: Modules the sandbox treats as not installed (switches a converter off; tests).
    convert_unavailable: list[str] = []

    # Hosted inference (modelhub.inference); the runtime's own knobs are FORGE_INFERENCE_*.
    #: Calls one API key (or login) may make per model, GCRA: bursts up to the count.
    infer_rate: str = "600/minute"
    #: Most values (over all inputs and instances) one call may send.
    infer_max_elements: int = 1_000_000
    #: How long a deterministic model's answer is served from the cache.
    infer_cache_ttl_s: int = 3600

    # Money (modelhub.analytics): prices are in this currency's major units.
    currency: str = "usd"
    #: The publisher's share of what their models earn, in basis points (8000 = 80 %).
    publisher_share_bps: int = 8000

    # Purchases (modelhub.purchases) through a Stripe-compatible provider (forgekit.payments).
    #: The provider's API (empty: purchases answer 503 until one is configured).
    payments_base_url: str = ""
    payments_api_key: str = ""
    payments_timeout_s: float = 10.0
    #: The secret the provider signs webhooks with (empty: every delivery is refused, 400).
    payments_webhook_secret: str = ""
    #: Subscription plans: name → monthly price in minor units of ``currency``.
    subscription_plans: dict[str, int] = {"starter": 900, "pro": 2900}
    #: Tests only: the saga's worker hangs before this step (so a test can kill it there).
    saga_halt_before: str = ""
    #: With no ``payments_base_url``: start the kit's fake provider on this port and pay
    #: through it (what ``make run APP=modelhub`` does; modelhub.billing.local).
    payments_fake: bool = True
    payments_fake_port: int = 8101

    # Billing (modelhub.billing): monthly usage invoices, dunning, publisher payouts.
    #: How often the billing job looks for work (invoices of last month, due retries,
    #: payouts); 0 turns it off (then ``modelhub billing ...`` runs it by hand).
    billing_interval_s: float = 3600.0
    #: Seconds after start-up before the job's first pass (lets a fresh deployment settle).
    billing_first_delay_s: float = 30.0
    #: Seconds after the first failed charge at which it is retried (days 1, 3 and 7);
    #: after the last retry fails the invoice is uncollectible and paid access suspended.
    billing_retry_schedule_s: list[int] = [86_400, 3 * 86_400, 7 * 86_400]
    #: A publisher's balance is paid out once it reaches this (minor units of ``currency``).
    payout_threshold: int = 5000

    # Asynchronous jobs (modelhub.jobs).
    #: How long a finished job and its result are kept.
    job_retention_s: int = 7 * 24 * 3600
    #: How often the janitor deletes expired jobs.
    job_janitor_interval_s: float = 300.0
    #: Tests only: the job runner hangs once a job is running (so a test can kill it there).
    job_halt_when_running: bool = False
    #: Completion webhooks may target private networks (tests, on-premise installs only).
    callbacks_allow_private_networks: bool = False
    callback_timeout_s: float = 10.0


@lru_cache(maxsize=1)
def get_settings() -> ModelhubSettings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return ModelhubSettings()
